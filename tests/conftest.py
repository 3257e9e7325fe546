"""Fixtures: an app on a fresh SQLite file, and a stand-in for Twilio that signs every
request it posts with the real RequestValidator, as Twilio does."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from helpline import create_app

TOKEN = "test-auth-token-0123456789abcdef"
TEXTER = "+15555550123"
CALLER = "+15555550188"


def settings(tmp_path, **overrides) -> dict:
    base = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "HELPLINE_HASH_KEY": "test-hash-key-" + "x" * 32,
        "HELPLINE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/helpline.sqlite3",
        "HELPLINE_DEV_MODE": False,
    }
    base.update(overrides)
    return base


@pytest.fixture
def make_app(tmp_path):
    def make(**overrides):
        return create_app(settings(tmp_path, **overrides))
    return make


@pytest.fixture
def app(make_app):
    return make_app()


class Twilio:
    """Posts webhooks the way Twilio does: form-encoded, signed over URL and parameters."""

    def __init__(self, client, token: str = TOKEN, base: str = "http://localhost"):
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base

    def post(self, path: str, data: dict, headers: dict | None = None, **kwargs):
        signature = self.validator.compute_signature(self.base + path, data)
        return self.client.post(path, data=data,
                                headers={"X-Twilio-Signature": signature, **(headers or {})},
                                **kwargs)

    def sms(self, body: str | None, number: str = TEXTER, **extra):
        data = {"From": number, "To": "+15555550100", "MessageSid": "SM" + "0" * 32, **extra}
        if body is not None:
            data["Body"] = body
        return self.post("/sms", data)

    def text(self, body: str, number: str = TEXTER) -> str:
        """The reply's text ("" when nothing is sent)."""
        response = self.sms(body, number)
        assert response.status_code == 200, response.data
        return "\n".join(m.text or "" for m in twiml(response).iter("Message"))

    def call(self, path: str = "/voice", call_sid: str = "CA" + "1" * 32, **data):
        return self.post(path, {"CallSid": call_sid, "From": CALLER, **data})


def twiml(response) -> ET.Element:
    assert response.mimetype == "text/xml", response.mimetype
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


@pytest.fixture
def twilio(app):
    return Twilio(app.test_client())
