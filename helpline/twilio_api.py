"""The few REST calls the helpline makes to Twilio, all here: an SMS that is not a reply to
a webhook (alerts to representatives), and deleting a recording past its retention.

``TWILIO_API_BASE`` points the client at another host (a local stand-in in the tests);
the Twilio library still builds every request. Only the worker and ``purge`` make these
calls, so the REST client is loaded at the first one: a web worker never holds it.
"""
from __future__ import annotations

import logging
from functools import cached_property

from twilio.base.exceptions import TwilioException, TwilioRestException

log = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 5
SENT, RETRY, FAILED = "sent", "retry", "failed"


def _http_client(base: str):
    """Twilio's HTTP client (it brings requests, which a web worker does not load), sending
    to ``base`` instead of api.twilio.com when it is set."""
    from twilio.http.http_client import TwilioHttpClient

    class RebasedHttpClient(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            if url.startswith(TWILIO_API):
                url = base.rstrip("/") + url[len(TWILIO_API):]
            return super().request(method, url, *args, **kwargs)

    return (RebasedHttpClient if base else TwilioHttpClient)(timeout=TIMEOUT_SECONDS)


class TwilioApi:
    def __init__(self, account_sid: str, auth_token: str, sender: str, base: str = ""):
        self.account_sid, self.auth_token, self.base = account_sid, auth_token, base
        self.sender = sender

    @cached_property
    def client(self):
        if not self.account_sid:
            return None
        from twilio.rest import Client

        return Client(self.account_sid, self.auth_token, http_client=_http_client(self.base))

    @property
    def ready(self) -> bool:
        return self.client is not None and bool(self.sender)

    def send_sms(self, to: str, body: str) -> str:
        """SENT when Twilio accepted the message; RETRY when it may yet (429, 5xx, no
        answer); FAILED when it never will. Logged without the number or the text."""
        if not self.ready:
            log.warning("an SMS was not sent: TWILIO_ACCOUNT_SID or HELPLINE_NUMBER unset")
            return FAILED
        try:
            self.client.messages.create(to=to, from_=self.sender, body=body)
            return SENT
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                log.warning("Twilio answered %s to an SMS: it will be tried again", exc.status)
                return RETRY
            log.error("Twilio refused an SMS: %s (error %s)", exc.status, exc.code)
            return FAILED
        except (TwilioException, OSError) as exc:
            log.warning("an SMS could not reach Twilio (%s): it will be tried again",
                        type(exc).__name__)
            return RETRY

    def delete_recording(self, recording_sid: str) -> bool:
        if self.client is None or not recording_sid:
            return False
        try:
            return bool(self.client.recordings(recording_sid).delete())
        except (TwilioException, OSError) as exc:
            log.error("recording %s could not be deleted: %s", recording_sid, type(exc).__name__)
            return False
