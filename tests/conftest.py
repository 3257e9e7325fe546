"""Fixtures: an app on a fresh SQLite file, and a stand-in for Twilio that signs every
request it posts with the real RequestValidator, as Twilio does."""
from __future__ import annotations

import functools
import os
import shutil
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask.cli import FlaskGroup
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from helpline import create_app
from helpline.config import from_environment
from helpline.migrate import upgrade
from helpline.store import Store

from .content_copy import Copy
from .pgproxy import PgProxy
from .twilio_standin import TwilioStandIn


class _Reads(dict):
    """Records each name the settings ask the environment for."""

    def get(self, name, default=None):
        self[name] = default
        return default


def _forget_the_developers_settings() -> None:
    """The suite never reads the developer's settings: every variable the app reads is removed
    from this process's environment, and FLASK_SKIP_DOTENV keeps `flask` (here and in every
    subprocess) from loading a `.env` into it."""
    reads = _Reads()
    from_environment(reads, "instance")
    for name in list(os.environ):
        if name in reads or name == "LOG_LEVEL" or name.startswith(
                ("HELPLINE_", "TWILIO_", "STAFF_", "FLASK_")):
            del os.environ[name]
    os.environ["FLASK_SKIP_DOTENV"] = "1"


_forget_the_developers_settings()

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
        "QUEUE_PATH": f"{tmp_path}/queue.sqlite3",
        "QUEUE_IMMEDIATE": True,  # tasks run at once; timers when the test's clock says
    }
    base.update(overrides)
    return base


def flask_cli(tmp_path, **overrides) -> FlaskGroup:
    """The `flask` command line, building the app as `flask --app helpline` does."""
    return FlaskGroup(create_app=lambda: create_app(settings(tmp_path, **overrides)))


PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_available() -> bool:
    probe = create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with probe.connect():
            return True
    except SQLAlchemyError:
        return False
    finally:
        probe.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session by the app's own Store; each test gets a
    copy of it, so no test pays for the migrations and no two tests share a database."""
    path = tmp_path_factory.mktemp("migrated") / "helpline.sqlite3"
    store = Store(f"sqlite:///{path}")
    assert store.migrate()
    store.engine.dispose()  # the last connection folds the WAL back into the file
    return path


@pytest.fixture(scope="session")
def postgres_admin():
    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (.ci/run starts it)")
    admin = create_engine(PG_URL)
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def migration_sql(postgres_admin) -> str:
    """The migrations run once per session by the app's own upgrade() into a schema of
    their own, every statement that changes the schema recorded (its look-ups are not),
    to be replayed into each test's fresh schema: the same schema, built in milliseconds."""
    admin = postgres_admin
    schema = f"migrated_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    recorded = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SELECT", "SHOW")):
            assert not parameters, f"a migration statement with parameters: {statement}"
            recorded.append(statement.strip())

    try:
        upgrade(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    return ";\n".join(recorded)


@pytest.fixture
def cut_postgres(postgres_admin):
    """(proxy, URL): a schema of its own on the real PostgreSQL, reached through a proxy the
    test can cut (tests/pgproxy.py); dropped afterwards. Not migrated: the app does that."""
    proxy = PgProxy().start()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield proxy, f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}"
    finally:
        proxy.kill()
        with postgres_admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every app test runs on SQLite and on the machine's real PostgreSQL, each PostgreSQL
    test in a schema of its own that is dropped afterwards. Both start migrated."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "helpline.sqlite3")
        yield f"sqlite:///{tmp_path}/helpline.sqlite3"
        return
    admin = request.getfixturevalue("postgres_admin")
    migration = request.getfixturevalue("migration_sql")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.begin() as conn:
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")  # need not survive a crash
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
        conn.exec_driver_sql(migration)  # one round trip
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


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


@pytest.fixture
def standin():
    """A local stand-in for Twilio's REST API (tests/twilio_standin.py)."""
    server = TwilioStandIn()
    yield server
    server.close()


@pytest.fixture
def copy(tmp_path):
    """content/ and flows/ in a temporary folder, to be broken on purpose."""
    return Copy(tmp_path)
