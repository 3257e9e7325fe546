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
