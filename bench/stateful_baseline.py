"""The stateful floor: the static baseline (``bench/baseline.py``) plus the least a stateful
helpline webhook must do, so the benchmark can tell what the database costs from what the
app adds on top of it.

Each webhook runs one transaction on the app's database: the ``MessageSid`` (a text) or the
``CallSid`` and step (a call) is inserted with ON CONFLICT DO NOTHING, so a retry acts once;
then the sender's session row, keyed by a keyed HMAC of the ``From`` number, is upserted
(a small JSON state, a turn count, ``updated_at``). Then one static TwiML document. SQLAlchemy
Core with statements built at start-up; SQLite with the app's connection settings (WAL,
``synchronous=NORMAL``, ``BEGIN IMMEDIATE``, writers queued on a lock file), PostgreSQL
through psycopg with the app's pool settings. Its tables are its own, created at start-up.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import threading
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine import Engine, make_url
from twilio.request_validator import RequestValidator

from .baseline import SMS, VOICE

# A retry's answer, as the app gives it: nothing is sent again.
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
STATE = {"lang": "en", "node": "main", "step": 0}

metadata = MetaData()
receipts = Table("bench_receipts", metadata,
                 Column("sid", String(64), primary_key=True),
                 Column("at", DateTime, nullable=False))
sessions = Table("bench_sessions", metadata,
                 Column("channel", String(8), primary_key=True),
                 Column("number_hash", String(64), primary_key=True),
                 Column("state", JSON),
                 Column("turns", Integer, nullable=False),
                 Column("updated_at", DateTime, nullable=False, index=True))


def engine_for(raw_url: str) -> Engine:
    """The app's engine settings for this URL (helpline/store.py, Store.__init__)."""
    url = raw_url
    for prefix in ("postgres://", "postgresql://"):
        if raw_url.startswith(prefix):
            url = "postgresql+psycopg://" + raw_url[len(prefix):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} -c statement_timeout=1500"
    return create_engine(parsed.difference_update_query(["options"]), pool_pre_ping=True,
                         pool_size=5, max_overflow=5, pool_timeout=2,
                         connect_args={"connect_timeout": 2, "options": options.strip()})


def _sqlite_connect(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def create_tables(engine: Engine) -> None:
    """Once, whichever worker comes first (gunicorn starts them together)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(1717)"))
        metadata.create_all(conn)


def keyed_hash(key: bytes, number: str) -> str:
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


class Writers:
    """SQLite's writers queued in order, as the app queues them: threads on a lock,
    processes on a lock file beside the database."""

    def __init__(self, path: str):
        self.mutex = threading.Lock()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def turn(self):
        with self.mutex:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


class Webhook:
    """The one transaction of a webhook, its statements built once."""

    def __init__(self, engine: Engine, hash_key: str):
        self.engine, self.key = engine, hash_key.encode()
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        self.receipt = (upsert(receipts).values(sid=bindparam("sid"), at=bindparam("at"))
                        .on_conflict_do_nothing(index_elements=["sid"]).returning(receipts.c.sid))
        new = upsert(sessions).values(channel=bindparam("channel"), number_hash=bindparam("number_hash"),
                                      state=bindparam("state"), turns=1, updated_at=bindparam("at"))
        self.session = new.on_conflict_do_update(
            index_elements=["channel", "number_hash"],
            set_={"state": new.excluded.state, "turns": sessions.c.turns + 1,
                  "updated_at": new.excluded.updated_at})
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.writers = Writers(database + ".lock") if database and database != ":memory:" else None

    def act(self, channel: str, sid: str, number: str) -> bool:
        """True the first time ``sid`` is seen (the session then moved on a turn)."""
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.writers.turn() if self.writers else nullcontext(), self.engine.begin() as conn:
            if conn.execute(self.receipt, {"sid": sid[:64], "at": now}).first() is None:
                return False
            conn.execute(self.session, {"channel": channel, "number_hash": keyed_hash(self.key, number),
                                        "state": STATE, "at": now})
        return True


def create_app() -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    engine = engine_for(os.environ["DATABASE_URL"])
    create_tables(engine)
    webhook = Webhook(engine, os.environ["HELPLINE_HASH_KEY"])
    app.extensions["stateful_baseline"] = webhook

    def answer(channel: str, sid: str, body: str) -> Response:
        form = request.form
        if not validator.validate(request.url, form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        if not sid or not form.get("From"):
            abort(400)
        first = webhook.act(channel, sid, form["From"])
        return Response(body if first else EMPTY, mimetype="text/xml")

    @app.post("/sms")
    def sms():
        return answer("sms", request.form.get("MessageSid", ""), SMS)

    @app.post("/voice")
    @app.post("/voice/step")
    def voice():
        call = request.form.get("CallSid", "")
        return answer("voice", call and f"{call}/{request.args.get('s', '0')}", VOICE)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def seed(raw_url: str, count: int, hash_key: str) -> None:
    """``count`` idle sessions and receipts in its own tables, as the app's store is seeded."""
    engine = engine_for(raw_url)
    create_tables(engine)
    key = hash_key.encode()
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            stop = min(count, start + 5000)
            conn.execute(insert(sessions), [
                dict(channel="sms" if i % 4 != 3 else "voice",
                     number_hash=keyed_hash(key, f"+1303{i:07d}"), state=STATE, turns=1, updated_at=now)
                for i in range(start, stop)])
            conn.execute(insert(receipts), [dict(sid=f"SM{i:032x}", at=now) for i in range(start, stop)])
    engine.dispose()
