"""Odd input at the edge: signed requests whose fields are not what Twilio sends get a 400,
never a 500 and never a second action."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from helpline import texter
from helpline.store import Event

from .conftest import CALLER, TEXTER, Twilio, twiml

ACCOUNT = "AC" + "a" * 32


def sms_form(**extra) -> dict:
    return {"From": TEXTER, "To": "+15555550100", "Body": "hi", "FromZip": "10001",
            "MessageSid": "SM" + uuid.uuid4().hex, **extra}


def contacts_counted(app) -> int:
    with app.extensions["helpline"].store.transaction() as db:
        return db.execute(select(func.count()).select_from(Event).where(Event.name == "contact")).scalar_one()


# -- point 3: SMS de-duplication cannot be dodged --------------------------------------------------

def test_a_copy_with_messagesid_folded_into_fromzip_is_refused(app, twilio):
    """Twilio's signature joins names and values with nothing between, so the copy has the
    original's signature: it must not be acted on again."""
    original = sms_form()
    signature = twilio.validator.compute_signature("http://localhost/sms", original)
    client = app.test_client()
    assert client.post("/sms", data=original, headers={"X-Twilio-Signature": signature}).status_code == 200
    folded = {k: v for k, v in original.items() if k != "MessageSid"}
    folded["FromZip"] = original["FromZip"] + "MessageSid" + original["MessageSid"]
    assert twilio.validator.compute_signature("http://localhost/sms", folded) == signature
    for _ in range(3):
        response = client.post("/sms", data=folded, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 400
    assert contacts_counted(app) == 1


@pytest.mark.parametrize("change", [
    {"MessageSid": ""},
    {"MessageSid": "SM123"},
    {"MessageSid": "SM" + "A" * 32},
    {"MessageSid": "SM" + "a" * 32 + "\n"},
    {"SmsSid": "SM" + "b" * 32},
    {"From": ""},
    {"From": "+1555\n"},
    {"From": "hello there"},
    {"NumMedia": "x"},
    {"FromZip": "1" * 40},
    {"AccountSid": "AC" + "b" * 32},
])
def test_malformed_sms_fields_are_400(make_app, change):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    twilio = Twilio(app.test_client())
    data = {**sms_form(AccountSid=ACCOUNT), **change}
    assert twilio.post("/sms", data).status_code == 400


def test_the_helplines_account_sid_is_required_when_set(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    twilio = Twilio(app.test_client())
    assert twilio.post("/sms", sms_form()).status_code == 400
    assert twilio.post("/sms", sms_form(AccountSid=ACCOUNT)).status_code == 200


def test_well_formed_texts_from_numbers_and_short_codes_pass(twilio):
    sid = "SM" + uuid.uuid4().hex
    assert twilio.post("/sms", sms_form(MessageSid=sid, SmsSid=sid, NumMedia="0")).status_code == 200
    assert twilio.post("/sms", sms_form(From="72345")).status_code == 200
    assert twilio.post("/sms", sms_form(MessageSid="MM" + uuid.uuid4().hex, FromZip="")).status_code == 200


# -- point 6: odd signed input is a 400, never a 500 ------------------------------------------------

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "3" * 32


@pytest.mark.parametrize("path, data", [
    ("/voice/recorded", {"RecordingUrl": RECORDING, "RecordingDuration": "²"}),
    ("/voice/recorded", {"RecordingUrl": RECORDING, "RecordingDuration": "٣"}),
    ("/voice/recorded", {"RecordingUrl": RECORDING, "RecordingDuration": "99999999999999999999"}),
    ("/voice/step", {"Digits": "1", "CallSid": "CA" + "1" * 32 + "\n"}),
    ("/voice/step", {"Digits": "1", "CallSid": "CA" + "1" * 70}),
    ("/voice/step?s=99999999999999999999", {"Digits": "1"}),
    ("/voice/whisper/answer?rep=99999999999999999999&call=CA1", {"Digits": "1"}),
    ("/voice/rep/dialback-done?cb=99999999999999999999", {"DialCallStatus": "completed"}),
    ("/voice/rep/pin?tries=1%0A", {"Digits": "123456"}),
    ("/voice/queue/left", {"QueueResult": "bridged\n"}),
    ("/voice/dial-status", {"DialCallStatus": "x" * 100}),
    ("/voice", {"From": CALLER + "\n"}),
])
def test_odd_voice_fields_are_400(twilio, path, data):
    response = twilio.post(path, {"CallSid": "CA" + "1" * 32, "From": CALLER, **data})
    assert response.status_code == 400


def test_a_caller_pressing_odd_keys_still_hears_a_menu(twilio):
    twilio.post("/voice", {"CallSid": "CA" + "1" * 32, "From": CALLER})
    root = twiml(twilio.post("/voice/step", {"CallSid": "CA" + "1" * 32, "Digits": "²٣\n"}))
    assert root.find("Gather") is not None


def test_a_sign_in_next_with_a_line_break_goes_home(make_app):
    from .test_staff import Console, add_account

    app = make_app()
    add_account(app)
    for bad in ("/staff\r\nSet-Cookie: x=1", "/staff/\nfoo", "/staff/\x00"):
        response = Console(app).login(next=bad)
        assert response.status_code == 302 and response.headers["Location"] == "/staff"


# -- point 7: only a lost database opens the breaker -------------------------------------------------

def test_a_statement_the_database_refuses_does_not_open_the_breaker(app, twilio):
    from helpline.store import Receipt, utcnow
    from helpline.webhook import Rejected, transaction

    helpline = app.extensions["helpline"]
    with pytest.raises(Rejected):
        with transaction(helpline) as db:
            db.add_all([Receipt(sid="same", at=utcnow()), Receipt(sid="same", at=utcnow())])
            db.flush()
    assert helpline.down_until == 0
    assert "Reply with a number" in twilio.text("hi")  # not the "we are offline" apology


def test_an_overlong_callsid_is_its_own_400_and_others_are_answered(app, twilio):
    response = twilio.post("/voice", {"CallSid": "CA" + "1" * 68, "From": CALLER})
    assert response.status_code == 400
    helpline = app.extensions["helpline"]
    if helpline.store.engine.dialect.name == "postgresql":  # SQLite has no length limit
        from helpline import caller
        from helpline.engine import Input
        from helpline.webhook import Rejected

        with pytest.raises(Rejected):
            caller.step(helpline, "CA" + "1" * 68, CALLER, Input("start"))
    assert helpline.down_until == 0
    assert "Reply with a number" in twilio.text("hi")


def test_a_refused_request_is_a_400(app, twilio, monkeypatch):
    from helpline.webhook import Rejected

    def refuse(*args, **kwargs):
        raise Rejected()

    monkeypatch.setattr(texter, "receive", refuse)
    assert twilio.sms("hi").status_code == 400


# -- point 9: callbacks only to ordinary lines in CALLBACK_REGIONS ----------------------------------

def asks_for_a_callback(twilio, number, sid="CA" + "4" * 32) -> str:
    """A caller whose dial went unanswered asks for a call back: what they hear."""
    twilio.post("/voice", {"CallSid": sid, "From": number})
    twilio.post("/voice/step", {"CallSid": sid, "From": number, "Digits": "0"})
    twilio.post("/voice/dial-status", {"CallSid": sid, "DialCallStatus": "no-answer"})
    root = twiml(twilio.post("/voice/step", {"CallSid": sid, "From": number, "Digits": "2"}))
    return " ".join(s.text for s in root.iter("Say"))


@pytest.mark.parametrize("number", [
    "+19005550100",   # premium rate
    "+18765550100",   # Jamaica, inside +1: the classic toll-fraud callback
    "+447400123456",  # another country
    "+15555550100",   # not a real line
    "+266696687",     # Twilio's "anonymous"
    "+7378742833",    # Twilio's "restricted"
    "+2562533",       # Twilio's "blocked"
    "+8656696",       # Twilio's "unavailable"
    "anonymous",
])
def test_no_callback_offer_or_pin_for_numbers_it_must_not_dial(make_app, number):
    app = make_app(HELPLINE_REPRESENTATIVES="+15555550901", HELPLINE_COORDINATORS="+15555550999")
    twilio = Twilio(app.test_client())
    spoken = asks_for_a_callback(twilio, number)
    assert "can't see a number" in spoken and "leave a message instead" in spoken
    from helpline.store import Callback

    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(func.count()).select_from(Callback)).scalar_one() == 0


def test_an_ordinary_line_gets_the_callback_offer(twilio):
    assert "will call you back" in asks_for_a_callback(twilio, CALLER)


def test_callback_regions_are_configurable(make_app):
    app = make_app(CALLBACK_REGIONS="US,GB")
    assert "will call you back" in asks_for_a_callback(Twilio(app.test_client()), "+447400123456")
    assert "can't see a number" in asks_for_a_callback(Twilio(app.test_client()), "+18765550100",
                                                        sid="CA" + "5" * 32)


def test_unknown_callback_regions_refuse_to_start(make_app):
    from helpline.config import ConfigError

    with pytest.raises(ConfigError, match="CALLBACK_REGIONS"):
        make_app(CALLBACK_REGIONS="USA")
