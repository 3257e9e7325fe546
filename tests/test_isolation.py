"""The suite never reads the developer's settings: neither a `.env` (which `make run` writes and
`flask` loads) nor HELPLINE_*, STAFF_* and the like exported in their shell."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from flask.cli import FlaskGroup

ROOT = Path(__file__).resolve().parent.parent

# Each would change what the suite's app does, were it read.
HOSTILE = {"STAFF_COOKIE_SECURE": "false", "HELPLINE_REPRESENTATIVES": "+15555550999",
           "HELPLINE_HOURS": "mon 09:00-10:00", "HELPLINE_DEFAULT_LANGUAGE": "es",
           "RATE_LIMIT_PER_MINUTE": "1", "SESSION_IDLE_MINUTES": "1"}


def test_the_suites_app_has_the_suites_settings(make_app):
    # `flask` commands run in this process load ./.env into the environment unless told not to
    result = CliRunner().invoke(FlaskGroup(create_app=make_app), ["routes"])
    assert result.exit_code == 0, result.output
    config = make_app().config
    assert config["STAFF_COOKIE_SECURE"] is True
    assert config["HELPLINE_REPRESENTATIVES"] == "" and config["HELPLINE_HOURS"] == ""
    assert config["HELPLINE_DEFAULT_LANGUAGE"] == "en"
    assert config["RATE_LIMIT_PER_MINUTE"] == 20 and config["SESSION_IDLE_MINUTES"] == 30
    assert not set(HOSTILE) & set(os.environ)


def test_a_hostile_env_file_and_environment_change_nothing(tmp_path):
    """The test above, run by pytest in a folder whose `.env` and environment set them all."""
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in HOSTILE.items()))
    env = {k: v for k, v in os.environ.items() if k != "FLASK_SKIP_DOTENV"}
    env.update(HOSTILE)
    test = f"{ROOT / 'tests' / 'test_isolation.py'}::test_the_suites_app_has_the_suites_settings"
    result = subprocess.run([sys.executable, "-m", "pytest", test, "-k", "sqlite",
                             "-p", "no:cacheprovider"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
