"""Before, during and after a person, by SMS, through signed requests: a texter waiting
for a representative, the one who accepts, and the texter after the chat has ended."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from helpline.store import Chat, Contact

from .conftest import TEXTER, Twilio
from .test_reps import REP_A, REP_B, code_from, reply_of, sent_to, sms

OTHER = "+15555550177"
STORY = ["my brother has been using for 2 years", "I don't know what to do",
         "he says he wants to stop but he can't"]


@pytest.fixture
def app(make_app):
    return make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}")


def ask(twilio: Twilio, number: str = TEXTER, lang: str = "en") -> str:
    """A texter asks for a person; the code the representatives were sent."""
    sms(twilio, "hi" if lang == "en" else "español", number)
    msgs = sms(twilio, "0", number)
    return code_from((sent_to(msgs, REP_A) + sent_to(msgs, REP_B))[0])


def chat_row(app, code: str) -> Chat:
    with app.extensions["helpline"].store.transaction() as db:
        chat = db.execute(select(Chat).where(Chat.code == code).order_by(Chat.id.desc())).scalars().first()
        db.expunge(chat)
        return chat


def dump(app) -> str:
    with app.extensions["helpline"].store.engine.connect() as conn:
        return repr([list(r) for t in ("chats", "conversations", "contacts", "events")
                     for r in conn.execute(text(f"SELECT * FROM {t}"))])


def end_a_chat(twilio, lang="en") -> str:
    code = ask(twilio, lang=lang)
    sms(twilio, f"ACCEPT {code}", REP_A)
    done = sms(twilio, "DONE", REP_A)
    assert sent_to(done, TEXTER)
    return code


# -- after a chat --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, thanks, close, sorry", [
    ("en", "thanks, bye", "You're welcome", "Sorry"),
    ("en", "thank you so much for the help", "You're welcome", "Sorry"),
    ("es", "gracias por la ayuda", "De nada", "Perdón"),
])
def test_after_a_chat_thanks_gets_a_kind_close_and_notifies_nobody(app, twilio, lang, thanks,
                                                                    close, sorry):
    end_a_chat(twilio, lang)
    msgs = sms(twilio, thanks)
    assert close in reply_of(msgs) and sorry not in reply_of(msgs)
    assert sent_to(msgs, REP_A) == [] and sent_to(msgs, REP_B) == []
    with app.extensions["helpline"].store.transaction() as db:
        assert [c.status for c in db.execute(select(Chat)).scalars()] == ["ended"]


@pytest.mark.parametrize("lang, hello, menu, fact", [
    ("en", "hi", "Reply with a number", "fentanyl"),
    ("es", "hola", "Elija un número", "fentanilo"),
])
def test_after_a_chat_hi_gets_the_menu_and_a_digit_works(twilio, lang, hello, menu, fact):
    end_a_chat(twilio, lang)
    reply = reply_of(sms(twilio, hello))
    assert menu in reply and "Sorry" not in reply and "Perdón" not in reply
    assert fact in reply_of(sms(twilio, "1"))


def test_after_a_chat_only_an_explicit_ask_reaches_a_person_again(twilio):
    end_a_chat(twilio)
    for words in ("ok", "hello there", "MENU"):
        assert sent_to(sms(twilio, words), REP_A) == [], words
    again = sms(twilio, "talk to someone")
    assert "A person will text you back" in reply_of(again)
    assert "wants a person" in sent_to(again, REP_A)[0]


def test_after_stop_mid_chat_and_start_the_texter_is_at_the_menu(twilio):
    code = ask(twilio)
    sms(twilio, f"ACCEPT {code}", REP_A)
    sms(twilio, "STOP")
    sms(twilio, "START")
    msgs = sms(twilio, "hello")
    assert "Reply with a number" in reply_of(msgs) and sent_to(msgs, REP_A) == []


# -- while waiting ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, thanks", [
    ("en", "I'll pass what you write on to the person who answers"),
    ("es", "Se lo pasaremos a la persona que le atienda"),
])
def test_a_waiting_texters_words_reach_the_accepting_representative_then_are_gone(app, twilio,
                                                                                 lang, thanks):
    code = ask(twilio, lang=lang)
    replies = [sms(twilio, line) for line in STORY]
    assert thanks in reply_of(replies[0])
    assert "Sorry" not in reply_of(replies[0]) and "Perdón" not in reply_of(replies[0])
    assert replies[1] == [] and replies[2] == []  # acknowledged once, no wall of repeats
    assert all(sent_to(r, REP_A) == [] for r in replies)
    assert chat_row(app, code).kept_encrypted
    assert "brother" not in dump(app) and "know what" not in dump(app)

    won = sms(twilio, f"ACCEPT {code}", REP_A)
    assert f"You're chatting with #{code}" in reply_of(won)
    assert f"What #{code} wrote while waiting follows." in reply_of(won)
    assert sent_to(won, REP_A) == [f"#{code}: {line}" for line in STORY]
    assert chat_row(app, code).kept_encrypted is None
    assert "brother" not in dump(app)


def test_what_is_kept_is_capped_to_the_newest(app, twilio):
    code = ask(twilio)
    for n in range(1, 8):
        sms(twilio, f"message {n}")
    won = sms(twilio, f"ACCEPT {code}", REP_A)
    assert sent_to(won, REP_A) == [f"#{code}: message {n}" for n in range(3, 8)]
    code = ask(twilio, OTHER)
    sms(twilio, "a" * 1000, OTHER)
    sms(twilio, "b" * 1000, OTHER)
    won = sms(twilio, "ACCEPT", REP_B)
    assert sent_to(won, REP_B) == [f"#{code}: " + "b" * 1000]


def test_the_end_of_a_wait_deletes_what_was_kept(app, twilio):
    code = ask(twilio)
    sms(twilio, STORY[0])
    assert chat_row(app, code).kept_encrypted
    sms(twilio, "STOP")
    assert chat_row(app, code).kept_encrypted is None


@pytest.mark.parametrize("lang, place", [("en", "You're number {} in line."),
                                         ("es", "Tiene el lugar {} en la fila.")])
def test_place_in_line_when_two_are_waiting(twilio, lang, place):
    ask(twilio, OTHER)
    ask(twilio, lang=lang)
    assert place.format(2) in reply_of(sms(twilio, STORY[0]))
    assert "You're number 1 in line." in reply_of(sms(twilio, "hello?", OTHER))


def test_place_in_line_is_not_given_to_the_only_one_waiting(twilio):
    ask(twilio)
    assert "in line" not in reply_of(sms(twilio, STORY[0]))


@pytest.mark.parametrize("lang, leave, said, menu", [
    ("en", "LEAVE", "no longer waiting", "Reply with a number"),
    ("en", "never mind", "no longer waiting", "Reply with a number"),
    ("es", "CANCELAR", "ya no espera", "Elija un número"),
])
def test_leaving_ends_the_wait_tells_the_representatives_and_returns_to_the_menu(
        app, twilio, lang, leave, said, menu):
    code = ask(twilio, lang=lang)
    sms(twilio, STORY[0])
    msgs = sms(twilio, leave)
    assert said in reply_of(msgs) and menu in reply_of(msgs)
    for rep in (REP_A, REP_B):
        assert sent_to(msgs, rep) == [f"#{code} no longer needs a person (they left the line). "
                                      "Nothing to do."]
    assert chat_row(app, code).status == "ended" and chat_row(app, code).kept_encrypted is None
    assert "No texters are waiting" in reply_of(sms(twilio, "ACCEPT", REP_A))
    assert sent_to(sms(twilio, "thanks"), REP_A) == []


def test_bare_cancel_is_a_carrier_opt_out_and_also_withdraws(twilio):
    code = ask(twilio)
    msgs = sms(twilio, "CANCEL")
    assert "opted out" in reply_of(msgs)
    assert sent_to(msgs, REP_A) == [f"#{code} no longer needs a person (they left the line). "
                                    "Nothing to do."]


def test_menu_returns_to_the_menu_and_keeps_the_place_for_a_few_minutes(app, twilio):
    first = ask(twilio)
    ask(twilio, OTHER)
    msgs = sms(twilio, "MENU")
    assert "Reply 0 within 5 minutes to get your place back" in reply_of(msgs)
    assert "Reply with a number" in reply_of(msgs)
    assert sent_to(msgs, REP_A) == [f"#{first} no longer needs a person (they left the line). "
                                    "Nothing to do."]
    assert "fentanyl" in reply_of(sms(twilio, "1"))  # reading facts meanwhile
    again = code_from(sent_to(sms(twilio, "0"), REP_A)[0])
    assert "You're number 1 in line." in reply_of(sms(twilio, STORY[0]))
    assert f"You're chatting with #{again}" in reply_of(sms(twilio, "ACCEPT", REP_A))


def test_menu_after_the_few_minutes_goes_to_the_back_of_the_line(app, twilio):
    ask(twilio)
    ask(twilio, OTHER)
    sms(twilio, "menu")
    with app.extensions["helpline"].store.transaction() as db:
        for row in db.execute(select(Contact).where(Contact.state.is_not(None))).scalars():
            if (row.state or {}).get("place"):
                past = (datetime.utcnow() - timedelta(minutes=1)).isoformat()
                row.state = dict(row.state, place=dict(row.state["place"], until=past))
    sms(twilio, "0")
    assert "You're number 2 in line." in reply_of(sms(twilio, STORY[0]))


def test_help_while_waiting_is_answered_and_the_wait_goes_on(app, twilio):
    code = ask(twilio)
    msgs = sms(twilio, "HELP")
    assert "988" in reply_of(msgs) and sent_to(msgs, REP_A) == []
    assert chat_row(app, code).status == "waiting" and chat_row(app, code).kept_encrypted is None


def test_crisis_words_while_waiting_are_answered_and_kept(twilio):
    code = ask(twilio)
    msgs = sms(twilio, "he took too much, i think it's an overdose")
    assert "911" in reply_of(msgs)
    won = sms(twilio, f"ACCEPT {code}", REP_A)
    assert sent_to(won, REP_A) == [f"#{code}: he took too much, i think it's an overdose"]


# -- representatives -------------------------------------------------------------------------------

def test_bare_accept_takes_the_longest_waiting_among_those_offered(app, twilio):
    helpline = app.extensions["helpline"]
    with helpline.store.transaction() as db:
        helpline.roster(db).find(REP_B).languages = "en,es"
    spanish = ask(twilio, "+15555550166", lang="es")   # offered to REP_B only, for now
    english = ask(twilio)
    took = sms(twilio, "ACCEPT", REP_A)
    assert f"You're chatting with #{english}" in reply_of(took)
    took = sms(twilio, "accept", REP_B)
    assert f"You're chatting with #{spanish}" in reply_of(took)


def test_bare_accept_when_nobody_waits_says_so(twilio):
    assert reply_of(sms(twilio, "ACCEPT", REP_A)) == "No texters are waiting."


def test_purge_deletes_what_a_long_wait_kept(app, twilio):
    from helpline.retention import purge

    code = ask(twilio)
    sms(twilio, STORY[0])
    with app.extensions["helpline"].store.transaction() as db:
        counts, _ = purge(db, timedelta(days=30), datetime.utcnow() + timedelta(days=31))
    assert counts["chats"] == 1
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Chat).where(Chat.code == code)).first() is None
