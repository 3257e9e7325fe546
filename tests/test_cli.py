"""The operators' commands: representatives, migrations, retention; and the REST module
against a local stand-in of Twilio's API."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import func, select, update

from helpline.store import (
    Callback,
    Chat,
    Contact,
    Conversation,
    Event,
    Receipt,
    Representative,
    Voicemail,
    utcnow,
)
from helpline.twilio_api import FAILED, RETRY, SENT, TwilioApi

from .conftest import TEXTER, Twilio, settings, twiml
from .content_copy import ROOT

ACCOUNT = "AC" + "0" * 32


def run(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def test_reps_add_list_on_off_remove(app):
    assert "added: representative #1" in run(app, "reps", "add", "+15555550901", "--name", "Sam").output
    assert "already on the roster" in run(app, "reps", "add", "+1 555 555 0901").output
    run(app, "reps", "add", "+15555550902", "--off")
    listing = run(app, "reps", "list").output
    assert "#1\tSam\t...01\ten\ton duty" in listing
    assert "#2\t-\t...02\ten\toff duty" in listing
    assert "5555550901" not in listing
    assert "off duty" in run(app, "reps", "off", "+15555550901").output
    assert "on duty" in run(app, "reps", "on", "+15555550902").output
    with app.extensions["helpline"].store.transaction() as db:
        duty = dict(db.execute(select(Representative.id, Representative.on_duty)).all())
    assert duty == {1: False, 2: True}
    assert "removed" in run(app, "reps", "remove", "+15555550901").output
    assert "no representative" in run(app, "reps", "remove", "+15555550901").output


def test_reps_add_refuses_what_cannot_be_a_phone_number(app):
    for typed in ("555-0101", "+1555\n", "call me", "+1 555 123 4567 999"):
        result = run(app, "reps", "add", typed)
        assert result.exit_code != 0 and "is not a phone number" in result.output, typed


def test_reps_add_reads_a_typed_number_in_the_helplines_region(app, twilio):
    assert "added" in run(app, "reps", "add", "(555) 123-4567").output
    assert "already on the roster" in run(app, "reps", "add", "+1 555 123 4567").output
    assert "You're on duty" in twilio.text("ON", "+15551234567")
    assert "on duty" in run(app, "reps", "on", "555.123.4567").output


def test_a_representative_added_by_command_is_recognised_by_text(app, twilio):
    run(app, "reps", "add", "+15555550903")
    reply = "".join(m.text for m in twiml(twilio.sms("STATUS", "+15555550903")).iter("Message"))
    assert "You're on duty" in reply


def test_db_upgrade_is_idempotent(app):
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0 and "up to date" in result.output


def test_procfile_release_runs_the_migrations():
    from pathlib import Path

    procfile = (Path(__file__).resolve().parent.parent / "Procfile").read_text()
    assert "release: flask --app helpline db upgrade" in procfile


def test_purge_deletes_past_retention_and_keeps_opt_outs(standin, make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=standin.url,
                   HELPLINE_NUMBER="+15555550100")
    twilio = Twilio(app.test_client())
    twilio.text("hi")
    twilio.text("STOP", "+15555550777")
    old = utcnow() - timedelta(days=40)
    with app.extensions["helpline"].store.transaction() as db:
        db.add(Voicemail(call_sid="CAold", recording_url="https://x/RE1", recording_sid="RE1",
                         duration=9, lang="en", created_at=old))
        db.add(Voicemail(call_sid="CAnew", recording_url="https://x/RE2", recording_sid="RE2",
                         duration=9, lang="en", created_at=utcnow()))
        db.add(Callback(channel="voice", caller_hash="h", number_encrypted="x", lang="en",
                        created_at=old))
        db.add(Chat(code="K7", texter_hash="h", lang="en", status="ended", created_at=old))
        db.add(Event(at=old, channel="sms", name="contact"))
        for table in (Conversation, Contact):
            db.execute(update(table).values(updated_at=old))
        db.execute(update(Receipt).values(at=old))
    result = run(app, "purge", "--older-than", "30d")
    assert result.exit_code == 0, result.output
    assert "conversations: 2" in result.output and "voicemails: 1" in result.output
    assert "recordings deleted at Twilio: 1 of 1" in result.output
    with app.extensions["helpline"].store.transaction() as db:
        count = lambda model: db.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
        assert count(Conversation) == 0 and count(Callback) == 0 and count(Chat) == 0
        assert db.execute(select(Voicemail.call_sid)).scalars().all() == ["CAnew"]
        assert db.execute(select(Contact.opted_out)).scalars().all() == [True]
        assert db.execute(select(Contact.state)).scalars().all() == [None]   # the opt-out, without its place
        assert count(Receipt) == 0
        assert db.execute(select(func.count()).select_from(Event)
                          .where(Event.at == old)).scalar_one() == 1  # statistics outlive purge
    [delete] = [r for r in standin.requests if r["method"] == "DELETE"]
    assert delete["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1.json"


def test_purge_refuses_a_bad_age(app):
    result = run(app, "purge", "--older-than", "soon")
    assert result.exit_code != 0 and "30d" in result.output


def test_rest_sms_goes_through_the_library_to_the_api(standin):
    api = TwilioApi(ACCOUNT, "tok", "+15555550100", standin.url)
    assert api.send_sms("+15555550901", "Voicemail waiting") == SENT
    [request] = standin.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request["form"] == {"To": "+15555550901", "From": "+15555550100", "Body": "Voicemail waiting"}
    assert request["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT}:tok".encode()).decode()


SERVES = """
import json, sys
from helpline import create_app
app = create_app(json.loads(sys.argv[1]))
print("twilio.rest" in sys.modules, "requests" in sys.modules, "helpline" in app.extensions)
"""


def test_a_web_process_never_loads_the_rest_client(tmp_path):
    """Only the worker and purge call Twilio's REST API: a web worker keeps no client, nor
    the requests library it brings (the locator speaks through urllib3)."""
    config = settings(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT)
    out = subprocess.run([sys.executable, "-c", SERVES, json.dumps(config)], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={"FLASK_SKIP_DOTENV": "1", "PATH": ""}).stdout
    assert out.split() == ["False", "False", "True"]


def test_rest_failure_is_reported_not_raised(standin, caplog):
    standin.fail = True
    api = TwilioApi(ACCOUNT, "tok", "+15555550100", standin.url)
    assert api.send_sms("+15555550901", "x") == RETRY
    standin.answers = [400]
    assert api.send_sms("+15555550901", "x") == FAILED
    assert "5555550901" not in caplog.text
    assert TwilioApi("", "", "").send_sms(TEXTER, "x") == FAILED
