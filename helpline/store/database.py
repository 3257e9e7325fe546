"""The database for the whole app: its engine, sessions, transactions and schema, on SQLAlchemy 2.

Every webhook runs in one short transaction that locks the rows it changes, so two messages
from one number at the same moment cannot lose an update. SQLite and PostgreSQL both work;
what SQLite needs for that (its write lock taken at BEGIN, writers queued) is set up here.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager, nullcontext

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from . import lookups
from .prepared import PreparedStatements
from .sqlite_writers import WriterQueue

log = logging.getLogger(__name__)


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
        self.prepared = PreparedStatements(engine.dialect)

    def migrate(self) -> bool:
        """Bring the schema up to date; False (logged) when the database cannot be reached,
        so the app still starts and answers from memory."""
        from ..migrate import upgrade

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
        """One transaction on one connection: an ORM session joined to it, flushed at the
        end, and (``core(db)``) the same connection for the hot path's Core statements."""
        with self.writers.turn() if self.writers else nullcontext(), self.engine.begin() as connection:
            with self.sessions(bind=connection, join_transaction_mode="rollback_only") as db:
                db.info["core"] = CoreStatements(connection, db, self.prepared)
                yield db
                db.flush()

    @contextmanager
    def watching(self, watch):
        """``watch(sql, parameters, many)`` sees every statement run meanwhile, through
        SQLAlchemy or on the driver (:mod:`.prepared`): for the benchmark and the tests."""
        def through_sqlalchemy(conn, cursor, statement, parameters, context, executemany):
            watch(statement, parameters, executemany)

        event.listen(self.engine, "before_cursor_execute", through_sqlalchemy)
        self.prepared.watchers.append(watch)
        try:
            yield
        finally:
            event.remove(self.engine, "before_cursor_execute", through_sqlalchemy)
            self.prepared.watchers.remove(watch)

    # The look-ups of helpline.store.lookups, for those holding the store.
    find_conversation = staticmethod(lookups.find_conversation)
    lock_contact = staticmethod(lookups.lock_contact)
    lock_conversation_row = staticmethod(lookups.lock_conversation_row)
    sender = staticmethod(lookups.sender)
    first_receipt = staticmethod(lookups.first_receipt)
    live_state = staticmethod(lookups.live_state)


class CoreStatements:
    """A transaction's Core statements, run on its connection's driver
    (:mod:`helpline.store.prepared`): SQLAlchemy's ORM session costs a webhook more per
    statement, and more again for a transaction it takes part in, than the statements
    themselves (bench/README.md). Its pending changes are flushed first, as its own
    ``execute`` would, so writes keep their order."""

    __slots__ = ("connection", "session", "prepared")

    def __init__(self, connection, session: Session, prepared: PreparedStatements):
        self.connection, self.session, self.prepared = connection, session, prepared

    def execute(self, statement, params=None):
        self.session.flush()
        result = self.prepared.execute(self.connection, statement, params)
        return self.connection.execute(statement, params) if result is None else result

    def get_bind(self):
        return self.connection


def core(db: Session) -> CoreStatements | Session:
    """The Core statements of the transaction ``db`` belongs to (the session itself outside
    :meth:`Store.transaction`)."""
    return db.info.get("core", db)


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
    # Straight to the driver: nothing of SQLAlchemy's statement machinery is needed for it.
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
