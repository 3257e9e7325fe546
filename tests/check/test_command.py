"""`flask --app helpline check` as a whole (helpline/check/__init__.py): the shipped content,
several problems in one run, the app's own loaders as the last word, and starting up on
broken content."""
from __future__ import annotations

import os
import re
import subprocess

import click
import pytest
from click.testing import CliRunner

from helpline import check, cli, create_app
from helpline.content import ContentError
from helpline.flows import FlowError

from ..conftest import flask_cli, settings
from ..content_copy import ROOT, only

FLASK = ROOT / ".venv" / "bin" / "flask"


def test_shipped_content_has_no_errors():
    errors = [f for f in check.run(ROOT / "content", ROOT / "flows", "en") if f.level == "error"]
    assert errors == [], "\n".join(map(str, errors))


def test_an_untouched_copy_has_no_errors(copy):
    assert copy.findings("error") == []


def test_the_facts_and_safety_files_check_clean_in_every_language():
    """The facts and what keeps people alive: no warning at all, SMS or voice."""
    found = [f for f in check.run(ROOT / "content", ROOT / "flows", "en")
             if f.level not in ("info", "allowed") and f.file.endswith(("/facts.yaml", "/safety.yaml"))]
    assert found == [], "\n".join(map(str, found))


def test_several_problems_in_one_run(copy):
    copy.replace("flows/main.yaml", "goto: treatment}", "goto: treatmnt}")
    copy.replace("content/es/facts.yaml", "forms.dopamine:", "forms.dopamina:")
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "x " * 400, sources="[nida]")
    errors = copy.findings("error")
    only(errors, "flows/main.yaml", "nodes.main.options[3].goto")
    only(errors, "content/es/facts.yaml", "forms.dopamine")
    only(errors, "content/en/facts.yaml", "facts.stigma", "too long for SMS")


def test_what_the_app_itself_refuses_is_an_error_too(copy, monkeypatch):
    def refuse(*args):
        raise FlowError("flows/main.yaml: nodes.main: a rule only the app knows")

    monkeypatch.setattr(check, "load_main_flow", refuse)
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.main")
    assert found.message == "the helpline would not start: a rule only the app knows"


def test_a_language_key_that_is_also_an_option_is_refused(copy):
    copy.replace("flows/main.yaml", '"8": es', '"2": es')
    found = copy.findings("error")
    assert any("key 2 for 'es' is also an option" in f.message for f in found), found


def test_a_language_key_that_is_also_a_command_is_refused(copy):
    copy.replace("flows/main.yaml", '"8": es', '"*": es')
    found = copy.findings("error")
    assert any("key * for 'es' is also the command 'repeat'" in f.message for f in found), found


def test_check_command_on_the_shipped_content(tmp_path):
    app = create_app(settings(tmp_path))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output and "info:" not in result.output
    verbose = app.test_cli_runner().invoke(args=["check", "--verbose"])
    assert "info: content/en/facts.yaml:3: facts.one_use: SMS text: GSM-7, 1 segment" in verbose.output


def test_check_command_reports_broken_content_the_app_cannot_start_with(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    copy.replace("content/es/facts.yaml", "facts.stigma:", "facts.tolerancia:")
    group = flask_cli(tmp_path, CONTENT_DIR=str(copy.content), FLOWS_DIR=str(copy.flows))
    result = CliRunner().invoke(group, ["check"])
    assert result.exit_code == 1, result.output
    assert re.search(r"^error: flows/main\.yaml:\d+: nodes\.main\.options\[2\]\.goto: "
                     r"unknown node 'formz' \(did you mean 'forms'\?\)$", result.output, re.M)
    assert "error: content/es/facts.yaml" in result.output and "facts.stigma" in result.output
    assert "errors" in result.output.splitlines()[-1]


def test_simulate_refuses_broken_content_and_points_to_check(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    group = flask_cli(tmp_path, CONTENT_DIR=str(copy.content), FLOWS_DIR=str(copy.flows))
    result = CliRunner().invoke(group, ["simulate", "sms"], input="hi\n")
    assert result.exit_code != 0
    assert "unknown node 'formz'" in result.output and "flask --app helpline check" in result.output


def test_outside_a_command_broken_content_fails_fast(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with pytest.raises(FlowError, match="unknown node 'formz'"):
        create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))
    copy.replace("content/en/facts.yaml", "sources: [nida]\nfacts.naloxone:", "sources: [x]\nfacts.naloxone:")
    with pytest.raises(ContentError, match="unknown source 'x'"):
        create_app(settings(tmp_path, CONTENT_DIR=str(copy.content)))


def test_flask_run_fails_fast_too(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with click.Context(click.Command("run"), info_name="run"):
        with pytest.raises(FlowError):
            create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))


def test_under_another_command_the_app_serves_nothing_and_keeps_the_error(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with click.Context(click.Command("check"), info_name="check"):
        app = create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))
    assert isinstance(app.extensions[cli.LOAD_ERROR], FlowError)
    assert "helpline" not in app.extensions
    assert app.test_client().post("/sms", data={"From": "+15555550123"}).status_code == 404


@pytest.mark.skipif(not FLASK.exists(), reason="needs the project's .venv (make install)")
@pytest.mark.parametrize("broken", [False, True])
def test_the_real_command_with_dev_mode_and_no_env_file(tmp_path, copy, broken):
    """As CI runs it: `HELPLINE_DEV_MODE=1 flask --app helpline check`, no .env, no secrets;
    the development secrets it generates go to an instance folder of the test's own, never
    into the checkout."""
    if broken:
        copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HELPLINE_", "TWILIO_", "FLASK_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(HELPLINE_DEV_MODE="1", FLASK_SKIP_DOTENV="1", LOG_LEVEL="WARNING",
               DATABASE_URL=f"sqlite:///{tmp_path}/cli.sqlite3",
               HELPLINE_SPOOL_PATH=f"{tmp_path}/spool.jsonl",
               HELPLINE_CONTENT_DIR=str(copy.content), HELPLINE_FLOWS_DIR=str(copy.flows))
    instance = tmp_path / "instance"
    app = f"helpline:create_app(None, {str(instance)!r})"
    result = subprocess.run([str(FLASK), "--app", app, "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert (instance / "dev-secrets.json").exists()
    if broken:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "unknown node 'formz'" in result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 errors" in result.stdout
