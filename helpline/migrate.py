"""Schema changes through Alembic, applied at start-up and by ``flask db upgrade``.

Several processes may start at once (gunicorn workers, dynos): on PostgreSQL an advisory
lock lets one of them migrate while the others wait, then find nothing to do. The lock is
taken per schema, so helplines in other schemas of the same database (staging beside
production, a test suite's schemas) never wait for each other.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 7_240_118  # any constant shared by every helpline process


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _quiet(logger: str):
    """Alembic's notes on how it runs (its context, its plugins) are nobody's business."""
    quiet = logging.getLogger(logger)
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        yield
    finally:
        quiet.setLevel(level)


def take_turn(connection) -> None:
    """Wait until no other process is migrating this schema (PostgreSQL; held until the
    transaction ends). SQLite needs none: its writers already go one at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id, hashtext(current_schema()))"),
                           {"id": LOCK_ID})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Every process runs this at start-up: one line when the schema changed, else silence."""
    with _quiet("alembic"), engine.begin() as connection:
        take_turn(connection)
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), revision)
        after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        log.info("database schema migrated from %s to %s", before or "nothing", after)


def revision(engine: Engine, message: str) -> None:
    """For developers: write a new migration from the difference between models and schema
    (Alembic still says what it detected)."""
    with _quiet("alembic.runtime"), engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
