"""Migrating at start-up on PostgreSQL: processes starting at once on one schema take turns;
a helpline in another schema of the same database never waits for them."""
from __future__ import annotations

import threading
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from helpline import create_app
from helpline.migrate import MIGRATIONS, take_turn

from .conftest import PG_URL, postgres_available, settings

pytestmark = pytest.mark.skipif(not postgres_available(),
                                reason="PostgreSQL is not running (.ci/run starts it)")


@pytest.fixture
def schemas():
    admin = create_engine(PG_URL)
    made = []

    def make() -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
        made.append(name)
        return name
    yield admin, make
    with admin.begin() as conn:
        for name in made:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


def url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def version(admin, schema: str) -> list[str]:
    with admin.connect() as conn:
        return list(conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version")).scalars())


def test_another_schemas_migration_does_not_hold_up_the_start(schemas, tmp_path):
    admin, make = schemas
    busy, mine = make(), make()
    with admin.connect() as other:  # another helpline, mid-migration, has its turn
        other.execute(text(f"SET search_path TO {busy}"))
        take_turn(other)
        app = create_app(settings(tmp_path, DATABASE_URL=url(mine), DB_STATEMENT_TIMEOUT_MS=1000))
        other.rollback()
    app.extensions["helpline"].store.engine.dispose()
    assert version(admin, mine) == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]


def test_processes_starting_at_once_on_one_schema_take_turns(schemas, tmp_path):
    admin, make = schemas
    schema = make()
    barrier, errors, apps = threading.Barrier(3), [], []

    def start(i):
        barrier.wait()
        try:
            apps.append(create_app(settings(tmp_path / str(i), DATABASE_URL=url(schema))))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for app in apps:
        app.extensions["helpline"].store.engine.dispose()
    assert errors == [] and len(apps) == 3
    assert version(admin, schema) == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
