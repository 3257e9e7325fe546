"""Representatives proven by a passcode, not by caller ID; wrong passcodes and PINs counted
across calls; each call-in audited with the carrier's caller-ID verdict."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from helpline.staff.models import AuditLog
from helpline.store import AuthFailure, Callback, Representative, utcnow

from .conftest import CALLER, Twilio, twiml
from .test_shifts import wait_for

REP_A, REP_B, COORDINATOR = "+15555550901", "+15555550902", "+15555550999"
PASSCODE = "73915264"
REP_SID = "CA" + "e" * 32


@pytest.fixture
def app(make_app, standin):
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_COORDINATORS=COORDINATOR,
                   TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_API_BASE=standin.url)
    for number in (REP_A, REP_B):
        set_passcode(app, number)
    return app


@pytest.fixture
def twilio(app):
    return Twilio(app.test_client())


def set_passcode(app, number, passcode=PASSCODE):
    result = app.test_cli_runner().invoke(args=["reps", "passcode", number],
                                          input=f"{passcode}\n{passcode}\n")
    assert result.exit_code == 0, result.output


def audit_lines(app) -> list[str]:
    with app.extensions["helpline"].store.transaction() as db:
        return list(db.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def call_in(twilio, rep=REP_A, sid=REP_SID, **extra):
    return twiml(twilio.post("/voice", {"CallSid": sid, "From": rep, **extra}))


def enter(twilio, root, digits, rep=REP_A, sid=REP_SID):
    return twiml(twilio.post(root.find("Gather").get("action"),
                             {"CallSid": sid, "From": rep, "Digits": digits}))


def queue_a_caller(twilio, app):
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(text("UPDATE representatives SET on_call = 'CAother', on_call_since = :now"),
                   {"now": "2999-01-01 00:00:00"})
    sid = "CA" + "c" * 32
    for data in ({}, {"Digits": "1"}, {"Digits": "0"}):
        root = twiml(twilio.post("/voice/step" if data else "/voice",
                                 {"CallSid": sid, "From": CALLER, **data}))
    assert root.find("Enqueue") is not None


def test_caller_id_alone_only_reaches_the_passcode(twilio, app):
    queue_a_caller(twilio, app)
    root = call_in(twilio)
    gather = root.find("Gather")
    assert gather.get("action").startswith("/voice/rep/passcode")
    assert "passcode" in gather.find("Say").text and "waiting" not in gather.find("Say").text
    # A forged call that skipped the passcode cannot take the queue or start a dialback.
    take = twiml(twilio.post("/voice/rep/take", {"CallSid": REP_SID, "From": REP_A, "Digits": "1"}))
    assert take.find("Dial") is None and take.find("Hangup") is not None
    pin = twiml(twilio.post("/voice/rep/pin", {"CallSid": REP_SID, "From": REP_A, "Digits": "123456"}))
    assert pin.find("Dial") is None


def test_the_right_passcode_opens_the_menu_and_takes_the_queue(twilio, app):
    queue_a_caller(twilio, app)
    menu = enter(twilio, call_in(twilio), PASSCODE)
    assert "Callers waiting: 1" in menu.find("Gather/Say").text
    assert enter(twilio, menu, "1").find("Dial/Queue").text == "helpline"


def test_a_passcode_proves_one_call_not_the_next(twilio, app):
    enter(twilio, call_in(twilio), PASSCODE)
    other = "CA" + "f" * 32
    call_in(twilio, sid=other)
    take = twiml(twilio.post("/voice/rep/take", {"CallSid": other, "From": REP_A, "Digits": "2"}))
    assert take.find("Gather") is None


def test_only_representatives_on_duty_take_the_queue(twilio, app):
    queue_a_caller(twilio, app)
    twilio.sms("OFF", REP_A)
    menu = enter(twilio, call_in(twilio), PASSCODE)
    answer = enter(twilio, menu, "1")
    assert answer.find("Dial") is None
    assert "off duty" in answer.find("Gather/Say").text


def test_wrong_passcodes_end_the_call(twilio):
    root = call_in(twilio)
    for _ in range(2):
        root = enter(twilio, root, "11111111")
        assert "isn't right" in root.find("Gather/Say").text
    root = enter(twilio, root, "11111111")
    assert root.find("Gather") is None and root.find("Hangup") is not None


def test_a_representative_without_a_passcode_is_told_to_ask(make_app):
    app = make_app(HELPLINE_REPRESENTATIVES=REP_A)
    root = call_in(Twilio(app.test_client()))
    assert root.find("Gather") is None and "No passcode" in root.find("Say").text


def test_every_call_in_is_audited_with_the_caller_id_verdict(twilio, app):
    enter(twilio, call_in(twilio, StirVerstat="TN-Validation-Passed-A"), PASSCODE)
    enter(twilio, call_in(twilio, sid="CA" + "f" * 32), "00000000", sid="CA" + "f" * 32)
    lines = audit_lines(app)
    assert any(re.fullmatch(r"rep \d+ call-in, caller ID verified \(TN-Validation-Passed-A\)", a)
               for a in lines)
    assert any(re.fullmatch(r"rep \d+ call-in, caller ID UNVERIFIED \(no StirVerstat\)", a)
               for a in lines)
    assert any(a.endswith("passcode right") for a in lines)
    assert any(a.endswith("passcode wrong") for a in lines)
    assert not any(PASSCODE in a or "5550901" in a for a in lines)


def test_passcodes_are_kept_as_keyed_hashes(app):
    with app.extensions["helpline"].store.engine.connect() as conn:
        dump = repr([list(r) for r in conn.execute(text("SELECT * FROM representatives"))])
    assert PASSCODE not in dump
    with app.extensions["helpline"].store.transaction() as db:
        hashes = list(db.execute(select(Representative.passcode_hash)).scalars())
    assert len(set(hashes)) == 2  # the same passcode hashes differently per representative


def test_reps_passcode_generate_prints_it_once(app, twilio):
    result = app.test_cli_runner().invoke(args=["reps", "passcode", REP_B, "--generate"])
    assert result.exit_code == 0, result.output
    passcode = re.search(r"\b(\d{8})\b", result.output)[1]
    menu = enter(twilio, call_in(twilio, rep=REP_B), passcode, rep=REP_B)
    assert menu.find("Gather").get("action").startswith("/voice/rep/take")


@pytest.mark.parametrize("passcode", ["12345", "123456789", "12a456"])
def test_a_passcode_is_6_to_8_digits(app, passcode):
    result = app.test_cli_runner().invoke(args=["reps", "passcode", REP_A],
                                          input=f"{passcode}\n{passcode}\n")
    assert result.exit_code != 0 and "6 to 8 digits" in result.output


# -- wrong PINs and passcodes across calls ------------------------------------------------------

def open_callback(app) -> str:
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        _, pin = helpline.callbacks.save(db, "voice", "caller-hash", CALLER, "en", utcnow())
    return pin


def pin_prompt(twilio, sid, rep=REP_A):
    return enter(twilio, enter(twilio, call_in(twilio, rep, sid), PASSCODE, rep, sid), "2", rep, sid)


def test_wrong_pins_are_counted_across_calls_and_lock(app, twilio, standin):
    pin = open_callback(app)
    wrong = "000000" if pin != "000000" else "111111"
    answers = []
    for n in range(4):
        sid = f"CA{n:032x}"
        root = pin_prompt(twilio, sid)
        while root.find("Gather") is not None:
            root = enter(twilio, root, wrong, sid=sid)
        answers.append(" ".join(s.text for s in root.iter("Say")))
    assert "too many wrong PINs" in answers[0]
    assert "paused" in answers[3]  # the tenth wrong PIN in the hour
    wait_for(lambda: standin.requests)
    [alert] = standin.requests
    assert alert["form"]["To"] == COORDINATOR and "locked" in alert["form"]["Body"]
    assert pin not in alert["form"]["Body"] and CALLER not in alert["form"]["Body"]
    later = call_in(twilio, sid="CA" + "9" * 32)
    assert later.find("Gather") is None and "paused" in later.find("Say").text
    assert sum(a.endswith("PIN wrong") for a in audit_lines(app)) == 10


def test_the_lock_lifts_after_an_hour(app, twilio):
    pin = open_callback(app)
    with app.extensions["helpline"].store.transaction() as db:
        for _ in range(10):
            db.add(AuthFailure(at=utcnow(), rep_id=1, kind="pin"))
    assert "paused" in call_in(twilio).find("Say").text
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(AuthFailure).values(at=utcnow() - timedelta(minutes=61)))
    assert enter(twilio, pin_prompt(twilio, REP_SID), pin).find("Dial/Number").text == CALLER


def test_wrong_entries_from_everyone_lock_everyone(make_app, standin):
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", AUTH_FAILURES_PER_HOUR=4,
                   HELPLINE_COORDINATORS=COORDINATOR, TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                   TWILIO_API_BASE=standin.url)
    for number in (REP_A, REP_B):
        set_passcode(app, number)
    twilio = Twilio(app.test_client())
    root = call_in(twilio)
    for _ in range(3):
        root = enter(twilio, root, "99999999")
    root = enter(twilio, call_in(twilio, sid="CA" + "8" * 32), "99999999", sid="CA" + "8" * 32)
    assert "paused" in root.find("Say").text
    other = call_in(twilio, rep=REP_B, sid="CA" + "7" * 32)
    assert other.find("Gather") is None and "paused" in other.find("Say").text


# -- replayed action URLs act once ----------------------------------------------------------------

CALL = "CA" + "c" * 32


def ring_representatives(twilio):
    for data in ({}, {"Digits": "1"}, {"Digits": "0"}):
        root = twiml(twilio.post("/voice/step" if data else "/voice",
                                 {"CallSid": CALL, "From": CALLER, **data}))
    return root


def busy_reps(app) -> list[str | None]:
    with app.extensions["helpline"].store.transaction() as db:
        return list(db.execute(select(Representative.on_call).order_by(Representative.id)).scalars())


def test_a_replayed_whisper_answer_marks_nobody_busy(app, twilio):
    url = ring_representatives(twilio).find("Dial/Number").get("url")
    answer = twiml(twilio.post(url, {"CallSid": "CA" + "a" * 32})).find("Gather").get("action")
    leg = {"CallSid": "CA" + "a" * 32, "Digits": "1"}
    assert list(twiml(twilio.post(answer, leg))) == []  # bridged
    twilio.post("/voice/dial-status?s=3", {"CallSid": CALL, "DialCallStatus": "completed"})
    assert busy_reps(app) == [None, None]
    assert twiml(twilio.post(answer, leg)).find("Hangup") is not None
    assert busy_reps(app) == [None, None]


def test_a_whisper_answer_counts_only_from_a_representative_that_call_rings(app, twilio):
    twilio.sms("OFF", REP_B)
    numbers = ring_representatives(twilio).findall("Dial/Number")
    assert [n.text for n in numbers] == [REP_A]
    forged = f"/voice/whisper/answer?rep=2&call={CALL}"
    assert twiml(twilio.post(forged, {"CallSid": "CA" + "b" * 32, "Digits": "1"})).find("Hangup") is not None
    assert busy_reps(app) == [None, None]


def test_a_replayed_pin_step_neither_dials_nor_wedges_the_callback(app, twilio):
    pin = open_callback(app)
    prompt = pin_prompt(twilio, REP_SID)
    dial = enter(twilio, prompt, pin)
    assert dial.find("Dial/Number").text == CALLER
    replay = enter(twilio, prompt, pin)
    assert replay.find("Dial") is None and CALLER not in str(ET.tostring(replay))
    # The first dial's end is never reported: after a few minutes the PIN works again.
    other = "CA" + "d" * 32
    assert enter(twilio, pin_prompt(twilio, other), pin, sid=other).find("Dial") is None
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Callback).values(dialing_at=utcnow() - timedelta(minutes=6)))
    third = "CA" + "5" * 32
    assert enter(twilio, pin_prompt(twilio, third), pin, sid=third).find("Dial/Number").text == CALLER


def test_a_dialback_is_closed_only_by_the_call_dialling_it(app, twilio):
    pin = open_callback(app)
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        other, _ = helpline.callbacks.save(db, "sms", "other-hash", "+15555550177", "en", utcnow())
        other_id = other.id
    dial = enter(twilio, pin_prompt(twilio, REP_SID), pin).find("Dial")
    forged = dial.get("action").replace(dial.get("action").split("cb=")[1], str(other_id))
    twilio.post(forged, {"CallSid": REP_SID, "From": REP_A, "DialCallStatus": "completed"})
    twilio.post(dial.get("action"), {"CallSid": "CA" + "6" * 32, "From": REP_A,
                                     "DialCallStatus": "completed"})
    with helpline.store.transaction() as db:
        assert all(cb.done_at is None for cb in db.execute(select(Callback)).scalars())
    twilio.post(dial.get("action"), {"CallSid": REP_SID, "From": REP_A, "DialCallStatus": "completed"})
    with helpline.store.transaction() as db:
        done = {cb.id: cb.done_at is not None for cb in db.execute(select(Callback)).scalars()}
    assert done[other_id] is False and sum(done.values()) == 1
