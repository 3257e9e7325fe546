"""Live representatives, through signed requests: relayed texts, transferred calls,
the queue, voicemail and callbacks, duty and opening hours."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text, update

from helpline import texter
from helpline.hours import Hours, HoursError
from helpline.store import Callback, Chat, Conversation, Representative, Voicemail, utcnow

from .conftest import CALLER, TEXTER, Twilio, twiml

REP_A, REP_B = "+15555550901", "+15555550902"
HELPLINE = "+15555550100"
RECORDINGS = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/"


@pytest.fixture
def app(make_app):
    return make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_NUMBER=HELPLINE)


def messages(response) -> list[tuple[str | None, str]]:
    assert response.status_code == 200, response.data
    return [(m.get("to"), m.text or "") for m in twiml(response).iter("Message")]


def sms(twilio: Twilio, body: str, number: str = TEXTER):
    return messages(twilio.sms(body, number))


def reply_of(msgs):
    return "\n".join(t for to, t in msgs if to is None)


def sent_to(msgs, number):
    return [t for to, t in msgs if to == number]


def code_from(notice: str) -> str:
    return notice.split("#", 1)[1].split()[0]


def ask_for_person(twilio, number=TEXTER):
    sms(twilio, "hi", number)
    return sms(twilio, "0", number)


# -- roster and duty ---------------------------------------------------------------------------

def test_representatives_are_seeded_on_duty_with_numbers_only_encrypted(app):
    with app.extensions["helpline"].store.transaction() as db:
        reps = db.execute(select(Representative)).scalars().all()
        assert [r.on_duty for r in reps] == [True, True]
        dump = repr([list(row) for row in db.execute(text("SELECT * FROM representatives"))])
    assert "5550901" not in dump and "5550902" not in dump


def test_reseeding_keeps_a_representatives_duty(app, make_app):
    twilio = Twilio(app.test_client())
    sms(twilio, "OFF", REP_A)
    again = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}")
    assert "off duty" in reply_of(sms(Twilio(again.test_client()), "STATUS", REP_A))


def test_bad_representative_number_refuses_to_start(make_app):
    from helpline.config import ConfigError

    with pytest.raises(ConfigError, match="HELPLINE_REPRESENTATIVES"):
        make_app(HELPLINE_REPRESENTATIVES="555-0100")


def test_on_off_status(twilio):
    assert "off duty" in reply_of(sms(twilio, "OFF", REP_A)).lower()
    assert "You're off duty" in reply_of(sms(twilio, "status", REP_A))
    assert "You're on duty" in reply_of(sms(twilio, "ON", REP_A))
    ask_for_person(twilio)
    assert "Waiting: 1 texters, 0 callers" in reply_of(sms(twilio, "STATUS", REP_B))


def test_a_representatives_text_is_never_a_texters(twilio):
    msgs = sms(twilio, "hi", REP_A)
    assert "Helpline commands" in reply_of(msgs)
    assert "Reply with a number" not in reply_of(msgs)


def test_nobody_on_duty_texter_gets_national_numbers_and_callback(twilio):
    sms(twilio, "OFF", REP_A)
    sms(twilio, "OFF", REP_B)
    msgs = ask_for_person(twilio)
    assert [to for to, _ in msgs] == [None]
    reply = reply_of(msgs)
    assert "No one is free" in reply and "988" in reply and "1-800-662-4357" in reply
    assert "1 Ask for a call back" in reply and "message" not in reply.lower().split("back")[0]


# -- texts relayed ----------------------------------------------------------------------------

def test_texter_asking_for_a_person_is_told_and_reps_are_notified_by_code(twilio):
    msgs = ask_for_person(twilio)
    assert "A person will text you back here soon" in reply_of(msgs)
    assert "1-800-662-4357" in reply_of(msgs)
    for rep in (REP_A, REP_B):
        [notice] = sent_to(msgs, rep)
        assert "ACCEPT" in notice and "#" in notice
        assert TEXTER not in notice and TEXTER[-4:] not in notice


def test_first_accept_wins_and_the_second_hears_it_was_taken(twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    won = sms(twilio, f"ACCEPT {code}", REP_A)
    assert f"You're chatting with #{code}" in reply_of(won)
    assert "now texting with a person" in sent_to(won, TEXTER)[0]
    lost = sms(twilio, f"accept #{code.lower()}", REP_B)
    assert "already taken" in reply_of(lost)
    assert sent_to(lost, TEXTER) == []


def test_relay_both_ways_with_no_numbers_shown(app, twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    msgs = sms(twilio, "I'm scared to tell my family")
    assert reply_of(msgs) == ""
    [relayed] = sent_to(msgs, REP_A)
    assert relayed == f"#{code}: I'm scared to tell my family"
    assert sent_to(msgs, REP_B) == []
    back = sms(twilio, "That makes sense. You're not alone.", REP_A)
    assert sent_to(back, TEXTER) == ["That makes sense. You're not alone."]
    assert reply_of(back) == ""
    for _, body in msgs + back:
        assert TEXTER not in body and REP_A not in body
    with app.extensions["helpline"].store.engine.connect() as conn:
        dump = repr([list(r) for t in ("chats", "conversations", "contacts")
                     for r in conn.execute(text(f"SELECT * FROM {t}"))])
    assert "scared" not in dump and "not alone" not in dump
    with app.extensions["helpline"].store.transaction() as db:
        chat = db.execute(select(Chat)).scalar_one()
        assert (chat.texter_messages, chat.rep_messages) == (1, 1)


def test_crisis_words_in_a_chat_are_answered_and_relayed(twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    msgs = sms(twilio, "i think i took too much, overdose")
    assert "call 911 now" in reply_of(msgs)
    assert sent_to(msgs, REP_A) == [f"#{code}: i think i took too much, overdose"]


def test_done_ends_the_chat_and_the_menu_is_back(app, twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    done = sms(twilio, "DONE", REP_A)
    assert f"Chat with #{code} ended" in reply_of(done)
    assert "has ended" in sent_to(done, TEXTER)[0]
    assert "Reply with a number" in reply_of(sms(twilio, "menu"))
    with app.extensions["helpline"].store.transaction() as db:
        chat = db.execute(select(Chat)).scalar_one()
        assert chat.status == "ended" and chat.texter_encrypted is None


def test_one_chat_per_representative_and_next_takes_the_next(twilio):
    other = "+15555550177"
    first = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    second = code_from(sent_to(ask_for_person(twilio, other), REP_A)[0])
    sms(twilio, f"ACCEPT {first}", REP_A)
    assert f"Finish your chat with #{first}" in reply_of(sms(twilio, f"ACCEPT {second}", REP_A))
    assert "Finish your chat" in reply_of(sms(twilio, "NEXT", REP_A))
    done = sms(twilio, "DONE", REP_A)
    assert "1 texters waiting" in reply_of(done)
    took = sms(twilio, "NEXT", REP_A)
    assert f"You're chatting with #{second}" in reply_of(took)
    assert sent_to(took, other)
    assert "No texters are waiting" in reply_of(sms(twilio, "NEXT", REP_B))


def test_stop_mid_chat_ends_it_and_tells_the_representative(twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    msgs = sms(twilio, "STOP")
    assert "opted out" in reply_of(msgs)
    assert f"#{code} opted out" in sent_to(msgs, REP_A)[0]
    after = sms(twilio, "are you there?", REP_A)
    assert sent_to(after, TEXTER) == []
    assert sms(twilio, "hello") == []


def test_help_mid_chat_is_answered_not_relayed(twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    msgs = sms(twilio, "HELP")
    assert "988" in reply_of(msgs) and sent_to(msgs, REP_A) == []


def test_unknown_code(twilio):
    assert "No texter #ZZ9 is waiting" in reply_of(sms(twilio, "ACCEPT ZZ9", REP_A))


def test_a_long_wait_is_told_once_with_national_numbers(app, twilio):
    ask_for_person(twilio)
    early = reply_of(sms(twilio, "hello?"))
    assert "Sorry for the wait" not in early and "pass what you write on" in early
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Chat).values(created_at=datetime(2020, 1, 1)))
    reply = reply_of(sms(twilio, "anyone?"))
    assert "Sorry for the wait" in reply and "988" in reply
    later = reply_of(sms(twilio, "still here"))
    assert later == ""  # kept for the person who accepts, with no wall of repeats


def test_stop_while_waiting_cancels_the_request(twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, "STOP")
    assert "No texter" in reply_of(sms(twilio, f"ACCEPT {code}", REP_A))


# -- calls -----------------------------------------------------------------------------------

SID = "CA" + "c" * 32


def call(twilio, path="/voice", **data):
    response = twilio.post(path, {"CallSid": SID, "From": CALLER, "To": HELPLINE, **data})
    assert response.status_code == 200, response.data
    return twiml(response)


def to_person(twilio):
    call(twilio)
    call(twilio, "/voice/step", Digits="1")
    return call(twilio, "/voice/step", Digits="0")


def test_caller_asking_for_a_person_rings_every_free_representative(twilio):
    root = to_person(twilio)
    assert "Connecting you with a person" in root.find("Say").text
    dial = root.find("Dial")
    assert dial.get("callerId") == HELPLINE
    assert dial.get("timeout") == "25"
    assert dial.get("action").startswith("/voice/dial-status?s=")
    numbers = dial.findall("Number")
    assert sorted(n.text for n in numbers) == [REP_A, REP_B]
    for n in numbers:
        assert n.get("url").startswith("/voice/whisper?rep=")
    assert root.find("Hangup") is None


def test_off_duty_representatives_are_not_rung(twilio):
    sms(twilio, "OFF", REP_B)
    assert [n.text for n in to_person(twilio).iter("Number")] == [REP_A]


def whisper_url(twilio):
    return next(to_person(twilio).iter("Number")).get("url")


def test_whisper_asks_the_representative_to_press_1(twilio):
    url = whisper_url(twilio)
    root = twilio.post(url, {"CallSid": "CA" + "r" * 32, "ParentCallSid": SID, "To": REP_A})
    root = twiml(root)
    gather = root.find("Gather")
    assert "press 1 to accept" in gather.find("Say").text.lower()
    assert gather.get("numDigits") == "1"
    assert root.find("Hangup") is not None  # silence (or their voicemail) hangs up their leg


def test_whisper_tells_the_callers_language(twilio):
    call(twilio)
    call(twilio, "/voice/step", Digits="8")
    root = call(twilio, "/voice/step", Digits="0")
    url = next(root.iter("Number")).get("url")
    spoken = " ".join(s.text for s in twiml(twilio.post(url, {"CallSid": "CA2"})).iter("Say"))
    assert "The caller prefers Español." in spoken


def test_pressing_1_bridges_and_marks_the_representative_busy(app, twilio):
    url = whisper_url(twilio)
    answer_url = twiml(twilio.post(url, {"CallSid": "CAr"})).find("Gather").get("action")
    root = twiml(twilio.post(answer_url, {"CallSid": "CAr", "Digits": "1"}))
    assert list(root) == []  # an empty answer ends the whisper and bridges the call
    second = "CA" + "d" * 32
    twilio.post("/voice", {"CallSid": second, "From": "+15555550199"})
    twilio.post("/voice/step", {"CallSid": second, "Digits": "1"})
    root = twiml(twilio.post("/voice/step", {"CallSid": second, "Digits": "0"}))
    assert len(root.findall("Dial/Number")) == 1  # the busy representative is not rung


@pytest.mark.parametrize("digits", ["", "2", "*"])
def test_anything_but_1_hangs_up_the_representatives_leg(twilio, digits):
    url = whisper_url(twilio)
    answer_url = twiml(twilio.post(url, {"CallSid": "CAr"})).find("Gather").get("action")
    root = twiml(twilio.post(answer_url, {"CallSid": "CAr", "Digits": digits}))
    assert root.find("Hangup") is not None


def test_completed_call_ends_politely_and_frees_the_representative(twilio):
    url = whisper_url(twilio)
    answer_url = twiml(twilio.post(url, {"CallSid": "CAr"})).find("Gather").get("action")
    twilio.post(answer_url, {"CallSid": "CAr", "Digits": "1"})
    root = call(twilio, "/voice/dial-status", DialCallStatus="completed")
    assert "Thank you for calling" in root.find("Say").text
    assert root.find("Hangup") is not None
    assert len(to_person(twilio).findall("Dial/Number")) == 2


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled", "completed"])
def test_unanswered_dial_offers_voicemail_and_callback(twilio, status):
    to_person(twilio)  # "completed" without anyone pressing 1 means a voicemail picked up
    root = call(twilio, "/voice/dial-status", DialCallStatus=status)
    spoken = " ".join(s.text for s in root.iter("Say"))
    assert "No one is free" in spoken and "9 8 8" in spoken and "1 8 0 0, 6 6 2, 4 3 5 7" in spoken
    assert "To leave a message, press 1." in spoken
    assert root.find("Gather") is not None and root.find("Hangup") is None


def test_nobody_on_duty_goes_straight_to_voicemail_offer(twilio):
    sms(twilio, "OFF", REP_A)
    sms(twilio, "OFF", REP_B)
    root = to_person(twilio)
    assert root.find("Dial") is None
    assert "No one is free" in " ".join(s.text for s in root.iter("Say"))


def test_voicemail_is_recorded_stored_and_confirmed(app, twilio):
    to_person(twilio)
    call(twilio, "/voice/dial-status", DialCallStatus="no-answer")
    root = call(twilio, "/voice/step", Digits="1")
    record = root.find("Record")
    assert record.get("maxLength") == "120" and record.get("action").startswith("/voice/recorded?s=")
    assert "after the tone" in root.find("Say").text
    root = call(twilio, "/voice/recorded", RecordingUrl=RECORDINGS + "RE" + "1" * 32,
                RecordingSid="RE" + "1" * 32, RecordingDuration="42")
    spoken = " ".join(s.text for s in root.iter("Say"))
    assert "Your message is saved" in spoken and "9 8 8" in spoken and "1 8 0 0" in spoken
    assert root.find("Gather") is not None
    with app.extensions["helpline"].store.transaction() as db:
        vm = db.execute(select(Voicemail)).scalar_one()
    assert vm.duration == 42 and vm.recording_url.endswith("/RE" + "1" * 32) and vm.lang == "en"
    assert vm.caller_hash and CALLER not in vm.caller_hash


def test_empty_recording_asks_again(app, twilio):
    to_person(twilio)
    call(twilio, "/voice/dial-status", DialCallStatus="busy")
    call(twilio, "/voice/step", Digits="1")
    root = call(twilio, "/voice/recorded", RecordingUrl=RECORDINGS + "RE" + "2" * 32,
                RecordingDuration="0")
    assert root.find("Record") is not None
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Voicemail)).first() is None


def test_callback_is_stored_encrypted_and_read_back(app, twilio):
    to_person(twilio)
    call(twilio, "/voice/dial-status", DialCallStatus="no-answer")
    root = call(twilio, "/voice/step", Digits="2")
    spoken = " ".join(s.text for s in root.iter("Say"))
    assert "the number ending in 0 1 8 8" in spoken and "9 8 8" in spoken
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        cb = db.execute(select(Callback)).scalar_one()
        raw = repr([list(r) for r in db.execute(text("SELECT * FROM callbacks"))])
    assert CALLER not in raw and "5550188" not in raw
    assert helpline.vault.decrypt(cb.number_encrypted) == CALLER


def test_callback_from_a_hidden_number_is_refused_kindly(twilio):
    twilio.post("/voice", {"CallSid": SID, "From": "anonymous"})
    twilio.post("/voice/step", {"CallSid": SID, "From": "anonymous", "Digits": "0"})
    twilio.post("/voice/dial-status", {"CallSid": SID, "DialCallStatus": "no-answer"})
    root = twiml(twilio.post("/voice/step", {"CallSid": SID, "From": "anonymous", "Digits": "2"}))
    assert "can't see a number" in " ".join(s.text for s in root.iter("Say"))


def test_texter_callback_when_nobody_is_free(app, twilio):
    sms(twilio, "OFF", REP_A)
    sms(twilio, "OFF", REP_B)
    ask_for_person(twilio)
    assert "number ending in 0123" in reply_of(sms(twilio, "1"))
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Callback.channel)).scalar_one() == "sms"


# -- queue -----------------------------------------------------------------------------------

def make_everyone_busy(app):
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Representative).values(on_call="CAother", on_call_since=utcnow()))


def test_everyone_busy_puts_the_caller_in_the_queue(app, twilio):
    make_everyone_busy(app)
    root = to_person(twilio)
    enqueue = root.find("Enqueue")
    assert enqueue.text == "helpline"
    assert enqueue.get("waitUrl") == "/voice/queue/wait"
    assert enqueue.get("action").startswith("/voice/queue/left?s=")
    wait = twiml(twilio.post("/voice/queue/wait", {"CallSid": SID, "QueuePosition": "3",
                                                   "CurrentQueueSize": "3"}))
    gather = wait.find("Gather")
    assert "number 3 in line" in gather.find("Say").text
    assert gather.find("Play").text.startswith("http")
    assert list(twiml(twilio.post("/voice/queue/key", {"CallSid": SID, "Digits": "1"})))[0].tag == "Leave"
    left = call(twilio, "/voice/queue/left", QueueResult="leave")
    assert "To leave a message, press 1." in " ".join(s.text for s in left.iter("Say"))


def test_hold_music_is_configurable(make_app):
    app = make_app(HELPLINE_REPRESENTATIVES=REP_A, HOLD_MUSIC_URL="https://example.org/calm.mp3")
    twilio = Twilio(app.test_client())
    make_everyone_busy(app)
    to_person(twilio)
    wait = twiml(twilio.post("/voice/queue/wait", {"CallSid": SID, "QueuePosition": "1"}))
    assert wait.find("Gather/Play").text == "https://example.org/calm.mp3"


PASSCODE = "20261128"


def rep_calls_in(app, twilio, sid, rep):
    """A representative calls the helpline and enters their passcode: the menu."""
    result = app.test_cli_runner().invoke(args=["reps", "passcode", rep], input=f"{PASSCODE}\n" * 2)
    assert result.exit_code == 0, result.output
    root = twiml(twilio.post("/voice", {"CallSid": sid, "From": rep}))
    return twiml(twilio.post(root.find("Gather").get("action"),
                             {"CallSid": sid, "From": rep, "Digits": PASSCODE}))


def test_representative_calling_in_hears_the_queue_and_takes_the_next(app, twilio):
    make_everyone_busy(app)
    to_person(twilio)
    rep_sid = "CA" + "e" * 32
    root = rep_calls_in(app, twilio, rep_sid, REP_A)
    assert "Callers waiting: 1" in root.find("Gather/Say").text
    root = twiml(twilio.post(root.find("Gather").get("action"),
                             {"CallSid": rep_sid, "From": REP_A, "Digits": "1"}))
    assert root.find("Dial/Queue").text == "helpline"
    bridged = call(twilio, "/voice/queue/left", QueueResult="bridged")
    assert "Thank you for calling" in bridged.find("Say").text
    after = twiml(twilio.post("/voice/rep/after", {"CallSid": rep_sid, "From": REP_A}))
    assert "No callers are waiting" in after.find("Gather/Say").text


def test_representative_calling_with_nobody_waiting(app, twilio):
    root = rep_calls_in(app, twilio, "CAz", REP_B)
    spoken = " ".join(s.text for s in root.iter("Say"))
    assert "No callers are waiting" in spoken and "press 2" in spoken
    root = twiml(twilio.post("/voice/rep/take", {"CallSid": "CAz", "From": REP_B, "Digits": "1"}))
    assert root.find("Dial") is None and "No callers are waiting" in root.find("Gather/Say").text


def test_caller_hanging_up_in_the_queue_leaves_it(app, twilio):
    make_everyone_busy(app)
    to_person(twilio)
    assert list(call(twilio, "/voice/queue/left", QueueResult="hangup")) == []
    rep_root = rep_calls_in(app, twilio, "CAz", REP_B)
    assert "No callers are waiting" in rep_root.find("Gather/Say").text


# -- opening hours ---------------------------------------------------------------------------

def test_outside_opening_hours_callers_hear_when_we_are_open(make_app):
    app = make_app(HELPLINE_REPRESENTATIVES=REP_A, HELPLINE_HOURS="mon-fri 09:00-17:00",
                   HELPLINE_TIMEZONE="America/New_York")
    helpline = app.extensions["helpline"]
    saturday_night = datetime(2026, 11, 29, 3, 0)  # Saturday 22:00 in New York
    assert not helpline.hours.is_open(saturday_night)
    turn = texter.receive(helpline, TEXTER, "hi", now=saturday_night)
    turn = texter.receive(helpline, TEXTER, "0", now=saturday_night)
    assert "We're closed now" in turn.text()
    assert "Monday to Friday, 9 a.m. to 5 p.m. Eastern time" in turn.text()
    assert turn.outbox == []
    tuesday_noon = datetime(2026, 12, 1, 17, 0)
    texter.receive(helpline, TEXTER, "hi", now=tuesday_noon)
    assert "text you back" in texter.receive(helpline, TEXTER, "0", now=tuesday_noon).text()


def test_hours_parse_and_boundaries():
    hours = Hours.parse("mon-fri 09:00-17:00; sat 22:00-02:00", "America/New_York")
    utc = lambda *a: datetime(*a)  # noqa: E731
    assert not hours.is_open(utc(2026, 12, 1, 13, 59))   # Tue 08:59 EST
    assert hours.is_open(utc(2026, 12, 1, 14, 0))        # Tue 09:00
    assert hours.is_open(utc(2026, 12, 1, 21, 59))       # Tue 16:59
    assert not hours.is_open(utc(2026, 12, 1, 22, 0))    # Tue 17:00
    assert hours.is_open(utc(2026, 12, 6, 4, 0))         # Sat 23:00
    assert hours.is_open(utc(2026, 12, 6, 6, 59))        # Sun 01:59, over midnight
    assert not hours.is_open(utc(2026, 12, 6, 7, 0))     # Sun 02:00
    assert hours.is_open(utc(2026, 7, 7, 13, 0))         # Tue 09:00 EDT in summer
    assert Hours.parse("", "UTC").is_open(utc(2026, 1, 1, 3, 0))
    for bad in ["weekdays 9-5", "mon 25:00-26:00", "xyz 09:00-10:00"]:
        with pytest.raises(HoursError):
            Hours.parse(bad, "UTC")
    with pytest.raises(HoursError):
        Hours.parse("", "Mars/Olympus")


def test_conversation_rows_hold_no_numbers(app, twilio):
    to_person(twilio)
    with app.extensions["helpline"].store.transaction() as db:
        conv = db.execute(select(Conversation).where(Conversation.channel == "voice")).scalar_one()
    assert CALLER not in repr(conv.state) and CALLER[2:] not in repr(conv.state)
    assert conv.caller_hash == app.extensions["helpline"].hash(CALLER)


def test_events_for_statistics_carry_no_person(app, twilio):
    sms(twilio, "hi")
    sms(twilio, "3")
    code = code_from(sent_to(sms(twilio, "0"), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    to_person(twilio)
    call(twilio, "/voice/dial-status", DialCallStatus="no-answer")
    with app.extensions["helpline"].store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT channel, name, value FROM events"))]
    names = [(c, n) for c, n, _ in rows]
    for expected in [("sms", "contact"), ("sms", "choice:treatment"), ("sms", "handoff"),
                     ("sms", "answered"), ("voice", "contact"), ("voice", "missed")]:
        assert expected in names
    assert all("555" not in repr(r) for r in rows)
