"""Shifts and overrides, the coverage report, alerts, dialback by PIN and language-first
routing, through signed requests and the commands operators use."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from helpline import texter
from helpline.store import Callback, Representative, Voicemail, utcnow

from .conftest import CALLER, TEXTER, Twilio, twiml

REP_A, REP_B, COORDINATOR = "+15555550901", "+15555550902", "+15555550999"
HELPLINE = "+15555550100"
ACCOUNT = "AC" + "1" * 32
RECORDINGS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/"
# 2026-11-30 is a Monday. New York is UTC-5 in winter.
MON_0900_NY = datetime(2026, 11, 30, 14, 0)


@pytest.fixture
def app(make_app, standin):
    app = make_app(HELPLINE_NUMBER=HELPLINE, HELPLINE_TIMEZONE="America/New_York",
                   TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=standin.url,
                   HELPLINE_COORDINATORS=COORDINATOR)
    cli = app.test_cli_runner()
    for number in (REP_A, REP_B):
        assert cli.invoke(args=["reps", "add", number, "--off"]).exit_code == 0
    return app


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def on_duty(app, number, at):
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        roster = helpline.roster(db)
        return roster.is_on_duty(roster.find(number), at)


# -- shifts ---------------------------------------------------------------------------------

def test_shift_boundaries_in_the_helplines_time_zone(app):
    cli(app, "reps", "shift", "add", REP_A, "mon", "09:00", "17:00")
    assert not on_duty(app, REP_A, MON_0900_NY - timedelta(minutes=1))
    assert on_duty(app, REP_A, MON_0900_NY)
    assert on_duty(app, REP_A, MON_0900_NY + timedelta(hours=7, minutes=59))
    assert not on_duty(app, REP_A, MON_0900_NY + timedelta(hours=8))
    assert not on_duty(app, REP_A, MON_0900_NY + timedelta(days=1))  # Tuesday


def test_a_shift_over_midnight(app):
    cli(app, "reps", "shift", "add", REP_A, "fri", "22:00", "02:00")
    fri_2200 = MON_0900_NY + timedelta(days=4, hours=13)
    assert not on_duty(app, REP_A, fri_2200 - timedelta(minutes=1))
    assert on_duty(app, REP_A, fri_2200)
    assert on_duty(app, REP_A, fri_2200 + timedelta(hours=3, minutes=59))  # Sat 01:59
    assert not on_duty(app, REP_A, fri_2200 + timedelta(hours=4))          # Sat 02:00


def test_shift_list_and_remove(app):
    cli(app, "reps", "shift", "add", REP_A, "Tuesday", "08:30", "12:00")
    assert "already there" in cli(app, "reps", "shift", "add", REP_A, "tue", "08:30", "12:00")
    assert cli(app, "reps", "shift", "list", REP_A).count("tue 08:30-12:00") == 1
    cli(app, "reps", "shift", "remove", REP_A, "tue", "08:30", "12:00")
    assert cli(app, "reps", "shift", "list") == ""
    bad = app.test_cli_runner().invoke(args=["reps", "shift", "add", REP_A, "someday", "1", "2"])
    assert bad.exit_code != 0


def test_anyone_on_duty_agrees_with_the_roster_on_duty(app):
    """The menu's question (any one on duty?) reads the duty columns alone; it must answer
    as the full roster does, through shifts, ON and OFF."""
    helpline = app.extensions["helpline"]
    cli(app, "reps", "shift", "add", REP_A, "mon", "09:00", "17:00")
    times = [MON_0900_NY + timedelta(minutes=m) for m in (-1, 0, 60, 479, 480)]

    def both(at):
        with helpline.store.transaction() as db:
            fresh, read = helpline.roster(db), helpline.roster(db)
            read.all()
            answers = {fresh.anyone_on_duty(at), read.anyone_on_duty(at), bool(read.on_duty(at))}
            assert len(answers) == 1, at
            return answers.pop()

    assert [both(at) for at in times] == [False, True, True, True, False]
    cli(app, "reps", "on", REP_B)
    assert all(both(at) for at in times)
    cli(app, "reps", "off", REP_B)
    assert [both(at) for at in times] == [False, True, True, True, False]


def test_off_inside_a_shift_holds_until_the_shift_ends(app):
    helpline = app.extensions["helpline"]
    cli(app, "reps", "shift", "add", REP_A, "mon", "09:00", "17:00")
    texter.receive(helpline, REP_A, "OFF", now=MON_0900_NY + timedelta(hours=1))
    assert not on_duty(app, REP_A, MON_0900_NY + timedelta(hours=2))
    assert not on_duty(app, REP_A, MON_0900_NY + timedelta(days=7, hours=-1))  # off all week after
    assert on_duty(app, REP_A, MON_0900_NY + timedelta(days=7))  # next Monday's shift counts again


def test_on_holds_until_off(app):
    helpline = app.extensions["helpline"]
    texter.receive(helpline, REP_B, "ON", now=MON_0900_NY)
    assert on_duty(app, REP_B, MON_0900_NY + timedelta(days=3))
    texter.receive(helpline, REP_B, "OFF", now=MON_0900_NY + timedelta(days=3))
    assert not on_duty(app, REP_B, MON_0900_NY + timedelta(days=3, minutes=1))


def test_status_reports_duty_from_shifts(app):
    helpline = app.extensions["helpline"]
    cli(app, "reps", "shift", "add", REP_A, "mon", "09:00", "17:00")
    assert "You're on duty" in texter.receive(helpline, REP_A, "STATUS", now=MON_0900_NY).text()
    assert "You're off duty" in texter.receive(helpline, REP_A, "STATUS", now=MON_0900_NY - timedelta(hours=1)).text()


def test_coverage_report_shows_the_week_and_its_gaps(make_app):
    app = make_app(HELPLINE_TIMEZONE="America/New_York", HELPLINE_HOURS="mon-sun 08:00-20:00")
    for number in (REP_A, REP_B):
        cli(app, "reps", "add", number, "--off")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        cli(app, "reps", "shift", "add", REP_A, day, "08:00", "14:00")
    cli(app, "reps", "shift", "add", REP_B, "mon", "12:00", "20:00")
    report = cli(app, "reps", "coverage")
    days = re.split(r"\n(?=\w{3} \d{4}-)", report.strip())
    assert len(days) == 7
    monday = next(d for d in days if d.startswith("Mon"))
    assert "08:00-12:00  1 on shift" in monday and "12:00-14:00  2 on shift" in monday
    assert "14:00-20:00  1 on shift" in monday and "gaps: none" in monday
    tuesday = next(d for d in days if d.startswith("Tue"))
    assert "gaps: 14:00-20:00" in tuesday


# -- nobody on duty, alerts -------------------------------------------------------------------

def test_nobody_on_duty_tells_the_coordinators_once_and_never_rings(app, standin):
    twilio = Twilio(app.test_client())
    root = twiml(twilio.post("/voice", {"CallSid": "CA1", "From": CALLER, "To": HELPLINE}))
    root = twiml(twilio.post("/voice/step", {"CallSid": "CA1", "From": CALLER, "Digits": "0"}))
    assert root.find("Dial") is None and "No one is free" in " ".join(s.text for s in root.iter("Say"))
    wait_for(lambda: len(standin.requests) == 1)
    [alert] = standin.requests
    assert alert["form"]["To"] == COORDINATOR and "nobody was on duty" in alert["form"]["Body"]
    assert CALLER not in alert["form"]["Body"] and "0188" not in alert["form"]["Body"]
    twilio.text("hi", TEXTER)
    reply = list(twiml(twilio.sms("0", TEXTER)).iter("Message"))
    assert "No one is free" in reply[0].text  # the texter asked for a person too...
    assert [m.get("to") for m in reply] == [None]  # ...within the quiet period: no second alert


def wait_for(condition, seconds=5):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def leave_voicemail(twilio, sid="CA" + "v" * 32, caller=CALLER, seconds="31"):
    twilio.post("/voice", {"CallSid": sid, "From": caller, "To": HELPLINE})
    twilio.post("/voice/step", {"CallSid": sid, "From": caller, "Digits": "0"})
    twilio.post("/voice/step", {"CallSid": sid, "From": caller, "Digits": "1"})
    return twiml(twilio.post("/voice/recorded", {"CallSid": sid, "From": caller,
                                                 "RecordingUrl": RECORDINGS + "RE" + "5" * 32,
                                                 "RecordingSid": "RE" + "5" * 32,
                                                 "RecordingDuration": seconds}))


def test_voicemail_alert_goes_to_everyone_on_duty_with_a_pin_and_no_number(app, standin):
    twilio = Twilio(app.test_client())
    cli(app, "reps", "on", REP_A)
    cli(app, "reps", "on", REP_B)
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Representative).values(on_call="CAx", on_call_since=utcnow()))
    twilio.post("/voice/queue/left", {"CallSid": "CA" + "v" * 32, "QueueResult": "leave"})
    leave_voicemail(twilio)
    wait_for(lambda: len(standin.requests) == 2)
    bodies = {r["form"]["To"]: r["form"]["Body"] for r in standin.requests}
    assert set(bodies) == {REP_A, REP_B}
    body = bodies[REP_A]
    assert "New voicemail (English" in body and "31 s" in body and re.search(r"PIN \d{6}", body)
    assert CALLER not in body and "0188" not in body


def test_voicemail_with_nobody_on_duty_alerts_the_coordinators(app, standin):
    leave_voicemail(Twilio(app.test_client()))
    wait_for(lambda: any("New voicemail" in r["form"]["Body"] for r in standin.requests))
    assert {r["form"]["To"] for r in standin.requests} == {COORDINATOR}


def test_texter_callback_alert_rides_in_the_reply(app):
    twilio = Twilio(app.test_client())
    twilio.text("hi")
    twilio.text("0")
    messages = [(m.get("to"), m.text) for m in twiml(twilio.sms("1")).iter("Message")]
    assert messages[0][0] is None and "0123" in messages[0][1]
    assert [to for to, _ in messages[1:]] == [COORDINATOR]
    assert "Callback request" in messages[1][1] and TEXTER not in messages[1][1]


# -- dialback by PIN --------------------------------------------------------------------------

def pin_from(standin) -> str:
    wait_for(lambda: any("PIN" in r["form"]["Body"] for r in standin.requests))
    body = next(r["form"]["Body"] for r in standin.requests if "PIN" in r["form"]["Body"])
    return re.search(r"PIN (\d{6})", body)[1]


PASSCODE = "246813"


@pytest.fixture(autouse=True)
def passcodes(app):
    for number in (REP_A, REP_B):
        result = app.test_cli_runner().invoke(args=["reps", "passcode", number],
                                               input=f"{PASSCODE}\n" * 2)
        assert result.exit_code == 0, result.output


SECOND = "CA" + "s" * 32  # a representative's next call


def rep_call(twilio, sid="CA" + "r" * 32, rep=REP_A):
    root = twiml(twilio.post("/voice", {"CallSid": sid, "From": rep}))
    twilio.post(root.find("Gather").get("action"), {"CallSid": sid, "From": rep, "Digits": PASSCODE})
    return twiml(twilio.post("/voice/rep/take", {"CallSid": sid, "From": rep, "Digits": "2"}))


def enter_pin(twilio, root, pin, sid="CA" + "r" * 32, rep=REP_A):
    return twiml(twilio.post(root.find("Gather").get("action"),
                             {"CallSid": sid, "From": rep, "Digits": pin}))


def test_dialback_with_the_right_pin_bridges_without_showing_numbers(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    root = rep_call(twilio)
    assert "PIN" in root.find("Gather/Say").text and root.find("Gather").get("numDigits") == "6"
    root = enter_pin(twilio, root, pin)
    dial = root.find("Dial")
    assert dial.get("callerId") == HELPLINE
    assert dial.find("Number").text == CALLER
    assert dial.find("Number").get("url").startswith("/voice/dialback/announce")
    assert CALLER not in " ".join(s.text for s in root.iter("Say"))
    announce = twiml(twilio.post(dial.find("Number").get("url"), {"CallSid": "CAchild"}))
    assert "returning your call" in announce.find("Say").text
    done = twiml(twilio.post(dial.get("action"), {"CallSid": "CA" + "r" * 32, "From": REP_A,
                                                   "DialCallStatus": "completed"}))
    assert "marked done" in " ".join(s.text for s in done.iter("Say"))
    with app.extensions["helpline"].store.transaction() as db:
        callback = db.execute(select(Callback)).scalar_one()
        assert callback.done_at and callback.number_encrypted is None and callback.pin_hash is None
        assert db.execute(select(Voicemail.done_at)).scalar_one() is not None
    again = enter_pin(twilio, rep_call(twilio, SECOND), pin, SECOND)  # a PIN works once
    assert root.find("Dial") is not None and again.find("Dial") is None


def test_a_dialback_that_does_not_connect_keeps_the_pin(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    root = enter_pin(twilio, rep_call(twilio), pin)
    failed = twiml(twilio.post(root.find("Dial").get("action"),
                               {"CallSid": "CA" + "r" * 32, "From": REP_A, "DialCallStatus": "no-answer"}))
    assert "didn't connect" in " ".join(s.text for s in failed.iter("Say"))
    assert enter_pin(twilio, rep_call(twilio, SECOND), pin, SECOND).find("Dial") is not None


def test_three_wrong_pins_end_the_call(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    wrong = "000000" if pin != "000000" else "111111"
    root = rep_call(twilio)
    for _ in range(2):
        root = enter_pin(twilio, root, wrong)
        assert "didn't work" in root.find("Gather/Say").text
    root = enter_pin(twilio, root, wrong)
    assert root.find("Hangup") is not None and root.find("Dial") is None
    assert "too many wrong PINs" in root.find("Say").text


def test_an_expired_pin_does_not_work(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Callback).values(pin_expires_at=datetime(2020, 1, 1)))
    assert enter_pin(twilio, rep_call(twilio), pin).find("Dial") is None


def test_only_representatives_can_dial_back(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    root = twiml(twilio.post("/voice/rep/pin?tries=0", {"CallSid": "CAz", "From": "+15555550444",
                                                          "Digits": pin}))
    assert root.find("Dial") is None


def test_pins_are_stored_hashed(app, standin):
    twilio = Twilio(app.test_client())
    leave_voicemail(twilio)
    pin = pin_from(standin)
    with app.extensions["helpline"].store.engine.connect() as conn:
        dump = repr([list(r) for r in conn.execute(text("SELECT * FROM callbacks"))])
    assert pin not in dump and CALLER not in dump


# -- language-first routing -------------------------------------------------------------------

def spanish_speaker(app):
    cli(app, "reps", "remove", REP_B)
    cli(app, "reps", "add", REP_B, "--languages", "es,en")
    cli(app, "reps", "on", REP_A)


def test_a_spanish_caller_rings_spanish_speakers_first_then_everyone(app):
    spanish_speaker(app)
    twilio = Twilio(app.test_client())
    sid = "CA" + "e" * 32
    twilio.post("/voice", {"CallSid": sid, "From": CALLER, "To": HELPLINE})
    twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "Digits": "8"})
    root = twiml(twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "Digits": "0"}))
    dial = root.find("Dial")
    assert [n.text for n in dial.findall("Number")] == [REP_B]
    assert dial.get("timeout") == "15"
    root = twiml(twilio.post(dial.get("action"), {"CallSid": sid, "DialCallStatus": "no-answer"}))
    assert sorted(n.text for n in root.findall("Dial/Number")) == [REP_A, REP_B]
    whisper = twiml(twilio.post(root.find("Dial/Number").get("url"), {"CallSid": "CAw"}))
    assert "prefers Español" in " ".join(s.text for s in whisper.iter("Say"))
    root = twiml(twilio.post(root.find("Dial").get("action"), {"CallSid": sid, "DialCallStatus": "no-answer"}))
    assert root.find("Dial") is None and root.find("Gather") is not None  # then voicemail / callback


def test_an_english_caller_rings_everyone_at_once(app):
    spanish_speaker(app)
    twilio = Twilio(app.test_client())
    twilio.post("/voice", {"CallSid": "CA2", "From": CALLER})
    root = twiml(twilio.post("/voice/step", {"CallSid": "CA2", "From": CALLER, "Digits": "0"}))
    root = twiml(twilio.post("/voice/step", {"CallSid": "CA2", "From": CALLER, "Digits": "0"}))
    assert sorted(n.text for n in root.findall("Dial/Number")) == [REP_A, REP_B]


def test_a_spanish_texter_is_offered_to_spanish_speakers_first_then_everyone(app):
    spanish_speaker(app)
    helpline = app.extensions["helpline"]
    texter.receive(helpline, TEXTER, "ESPAÑOL")
    turn = texter.receive(helpline, TEXTER, "0")
    assert [to for to, _ in turn.outbox] == [REP_B]
    assert "Español" in turn.outbox[0][1]
    later = utcnow() + timedelta(seconds=16)
    turn = texter.receive(helpline, "+15555550333", "hi", now=later)  # any later text passes the offer on
    assert [to for to, _ in turn.outbox] == [REP_A]
    assert "Español" in turn.outbox[0][1]
    assert texter.receive(helpline, "+15555550333", "hi", now=later).outbox == []


def test_a_representatives_languages_are_checked(app):
    bad = app.test_cli_runner().invoke(args=["reps", "add", "+15555550555", "--languages", "fr"])
    assert bad.exit_code != 0 and "languages" in bad.output
