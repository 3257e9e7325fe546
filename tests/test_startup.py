"""What a newcomer meets first: `flask --app helpline` with settings missing or wrong (one line,
exit status 2, every command still listed), `check` and `simulate` with no secrets at all, a
quiet start, and the page at `/`."""
from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from helpline import create_app

from .conftest import TOKEN, settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = ROOT / ".venv" / "bin" / "flask"
COMMANDS = ["check", "crisis-eval", "crisis-train", "db", "purge", "reps", "routes", "run", "shell", "simulate",
            "staff", "worker"]
NO_SECRETS = "set HELPLINE_HASH_KEY, HELPLINE_ENCRYPTION_KEY, SECRET_KEY (see .env.example), " \
             "or HELPLINE_DEV_MODE=1"


@pytest.fixture
def flask(tmp_path, monkeypatch):
    """`flask --app helpline ARGS` in this process, on the environment the test sets (the
    suite's has none of the helpline's settings: conftest); its output and exit status."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("HELPLINE_SPOOL_PATH", f"{tmp_path}/spool.jsonl")

    def run(*args, input=None):
        return CliRunner().invoke(FlaskGroup(create_app=create_app), list(args), input=input)
    return run


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("env", [{}, {"HELPLINE_HOURS": "whenever"}], ids=["no secrets", "wrong"])
def test_help_lists_every_command_whatever_the_settings(flask, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = flask("--help")
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.strip()]
    assert listed == COMMANDS
    assert "Traceback" not in result.output and "Error" not in result.output


@pytest.mark.parametrize("args", [["reps", "list"], ["db", "upgrade"], ["purge"],
                                  ["staff", "remove", "sam@example.org"], ["run", "--port", "0"]])
def test_without_secrets_a_command_says_what_to_set_in_one_line(flask, args):
    assert NO_SECRETS in one_line_error(flask(*args))


def test_a_wrong_setting_stops_every_command_in_one_line(flask, monkeypatch):
    monkeypatch.setenv("HELPLINE_HOURS", "whenever")
    for args in (["check"], ["simulate", "sms"], ["reps", "list"]):
        assert "HELPLINE_HOURS / HELPLINE_TIMEZONE: 'whenever'" in one_line_error(flask(*args))


def test_check_and_simulate_need_no_secrets(flask, tmp_path):
    check = flask("check")
    assert check.exit_code == 0, check.output
    assert "0 errors" in check.output.splitlines()[-1]
    fentanyl = "Say: Heroin and other street drugs are often mixed with fentanyl"
    for channel, lines, answer in (("sms", "hi\n", "Hi, this is the Heroin & Opioid Helpline"),
                                   ("voice", "1\n", fentanyl)):
        result = flask("simulate", channel, input=lines)
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert answer in result.output
    assert not (tmp_path / "cli.sqlite3").exists()   # the configured database is not touched


@pytest.mark.skipif(not FLASK.exists(), reason="needs the project's .venv (make install)")
def test_the_real_command_without_secrets(tmp_path):
    """No traceback reaches the terminal, and the exit status is 2."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(FLASK), "--app", "helpline", "reps", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {NO_SECRETS} for a local development server"]


def test_commands_are_quiet_in_dev_mode(flask, monkeypatch, caplog):
    """No dev-mode warning for a command (it serves nothing), no Alembic notes, and one line
    from the migrations only when they change the schema."""
    monkeypatch.setenv("HELPLINE_DEV_MODE", "1")
    caplog.set_level(logging.INFO)
    first = flask("reps", "list")
    assert first.exit_code == 0, first.output
    assert [r.name for r in caplog.records] == ["helpline.migrate"]
    assert caplog.records[0].getMessage().startswith("database schema migrated from nothing to ")
    caplog.clear()
    assert flask("--help").exit_code == 0 and flask("reps", "list").exit_code == 0
    assert caplog.records == []


def test_the_server_warns_once_that_signatures_are_not_checked(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    create_app(settings(tmp_path, TWILIO_AUTH_TOKEN="", HELPLINE_DEV_MODE=True))
    assert [r.getMessage().count("NOT checked") for r in caplog.records] == [1]


# -- the page at / -------------------------------------------------------------------------------

def test_the_index_page_gives_the_webhook_urls_and_no_settings(make_app):
    secret = {"HELPLINE_HASH_KEY": "hash-key-" + "h" * 40, "SECRET_KEY": "flask-secret-" + "s" * 20,
              "HELPLINE_NUMBER": "+15555550100", "HELPLINE_REPRESENTATIVES": "+15555550901",
              "HELPLINE_COORDINATORS": "+15555550902", "TWILIO_ACCOUNT_SID": "AC" + "7" * 32}
    app = make_app(**secret)
    response = app.test_client().get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path in ("/sms", "/sms/fallback", "/voice", "/voice/fallback"):
        assert f"<code>http://localhost{path}</code>" in page
    assert 'href="/staff"' in page and "make simulate" in page and "running" in page
    assert "Development mode" not in page
    for value in [*secret.values(), app.config["HELPLINE_ENCRYPTION_KEY"], TOKEN,
                  app.config["DATABASE_URL"], "5555550"]:
        assert value not in page


def test_the_index_page_says_loudly_when_signatures_are_not_checked(make_app):
    page = make_app(TWILIO_AUTH_TOKEN="", HELPLINE_DEV_MODE=True).test_client().get("/")
    assert "Development mode" in page.get_data(as_text=True)
    assert "signatures are <strong>not checked</strong>" in page.get_data(as_text=True)
