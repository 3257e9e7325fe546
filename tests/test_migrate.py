"""helpline.migrate on SQLite: a process whose schema is already at the newest migration
finds it out without Alembic (kept out of every web worker's memory), and the head it reads
from the migration files is Alembic's own."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from alembic.script import ScriptDirectory

from helpline import migrate

from .conftest import settings
from .content_copy import ROOT

STARTS = """
import json, sys
from helpline import create_app
app = create_app(json.loads(sys.argv[1]))
print("alembic" in sys.modules, "helpline" in app.extensions)
"""


def test_the_head_read_from_the_files_is_alembics():
    assert migrate.head() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def start(tmp_path, database: str) -> str:
    config = settings(tmp_path, DATABASE_URL=database)
    return subprocess.run([sys.executable, "-c", STARTS, json.dumps(config)], cwd=ROOT, check=True,
                          capture_output=True, text=True, env={"FLASK_SKIP_DOTENV": "1", "PATH": ""}).stdout


def test_a_process_on_a_schema_at_head_never_loads_alembic(tmp_path, migrated_sqlite):
    shutil.copyfile(migrated_sqlite, tmp_path / "at_head.sqlite3")
    assert start(tmp_path, f"sqlite:///{tmp_path}/at_head.sqlite3").split() == ["False", "True"]


def test_a_process_on_a_new_database_migrates_it_with_alembic(tmp_path):
    assert start(tmp_path, f"sqlite:///{tmp_path}/new.sqlite3").split() == ["True", "True"]
    assert start(tmp_path, f"sqlite:///{tmp_path}/new.sqlite3").split() == ["False", "True"]


def test_a_texters_place_in_the_menu_moves_to_the_contact_row_and_back(database_url):
    """The migration that put the texter's state on their contact row keeps every texter's
    place, both ways, on both databases; calls keep their own rows."""
    from alembic import command
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    place = {"lang": "es", "node": "treatment", "step": 0, "turns": 4}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO contacts (number_hash, lang, opted_out, updated_at, window_count, "
                          "limit_noticed, chat_open, state) VALUES ('h1', 'es', false, '2026-11-28 10:00:00', "
                          "0, false, false, :state)"), {"state": json.dumps(place)})
        conn.execute(text("INSERT INTO conversations (channel, key, state, created_at, updated_at) VALUES "
                          "('voice', 'CA1', :state, '2026-11-28 10:00:00', '2026-11-28 10:00:00')"),
                     {"state": json.dumps(place)})
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "9b3f1c6d2a70")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT channel, key, state FROM conversations ORDER BY channel")).all()
        assert [(c, k, json.loads(s) if isinstance(s, str) else s) for c, k, s in rows] == [
            ("sms", "h1", place), ("voice", "CA1", place)]
    migrate.upgrade(engine)
    with engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM contacts WHERE number_hash = 'h1'")).scalar_one()
        assert (json.loads(state) if isinstance(state, str) else state) == place
        assert conn.execute(text("SELECT channel, key FROM conversations")).all() == [("voice", "CA1")]
    engine.dispose()
