"""Fixtures: an app on a fresh SQLite file, and a stand-in for Twilio that signs every
request it posts with the real RequestValidator, as Twilio does."""
from __future__ import annotations

import functools
import os
import uuid
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from helpline import create_app

TOKEN = "test-auth-token-0123456789abcdef"
# Numbers a callback may dial (valid US lines; 555-01XX is reserved for fiction).
TEXTER = "+12025550123"
CALLER = "+12025550188"


def settings(tmp_path, **overrides) -> dict:
    base = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "HELPLINE_HASH_KEY": "test-hash-key-" + "x" * 32,
        "HELPLINE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/helpline.sqlite3",
        "SPOOL_PATH": f"{tmp_path}/spool.jsonl",
        "HELPLINE_DEV_MODE": False,
        "HELPLINE_NUMBER": "+15555550100",
    }
    base.update(overrides)
    return base


PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_available() -> bool:
    try:
        with create_engine(PG_URL, connect_args={"connect_timeout": 2}).connect():
            return True
    except SQLAlchemyError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every app test runs on SQLite and on the machine's real PostgreSQL, each PostgreSQL
    test in a schema of its own that is dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/helpline.sqlite3"
        return
    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (.ci/run starts it)")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def make_app(tmp_path, database_url):
    apps = []

    def make(**overrides):
        app = create_app(settings(tmp_path, **{"DATABASE_URL": database_url, **overrides}))
        apps.append(app)
        return app
    yield make
    for app in apps:
        if "helpline" in app.extensions:
            app.extensions["helpline"].store.engine.dispose()


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
        data = {"From": number, "To": "+15555550100", "MessageSid": "SM" + uuid.uuid4().hex, **extra}
        account = self.client.application.config["TWILIO_ACCOUNT_SID"]
        if account:
            data.setdefault("AccountSid", account)
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
