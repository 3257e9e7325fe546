"""Twilio's side of the webhooks, for the simulator: signed POSTs to the app, its TwiML read back."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

BASE_URL = "http://localhost"


class SimulateError(Exception):
    """The simulation cannot go on; the message says why."""


class Twilio:
    """Posts to the app as Twilio would: form-encoded and signed with the app's token."""

    def __init__(self, app, token: str):
        self.app = app
        self.client = app.test_client()
        self.validator = RequestValidator(token)
        self.number = app.config["HELPLINE_NUMBER"]

    def post(self, url: str, data: dict) -> ET.Element:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(BASE_URL + path, data)
        response = self.client.post(path, data=data, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise SimulateError(f"POST {path} was answered {response.status_code}")
        return ET.fromstring(response.data)
