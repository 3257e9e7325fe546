"""The tables and the few queries the app needs, on SQLAlchemy 2.

Phone numbers never reach this module in clear: rows are keyed by a keyed hash
(see :mod:`helpline.security`). Every webhook runs in one short transaction that locks the
rows it changes, so two messages from one number at the same moment cannot lose an update.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Naive UTC, the one form both SQLite and PostgreSQL hand back unchanged."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """What outlives a conversation: opt-out and language, per hashed number."""

    __tablename__ = "contacts"
    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str | None] = mapped_column(String(8))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # Rate limit: messages counted in a one-minute window, and whether the notice was sent.
    window_start: Mapped[datetime | None] = mapped_column(DateTime)
    window_count: Mapped[int] = mapped_column(Integer, default=0)
    limit_noticed: Mapped[bool] = mapped_column(Boolean, default=False)


class Conversation(Base):
    """One texter's or one call's place in the flow. SMS: key = number hash; voice: CallSid."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Representative(Base):
    """A person who takes calls and texts on their own phone. The number is kept encrypted
    (it must be dialled) and hashed (to recognise their texts and calls)."""

    __tablename__ = "representatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_encrypted: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(80))
    # On duty when inside a shift or texted ON (on_duty), unless texted OFF during a shift
    # (off_until: the end of that shift). See Roster.is_on_duty.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    off_until: Mapped[datetime | None] = mapped_column(DateTime)
    languages: Mapped[str] = mapped_column(String(40), default="en", server_default="en")
    on_call: Mapped[str | None] = mapped_column(String(64))
    on_call_since: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # A keyed hash of the passcode asked for when they call in: caller ID alone is forgeable.
    passcode_hash: Mapped[str | None] = mapped_column(String(64))


class AuthFailure(Base):
    """A wrong passcode or dialback PIN, counted across calls (see :mod:`helpline.lockout`)."""

    __tablename__ = "rep_auth_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    rep_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10))


