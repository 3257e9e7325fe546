"""The few REST calls the helpline makes to Twilio, all here: an SMS that is not a reply to
a webhook (alerts to representatives), and deleting a recording past its retention.

``TWILIO_API_BASE`` points the client at another host (a local stand-in in the tests);
the Twilio library still builds every request.
"""
from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 5


class _RebasedHttpClient(TwilioHttpClient):
    def __init__(self, base: str):
        super().__init__(timeout=TIMEOUT_SECONDS)
        self.base = base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


class TwilioApi:
    def __init__(self, account_sid: str, auth_token: str, sender: str, base: str = ""):
        http = _RebasedHttpClient(base) if base else TwilioHttpClient(timeout=TIMEOUT_SECONDS)
        self.client = Client(account_sid, auth_token, http_client=http) if account_sid else None
        self.sender = sender

    @property
    def ready(self) -> bool:
        return self.client is not None and bool(self.sender)

    def send_sms(self, to: str, body: str) -> bool:
        """True when Twilio accepted the message; failures are logged without the number."""
        if not self.ready:
            log.warning("an SMS alert was not sent: TWILIO_ACCOUNT_SID or HELPLINE_NUMBER unset")
            return False
        try:
            self.client.messages.create(to=to, from_=self.sender, body=body)
            return True
        except (TwilioException, OSError) as exc:
            log.error("an SMS alert could not be sent: %s", type(exc).__name__)
            return False

    def delete_recording(self, recording_sid: str) -> bool:
        if self.client is None or not recording_sid:
            return False
        try:
            return bool(self.client.recordings(recording_sid).delete())
        except (TwilioException, OSError) as exc:
            log.error("recording %s could not be deleted: %s", recording_sid, type(exc).__name__)
            return False
