"""Errors reach a person through Sentry, and nothing about a caller goes with them: a local
stand-in receives what sentry-sdk sends, and the scrubber is read directly."""
from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpline import texter
from helpline.errors import scrub

from .conftest import TEXTER, Twilio

SECRET = "my dealer is on 5th street"


class SentryStandIn:
    """Answers Sentry's envelope endpoint as Sentry does, and keeps what it was sent."""

    def __init__(self):
        self.bodies: list[str] = []
        self.got = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                stand_in.bodies.append(raw.decode())
                stand_in.got.set()
                body = json.dumps({"id": "0" * 32}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_port}/1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sentry():
    import sentry_sdk

    stand_in = SentryStandIn()
    yield stand_in
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: nothing is reported by later tests
    stand_in.close()


def test_an_error_reaches_sentry_without_the_number_or_the_message(make_app, sentry, monkeypatch):
    import sentry_sdk

    app = make_app(SENTRY_DSN=sentry.dsn)
    app.testing = False  # let Flask answer 500, as in production
    def broken(services, number, body, sid):
        raise RuntimeError(f"could not answer {number}: {body}")

    monkeypatch.setattr(texter, "receive", broken)
    response = Twilio(app.test_client()).sms(SECRET, TEXTER)
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    assert sentry.got.wait(5)
    sent = "\n".join(sentry.bodies)
    assert "RuntimeError" in sent and "incoming" in sent  # what failed, and where
    for needle in (TEXTER, TEXTER[2:], "5550123", SECRET, "dealer"):
        assert needle not in sent, needle


def test_no_dsn_reports_nothing(make_app):
    import sentry_sdk

    make_app()
    assert sentry_sdk.get_client().dsn is None


def test_the_scrubber_drops_forms_bodies_and_numbers():
    event = {
        "request": {"method": "POST", "url": "http://h/sms?From=%2B12025550123",
                    "data": {"From": "+12025550123", "Body": SECRET}, "query_string": "a=1",
                    "cookies": {"session": "x"}, "headers": {"Cookie": "session=x",
                                                             "X-Twilio-Signature": "sig",
                                                             "User-Agent": "TwilioProxy/1.1"}},
        "user": {"ip_address": "203.0.113.1"},
        "extra": {"body": SECRET},
        "message": "texter +1 (202) 555-0123 failed",
        "logentry": {"message": "failed for %s", "params": ["+12025550123"]},
        "exception": {"values": [{"type": "RuntimeError", "value": "could not text 2025550123",
                                  "stacktrace": {"frames": [{"function": "incoming",
                                                             "vars": {"body": SECRET}}]}}]},
        "breadcrumbs": {"values": [{"category": "log", "message": "to +12025550123",
                                    "data": {"body": SECRET}}]},
    }
    scrubbed = json.dumps(scrub(event))
    for needle in ("2025550123", "555-0123", SECRET, "session", "203.0.113.1", "sig"):
        assert needle not in scrubbed, needle
    assert "RuntimeError" in scrubbed and "incoming" in scrubbed and "TwilioProxy" in scrubbed
