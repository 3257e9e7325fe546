"""Schema changes through Alembic, applied at start-up and by ``flask db upgrade``.

Several processes may start at once (gunicorn workers, dynos): on PostgreSQL an advisory
lock lets one of them migrate while the others wait, then find nothing to do. The lock is
taken per schema, so helplines in other schemas of the same database (staging beside
production, a test suite's schemas) never wait for each other.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 7_240_118  # any constant shared by every helpline process


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def take_turn(connection) -> None:
    """Wait until no other process is migrating this schema (PostgreSQL; held until the
    transaction ends). SQLite needs none: its writers already go one at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id, hashtext(current_schema()))"),
                           {"id": LOCK_ID})


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        take_turn(connection)
        command.upgrade(alembic_config(connection), revision)


def revision(engine: Engine, message: str) -> None:
    """For developers: write a new migration from the difference between models and schema."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
