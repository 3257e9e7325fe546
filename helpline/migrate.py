"""Schema changes through Alembic, applied at start-up and by ``flask db upgrade``.

Several processes may start at once (gunicorn workers, dynos): on PostgreSQL an advisory
lock lets one of them migrate while the others wait, then find nothing to do. The lock is
taken per schema, so helplines in other schemas of the same database (staging beside
production, a test suite's schemas) never wait for each other.
"""
from __future__ import annotations

import functools
import logging
import re
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 7_240_118  # any constant shared by every helpline process


@functools.cache
def head() -> str:
    """The newest migration's revision, read from the files without Alembic (tested against
    Alembic's own answer): a web worker whose schema is already there never loads Alembic,
    about 8 MiB it would keep for nothing."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.add(re.search(r"^revision = ['\"](\w+)['\"]", source, re.M)[1])
        parents.update(re.findall(r"^down_revision = ['\"](\w+)['\"]", source, re.M))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, not {sorted(heads)}")
    return heads.pop()


def at_head(connection: Connection) -> bool:
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head()]


def alembic_config(connection=None):
    from alembic.config import Config

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
    if revision == "head":
        with engine.connect() as connection:
            if at_head(connection):
                return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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
    from alembic import command

    with _quiet("alembic.runtime"), engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
