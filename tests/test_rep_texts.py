"""The representative's side of a chat, with two representatives on duty: the one who
accepts is the one who is relayed to, a text Twilio delivers twice acts once, STOP and START
from a representative, and a representative removed in the middle of a chat."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpline import texter
from helpline.staff.models import AuditLog
from helpline.store import Chat, Representative, utcnow

from .conftest import TEXTER, Twilio
from .test_reps import HELPLINE, REP_A, REP_B, ask_for_person, code_from, messages, reply_of, sent_to
from .test_staff import Console, add_account

OTHER_TEXTER = "+15555550166"


@pytest.fixture
def app(make_app):
    return make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_NUMBER=HELPLINE)


def sms(twilio: Twilio, body: str, number: str = TEXTER, sid: str | None = None):
    data = {"From": number, "To": HELPLINE, "Body": body, "MessageSid": sid or "SM" + uuid.uuid4().hex}
    return messages(twilio.post("/sms", data))


def chat_row(app) -> Chat:
    with app.extensions["helpline"].store.transaction() as db:
        return db.execute(select(Chat).order_by(Chat.id.desc())).scalars().first()


def rep_row(app, number: str) -> Representative:
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        return helpline.roster(db).find(number)


def on_duty(app, number: str) -> bool:
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        roster = helpline.roster(db)
        return roster.is_on_duty(roster.find(number), utcnow())


def b_accepts(twilio, texter=TEXTER) -> str:
    code = code_from(sent_to(ask_for_person(twilio, texter), REP_B)[0])
    accepted = sms(twilio, f"ACCEPT {code}", REP_B)
    assert f"You're chatting with #{code}" in reply_of(accepted)
    return code


def test_the_texter_is_relayed_to_the_representative_who_accepted_not_the_first(twilio):
    code = b_accepts(twilio)
    msgs = sms(twilio, "are you there?")
    assert sent_to(msgs, REP_B) == [f"#{code}: are you there?"]
    assert sent_to(msgs, REP_A) == [] and reply_of(msgs) == ""
    back = sms(twilio, "I'm here. Take your time.", REP_B)
    assert sent_to(back, TEXTER) == ["I'm here. Take your time."]
    other = sms(twilio, "hello texter", REP_A)  # A has no chat: gets the commands, relays nothing
    assert sent_to(other, TEXTER) == [] and "Helpline commands" in reply_of(other)


def test_two_chats_at_once_stay_apart(twilio):
    first = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {first}", REP_A)
    second = b_accepts(twilio, OTHER_TEXTER)
    assert sent_to(sms(twilio, "one", OTHER_TEXTER), REP_B) == [f"#{second}: one"]
    assert sent_to(sms(twilio, "two"), REP_A) == [f"#{first}: two"]
    assert sent_to(sms(twilio, "to the second", REP_B), OTHER_TEXTER) == ["to the second"]
    assert sent_to(sms(twilio, "to the first", REP_A), TEXTER) == ["to the first"]
    done = sms(twilio, "DONE", REP_B)
    assert sent_to(done, OTHER_TEXTER) and sent_to(done, TEXTER) == []
    assert sent_to(sms(twilio, "still with A"), REP_A) == [f"#{first}: still with A"]


def test_a_representatives_text_twilio_delivers_twice_is_relayed_once(app, twilio):
    b_accepts(twilio)
    sid = "SM" + "3" * 32
    assert sent_to(sms(twilio, "Are you safe right now?", REP_B, sid), TEXTER) == ["Are you safe right now?"]
    assert sms(twilio, "Are you safe right now?", REP_B, sid) == []
    assert chat_row(app).rep_messages == 1


def test_an_accept_and_a_done_twilio_delivers_twice_act_once(app, twilio):
    code = code_from(sent_to(ask_for_person(twilio), REP_B)[0])
    accept = "SM" + "a" * 32
    assert sent_to(sms(twilio, f"ACCEPT {code}", REP_B, accept), TEXTER)
    assert sms(twilio, f"ACCEPT {code}", REP_B, accept) == []
    assert chat_row(app).accepted_at is not None
    assert reply_of(sms(twilio, f"ACCEPT {code}", REP_A)).startswith(f"#{code} was already taken")
    done = "SM" + "d" * 32
    assert sent_to(sms(twilio, "DONE", REP_B, done), TEXTER)
    assert sms(twilio, "DONE", REP_B, done) == []
    chat = chat_row(app)
    assert chat.status == "ended" and chat.ended_at is not None and chat.texter_encrypted is None


def test_stop_from_a_representative_takes_them_off_duty_and_ends_their_chat(app, twilio):
    b_accepts(twilio)
    msgs = sms(twilio, "STOP", REP_B)
    assert "opted out" in reply_of(msgs)
    assert "has ended" in sent_to(msgs, TEXTER)[0]  # the texter is not left waiting
    assert not on_duty(app, REP_B)
    chat = chat_row(app)
    assert chat.status == "ended" and chat.texter_encrypted is None and chat.ended_at is not None
    assert "Reply with a number" in reply_of(sms(twilio, "menu"))
    new = ask_for_person(twilio, OTHER_TEXTER)
    assert sent_to(new, REP_B) == [] and sent_to(new, REP_A)  # only A hears of a new texter
    assert sms(twilio, "ON", REP_B) == []  # nothing can reach their phone until START
    assert not on_duty(app, REP_B)
    refused = app.test_cli_runner().invoke(args=["reps", "on", REP_B])
    assert refused.exit_code != 0 and "START" in refused.output
    add_account(app)
    console = Console(app)
    console.login()
    assert console.post(f"/staff/reps/{rep_row(app, REP_B).id}/duty", {"on": "1"}, page="/staff").status_code == 302
    assert not on_duty(app, REP_B)
    with app.extensions["helpline"].store.transaction() as db:
        assert not [a for a in db.execute(select(AuditLog.action)).scalars() if a.startswith("duty")]


def test_start_from_a_representative_opts_back_in_and_on_brings_them_on_duty(app, twilio):
    sms(twilio, "STOP", REP_B)
    assert "opted back in" in reply_of(sms(twilio, "START", REP_B))
    assert not on_duty(app, REP_B)  # opting in to texts is not going on duty
    assert "You're on duty" in reply_of(sms(twilio, "ON", REP_B))
    assert on_duty(app, REP_B)
    assert reply_of(sms(twilio, "STATUS", REP_B)).startswith("You're on duty.")
    assert sent_to(ask_for_person(twilio), REP_B)


def test_removing_a_representative_mid_chat_forgets_the_texters_number(app, twilio):
    b_accepts(twilio)
    result = app.test_cli_runner().invoke(args=["reps", "remove", REP_B])
    assert result.exit_code == 0 and "removed" in result.output
    chat = chat_row(app)
    assert chat.status == "ended" and chat.texter_encrypted is None and chat.ended_at is not None
    assert rep_row(app, REP_B) is None
    after = sms(twilio, "0")  # back at the menu, a new ask is offered to who is still on the roster
    assert sent_to(after, REP_B) == [] and "ACCEPT" in sent_to(after, REP_A)[0]
    assert "A person will text you back here soon" in reply_of(after)


def test_a_spanish_texters_crisis_words_in_a_chat_are_answered_in_spanish(twilio):
    sms(twilio, "ESPAÑOL")
    code = code_from(sent_to(sms(twilio, "0"), REP_B)[0])
    sms(twilio, f"ACCEPT {code}", REP_B)
    msgs = sms(twilio, "overdose")
    assert "Llame al 911" in reply_of(msgs)
    assert sent_to(msgs, REP_B) == [f"#{code}: overdose"]


@pytest.mark.parametrize("keyword, answer", [("START", "opted back in"), ("HELP", "988")])
def test_start_and_help_in_a_chat_are_answered_not_relayed(twilio, keyword, answer):
    b_accepts(twilio)
    msgs = sms(twilio, keyword)
    assert answer in reply_of(msgs) and sent_to(msgs, REP_B) == []


def test_texts_are_counted_not_kept_and_a_texters_stop_ends_the_chat_at_a_time(app, twilio):
    code = b_accepts(twilio)
    for body in ("one", "two", "three"):
        sms(twilio, body)
    sms(twilio, "a reply", REP_B)
    sms(twilio, "and another", REP_B)
    chat = chat_row(app)
    assert (chat.texter_messages, chat.rep_messages) == (3, 2)
    assert f"#{code} opted out" in sent_to(sms(twilio, "STOP"), REP_B)[0]
    chat = chat_row(app)
    assert chat.status == "ended" and chat.ended_at is not None and chat.texter_encrypted is None


def test_one_representatives_stop_or_removal_leaves_the_others_chats_alone(app, twilio):
    first = code_from(sent_to(ask_for_person(twilio), REP_A)[0])
    sms(twilio, f"ACCEPT {first}", REP_A)
    sms(twilio, "DONE", REP_A)
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:   # a code is unique among open chats only
        first_id, ended_at = db.execute(select(Chat.id, Chat.ended_at).where(Chat.code == first)).one()
    b_accepts(twilio, OTHER_TEXTER)
    sms(twilio, "menu")
    code = code_from(sent_to(sms(twilio, "0"), REP_A)[0])
    sms(twilio, f"ACCEPT {code}", REP_A)
    sms(twilio, "STOP", REP_B)
    assert sent_to(sms(twilio, "still there?"), REP_A) == [f"#{code}: still there?"]
    assert app.test_cli_runner().invoke(args=["reps", "remove", REP_A]).exit_code == 0
    with helpline.store.transaction() as db:
        assert db.execute(select(Chat.ended_at).where(Chat.id == first_id)).scalar_one() == ended_at


def test_texters_waiting_at_once_get_codes_of_their_own(app):
    helpline = app.extensions["helpline"]
    for i in range(20):
        number = f"+1555555{1000 + i}"
        texter.receive(helpline, number, "hi")
        texter.receive(helpline, number, "0")
    with helpline.store.transaction() as db:
        codes = list(db.execute(select(Chat.code).where(Chat.status == "waiting")).scalars())
    assert len(codes) == 20 and len(set(codes)) == 20


def test_the_first_accept_wins_in_the_roster(app, twilio):
    ask_for_person(twilio)
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        roster = helpline.roster(db)
        chat = roster.oldest_waiting(roster.find(REP_B))
        assert roster.accept(chat, roster.find(REP_B), utcnow()) is True
        assert roster.accept(chat, roster.find(REP_A), utcnow()) is False
        assert chat.rep_id == roster.find(REP_B).id


@pytest.mark.parametrize("body, parsed", [
    ("accept #k7", ("ACCEPT", "K7")), ("ACCEPT", ("ACCEPT", "")), ("  Done. ", ("DONE", "")),
    ("next!", ("NEXT", "")), ("accept k7 now", ("ACCEPT", "K7 NOW")), ("   ", ("", "")),
    ("Hello there, how are you?", ("HELLO", "THERE, HOW ARE YOU?")),
])
def test_a_representatives_text_is_read_as_command_and_argument(body, parsed):
    from helpline.reps import parse_command

    assert parse_command(body) == parsed


def test_a_message_sid_not_in_twilios_shape_is_refused_and_acts_not_at_all(app, twilio):
    data = {"From": TEXTER, "To": HELPLINE, "Body": "0", "MessageSid": "SM" + "x" * 98}
    assert twilio.post("/sms", data).status_code == 400
    assert chat_row(app) is None  # nothing was asked for


def test_off_by_text_during_a_shift_lasts_until_the_shift_ends(make_app):
    app = make_app(HELPLINE_NUMBER=HELPLINE, HELPLINE_TIMEZONE="America/New_York")
    cli = app.test_cli_runner()
    assert cli.invoke(args=["reps", "add", REP_A, "--off"]).exit_code == 0
    assert cli.invoke(args=["reps", "shift", "add", REP_A, "mon", "09:00", "17:00"]).exit_code == 0
    helpline = app.extensions["helpline"]
    monday_10am = datetime(2026, 11, 30, 15, 0)  # New York is UTC-5 in winter

    def duty(at):
        with helpline.store.transaction() as db:
            roster = helpline.roster(db)
            return roster.is_on_duty(roster.find(REP_A), at)

    assert duty(monday_10am)
    assert "off duty" in texter.receive(helpline, REP_A, "OFF", now=monday_10am).text().lower()
    assert not duty(monday_10am + timedelta(hours=6, minutes=59))
    assert duty(monday_10am + timedelta(days=7))  # the next shift finds them on duty again