class Shift(Base):
    """A weekly shift in the helpline's time zone; end before start runs over midnight."""

    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("representatives.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))


class Chat(Base):
    """A texter relayed to a representative. The texter's number is kept encrypted only
    while the chat is open; the texts relayed are never kept, only counts and times. What
    the texter wrote while waiting is kept encrypted until accepted (:mod:`helpline.kept`)."""

    __tablename__ = "chats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    texter_hash: Mapped[str] = mapped_column(String(64), index=True)
    texter_encrypted: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), index=True)  # waiting, active, ended
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("representatives.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    texter_messages: Mapped[int] = mapped_column(Integer, default=0)
    rep_messages: Mapped[int] = mapped_column(Integer, default=0)
    told_waiting: Mapped[bool] = mapped_column(Boolean, default=False)
    # Offered to representatives who speak the texter's language first; everyone after.
    offered_to_all: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    kept_encrypted: Mapped[str | None] = mapped_column(Text)
    # The worker's timers (helpline.waiting): reminders sent, coordinators told, and for an
    # open chat the last message either way and whether the representative was asked.
    reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    idle_asked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class Voicemail(Base):
    __tablename__ = "voicemails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str] = mapped_column(Text)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class Callback(Base):
    """A request to be called back (or a voicemail to return): the one record that keeps a
    caller's number, encrypted, and only until the call is returned. A representative
    returns it by PIN (kept hashed) without ever seeing the number."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    number_encrypted: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    voicemail_id: Mapped[int | None] = mapped_column(ForeignKey("voicemails.id", ondelete="SET NULL"))
    pin_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pin_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    dialing: Mapped[str | None] = mapped_column(String(64))  # the representative's CallSid
    dialing_at: Mapped[datetime | None] = mapped_column(DateTime)  # a dialback never closed expires


class Receipt(Base):
    """A webhook already acted on (MessageSid), so Twilio's retry of it acts once."""

    __tablename__ = "receipts"
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Checkin(Base):
    """A check-in text a texter agreed to (helpline.checkin): their number, encrypted, only
    from the offer until the text is sent, STOP, or the offer lapses; then the row goes."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    texter_hash: Mapped[str] = mapped_column(String(64), index=True)
    texter_encrypted: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    offered_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Beat(Base):
    """When the worker last did a periodic job ("heartbeat", "purge"): no one's data."""

    __tablename__ = "worker_beats"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class Event(Base):
    """What happened, for the staff's statistics: a name, a channel, a time and sometimes a
    number of seconds. Never who."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40), index=True)
    value: Mapped[int | None] = mapped_column(Integer)


# Built once: the look-ups every webhook makes (SQLAlchemy caches their compiled form).
_LOCK_CONVERSATION = (select(Conversation)
                      .where(Conversation.channel == bindparam("channel"),
                             Conversation.key == bindparam("key"))
                      .with_for_update())
_LOCK_CONTACT = (select(Contact).where(Contact.number_hash == bindparam("number_hash"))
                 .with_for_update())


def _insert(db: Session):
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Store:
    def __init__(self, url: str, connect_timeout: int = 3, statement_timeout_ms: int = 2000):
        self.url = url
        self.writers = None
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": max(connect_timeout, 5)})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            database = make_url(url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                self.writers = WriterQueue(database + ".lock", max(connect_timeout, 5))
                _private_database(database)
        else:
            parsed = make_url(url)
            options = f"{parsed.query.get('options', '')} -c statement_timeout={statement_timeout_ms}"
            engine = create_engine(
                parsed.difference_update_query(["options"]), pool_pre_ping=True, pool_size=5,
                max_overflow=5, pool_timeout=connect_timeout,
                connect_args={"connect_timeout": connect_timeout, "options": options.strip()})
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def migrate(self) -> bool:
        """Bring the schema up to date; False (logged) when the database cannot be reached,
        so the app still starts and answers from memory."""
        from .migrate import upgrade

        try:
            upgrade(self.engine)
            return True
        except SQLAlchemyError as exc:
            log.error("database unavailable at start-up: %s", type(exc).__name__)
            return False

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    @contextmanager
    def transaction(self):
        with self.writers.turn() if self.writers else nullcontext():
            with self.sessions() as db, db.begin():
                yield db

    @staticmethod
    def lock_conversation(db: Session, channel: str, key: str, now: datetime) -> Conversation:
        """The conversation row, created if new, locked until the transaction ends. A row
        that exists (every message but the first) takes one statement, not two."""
        params = {"channel": channel, "key": key}
        conv = db.execute(_LOCK_CONVERSATION, params).scalar_one_or_none()
        if conv is not None:
            return conv
        db.execute(_insert(db)(Conversation)
                   .values(channel=channel, key=key, state=None, created_at=now, updated_at=now)
                   .on_conflict_do_nothing(index_elements=["channel", "key"]))
        return db.execute(_LOCK_CONVERSATION, params).scalar_one()

    @staticmethod
    def find_conversation(db: Session, channel: str, key: str) -> Conversation | None:
        return db.execute(select(Conversation).where(
            Conversation.channel == channel, Conversation.key == key)).scalar_one_or_none()

    @staticmethod
    def lock_contact(db: Session, number_hash: str, now: datetime) -> Contact:
        params = {"number_hash": number_hash}
        contact = db.execute(_LOCK_CONTACT, params).scalar_one_or_none()
        if contact is not None:
            return contact
        db.execute(_insert(db)(Contact)
                   .values(number_hash=number_hash, opted_out=False, updated_at=now, window_count=0,
                           limit_noticed=False)
                   .on_conflict_do_nothing(index_elements=["number_hash"]))
        return db.execute(_LOCK_CONTACT, params).scalar_one()

    @staticmethod
    def first_receipt(db: Session, sid: str, now: datetime) -> bool:
        """True the first time a webhook id is seen; False for Twilio's retries of it."""
        receipts = Receipt.__table__  # Core: no ORM bookkeeping for a row nobody loads
        inserted = db.execute(_insert(db)(receipts).values(sid=sid[:64], at=now)
                              .on_conflict_do_nothing(index_elements=["sid"])
                              .returning(receipts.c.sid)).first()
        return inserted is not None

    @staticmethod
    def live_state(conv: Conversation, now: datetime, idle_minutes: int) -> dict | None:
        """The saved state, or None when the conversation has been idle too long."""
        if conv.state is None or now - conv.updated_at > timedelta(minutes=idle_minutes):
            return None
        return conv.state


class WriterQueue:
    """SQLite has one writer at a time, and every transaction here is one (BEGIN IMMEDIATE).
    Left to SQLite, waiting writers sleep and retry, up to 100 ms at a time and in no order:
    under a surge some webhooks waited over a second. Here they queue instead, threads on a
    lock and processes on a lock file beside the database, each woken as soon as the writer
    before it is done. This only orders writers; SQLite's own lock still keeps them apart,
    and one that has queued for ``timeout`` seconds goes on to SQLite, which decides as before.
    """

    def __init__(self, path: str, timeout: float):
        self.path, self.timeout = path, timeout
        self.mutex = threading.Lock()  # one writer per process reaches the lock file
        self.inside = threading.local()
        self.fd, self.pid = -1, 0

    @contextmanager
    def turn(self):
        if getattr(self.inside, "turn", False):  # a transaction within a transaction
            yield
            return
        deadline = time.monotonic() + self.timeout
        if not self.mutex.acquire(timeout=self.timeout):
            yield
            return
        fd = None
        try:
            fd = self._lock_file(deadline)
            self.inside.turn = True
            yield
        finally:
            self.inside.turn = False
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                if fd != self.fd:
                    os.close(fd)
            self.mutex.release()

    def _lock_file(self, deadline: float) -> int | None:
        """The descriptor now holding the lock file, or None when waiting timed out (or the
        file cannot be opened: SQLite alone then keeps writers apart)."""
        try:
            if self.pid != os.getpid():  # opened once per process (gunicorn forks workers)
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self.fd
        except BlockingIOError:
            pass
        except OSError as exc:
            log.warning("SQLite writers are not queued: %s", exc)
            return None
        # Wait in the kernel's queue on a descriptor of its own, for at most the timeout; a
        # wait given up on lets go of the lock as soon as it gets it.
        fd = os.open(self.path, os.O_RDWR)
        got, guard, outcome = threading.Event(), threading.Lock(), []

        def wait():
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if outcome:
                    os.close(fd)
                else:
                    outcome.append(True)
            got.set()

        threading.Thread(target=wait, daemon=True).start()
        got.wait(max(0.0, deadline - time.monotonic()))
        with guard:
            if outcome:
                return fd
            outcome.append(False)
        return None


def _private_database(path: str) -> None:
    """A new SQLite file (and so its -wal and -shm files, which SQLite creates alike) is
    readable by this user only. A missing folder is left for the connection to report."""
    if os.path.isdir(os.path.dirname(path) or "."):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))


def _sqlite_connect(dbapi_connection, _record):
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE: SQLite then takes the write lock
    # at the start of each transaction, which is what a row lock means there.
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: the database file stays
    # intact through a crash or power cut; only the last commits before a power cut may be
    # lost. That saves an fsync on every webhook (bench/README.md).
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(conn):
    conn.exec_driver_sql("BEGIN IMMEDIATE")
