"""A texter's whole experience, through signed requests to POST /sms."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from helpline.segments import sms_segments
from helpline.store import Contact, utcnow

from .conftest import TEXTER, Twilio, twiml

MAIN_OPTIONS = ["1 Facts about heroin", "2 How addiction forms", "3 Treatment options",
                "4 Talk to a person"]


def test_first_text_gets_welcome_menu_emergency_and_spanish_offer(twilio):
    reply = twilio.text("hello?")
    assert reply.startswith("Hi, this is the Heroin & Opioid Helpline")
    for line in MAIN_OPTIONS:
        assert line in reply
    assert "Emergency? Call 911." in reply
    assert "Para español, responda ESPAÑOL" in reply


def test_any_first_text_even_a_digit_gets_the_menu(twilio):
    assert "Reply with a number:" in twilio.text("3")


@pytest.mark.parametrize("choice, expected", [
    ("1", "fentanyl"),
    ("FACTS", "fentanyl"),
    ("2", "mu-opioid receptors"),
    ("3", "1 Outpatient (live at home)"),
    ("treatment", "3 Medications (MOUD)"),
    ("4", "1-800-662-4357"),
    ("PERSON", "1-800-662-4357"),
    ("agent", "1-800-662-4357"),
    ("Can I talk to someone", "1-800-662-4357"),
    ("0", "1-800-662-4357"),
    ("5", "Signs of an overdose"),
])
def test_digits_and_words_pick_options(twilio, choice, expected):
    twilio.text("hi")
    assert expected in twilio.text(choice)


def test_more_next_walks_a_series_then_back_and_menu(twilio):
    twilio.text("hi")
    first = twilio.text("2")
    assert "mu-opioid receptors" in first and "(1/3)" in first
    assert "dopamine" in twilio.text("MORE")
    last = twilio.text("next")
    assert "physical dependence" in last and "can't happen" not in last
    assert "Reply with a number:" in twilio.text("more")


def test_back_goes_one_level_up_and_menu_to_the_top(twilio):
    twilio.text("hi")
    twilio.text("3")
    assert "Outpatient rehab" in twilio.text("1")
    assert "1 Outpatient (live at home)" in twilio.text("BACK")
    assert "Medications for opioid use disorder (MOUD)" in twilio.text("3")
    top = twilio.text("Menu")
    assert all(line in top for line in MAIN_OPTIONS)


def test_treatment_content_covers_all_three_kinds(twilio):
    twilio.text("hi")
    twilio.text("treatment")
    assert "living at home" in twilio.text("1")
    twilio.text("back")
    assert "24 hours a day" in twilio.text("2")
    twilio.text("back")
    moud = twilio.text("3")
    assert "buprenorphine, methadone and naltrexone" in moud
    assert "with or without counseling" in moud
    twilio.text("back")
    assert "1-800-662-4357" in twilio.text("4")


def test_facts_from_the_reference_page(twilio):
    twilio.text("hi")
    twilio.text("1")
    twilio.text("more")
    assert "It can." in twilio.text("more")
    dependence = twilio.text("more")
    assert "Physical dependence" in dependence and "repeated use" in dependence
    assert "Addiction is different" in dependence


def test_sources_are_one_word_away(twilio):
    twilio.text("hi")
    reply = twilio.text("SOURCES")
    assert "NIDA" in reply and "Drug Policy Alliance" in reply


def test_unknown_input_says_so_and_repeats_the_options(twilio):
    twilio.text("hi")
    twilio.text("3")
    reply = twilio.text("purple monkey")
    assert reply.startswith("Sorry, I didn't get that.")
    assert "1 Outpatient (live at home)" in reply


def test_ambiguous_words_are_not_guessed(twilio):
    twilio.text("hi")
    assert twilio.text("facts or treatment").startswith("Sorry")


def test_safety_facts_naloxone_988_and_samhsa(twilio):
    twilio.text("hi")
    twilio.text("5")
    assert "naloxone" in twilio.text("more").lower()
    for _ in range(4):  # never alone, tolerance, mixing, Good Samaritan
        twilio.text("more")
    assert "988" in twilio.text("more")
    assert "1-800-662-4357" in twilio.text("more")


def _age_conversation(app, minutes):
    store = app.extensions["helpline"].store
    with store.transaction() as db:
        db.execute(update(Contact).values(
            updated_at=utcnow().replace(microsecond=0) - __import__("datetime").timedelta(minutes=minutes)))


def test_session_expires_after_idle_minutes(app, twilio):
    twilio.text("hi")
    twilio.text("3")
    _age_conversation(app, 31)
    assert twilio.text("1").startswith("Hi, this is the Heroin & Opioid Helpline")


def test_session_survives_shorter_idle(app, twilio):
    twilio.text("hi")
    twilio.text("3")
    _age_conversation(app, 29)
    assert "Outpatient rehab" in twilio.text("1")


def test_idle_time_is_configurable(make_app):
    app = make_app(SESSION_IDLE_MINUTES=5)
    twilio = Twilio(app.test_client())
    twilio.text("hi")
    twilio.text("3")
    _age_conversation(app, 6)
    assert twilio.text("1").startswith("Hi,")


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop ", "S T O P", "STOPALL", "UNSUBSCRIBE",
                                  "cancel", "END", "quit", "OptOut", "REVOKE"])
def test_stop_words_opt_out_and_silence_follows(app, twilio, word):
    twilio.text("hi")
    assert "opted out" in twilio.text(word)
    assert twilio.text("hello") == ""
    assert twilio.text("1") == ""
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Contact.opted_out)).scalar_one() is True


def test_stop_inside_a_sentence_is_not_an_opt_out(twilio):
    twilio.text("hi")
    reply = twilio.text("I want to stop using")
    assert "opted out" not in reply and reply.startswith("Sorry, I didn't get that.")
    assert "Reply with a number:" in twilio.text("menu")


@pytest.mark.parametrize("word", ["START", "unstop", "Yes", "OPTIN"])
def test_start_words_opt_back_in_with_confirmation(twilio, word):
    twilio.text("STOP")
    assert twilio.text("hello") == ""
    assert "opted back in" in twilio.text(word)
    assert "Reply with a number:" in twilio.text("menu")


def test_opt_out_outlives_the_session(app, twilio):
    twilio.text("STOP")
    _age_conversation(app, 120)
    assert twilio.text("hi") == ""


@pytest.mark.parametrize("word", ["HELP", "info", "Help "])
def test_help_names_the_helpline_crisis_numbers_and_opt_out(twilio, word):
    reply = twilio.text(word)
    assert "Heroin & Opioid Helpline" in reply
    assert "911" in reply and "988" in reply and "STOP" in reply


def test_help_is_answered_even_when_opted_out(twilio):
    twilio.text("STOP")
    assert "988" in twilio.text("HELP")


def test_twilio_handled_keywords_are_recorded_without_a_second_reply(make_app):
    app = make_app(SMS_KEYWORD_REPLIES="twilio")
    twilio = Twilio(app.test_client())
    assert twilio.text("STOP") == ""
    assert twilio.text("hi") == ""
    assert twilio.text("START") == ""
    assert "Reply with a number:" in twilio.text("menu")


@pytest.mark.parametrize("message, expected", [
    ("I think my brother is having an overdose", "call 911 now"),
    ("he OD'd", "call 911 now"),
    ("she's not breathing!!", "call 911 now"),
    ("i want to kill myself", "988"),
    ("Suicide", "988"),
    ("sometimes I want to die", "988"),
    ("creo que es una sobredosis", "911"),
    ("quiero morir", "988"),
])
def test_crisis_words_get_guidance_first_then_a_person(twilio, message, expected):
    twilio.text("hi")
    twilio.text("3")
    reply = twilio.text(message)
    assert expected in reply.splitlines()[0]
    offer = reply.splitlines()[-1].lower()
    assert "0" in offer and ("person" in offer or "persona" in offer)
    assert "1-800-662-4357" in twilio.text("0")


def test_crisis_words_in_spanish_are_answered_in_spanish(twilio):
    twilio.text("hi")
    reply = twilio.text("mi hermano tiene una sobredosis")
    assert "911" in reply and "naloxona" in reply.lower()


def test_crisis_on_the_very_first_text_comes_before_any_welcome(twilio):
    reply = twilio.text("overdose")
    assert reply.startswith("If someone may be overdosing, call 911 now.")
    assert "Heroin & Opioid Helpline" not in reply


def test_crisis_words_match_whole_words_only(twilio):
    twilio.text("hi")
    reply = twilio.text("what about food")
    assert "911 now" not in reply and reply.startswith("Sorry, I didn't get that.")


def test_overdose_and_suicide_together_get_both_answers(twilio):
    reply = twilio.text("took too much, overdose, and I want to die")
    assert "911" in reply and "988" in reply


@pytest.mark.parametrize("word", ["ESPAÑOL", "espanol", "Spanish", "es"])
def test_spanish_switch_and_back(twilio, word):
    twilio.text("hi")
    reply = twilio.text(word)
    assert "Línea de Ayuda" in reply
    assert "For English, reply ENGLISH" in reply
    assert "For English, reply ENGLISH" in twilio.text("menu")
    assert "Heroin & Opioid Helpline" in twilio.text("ENGLISH")


def test_spanish_is_kept_for_the_next_conversation(app, twilio):
    twilio.text("ESPAÑOL")
    _age_conversation(app, 60)
    assert "Línea de Ayuda" in twilio.text("hola")


def test_person_node_gives_samhsa_until_representatives_exist(twilio):
    twilio.text("hi")
    reply = twilio.text("4")
    assert "1-800-662-4357" in reply and "24/7" in reply


def _walk_every_node(engine, lang):
    """Every reply a texter can get from every node, by every digit and command."""
    from helpline.engine import Input

    replies = []
    base = engine.new_state(lang)
    for node_id, node in engine.flow.nodes.items():
        steps = range(len(node.pieces)) if node.type == "series" else [0]
        for step in steps:
            state = dict(base, node=node_id, step=step, trail=["main"])
            for value in list("0123456789*#") + ["nonsense", "more", "back", "sources", "help me"]:
                replies.append(engine.handle(state, Input("text", value), "sms").text())
    replies.append(engine.handle(None, Input("text", "hi"), "sms").text())
    return replies


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_reply_fits_in_four_segments(app, lang):
    engine = app.extensions["helpline"].engine
    for reply in _walk_every_node(engine, lang):
        assert sms_segments(reply).count <= 4, (sms_segments(reply), reply)


def test_english_replies_mostly_fit_in_two_segments(app):
    engine = app.extensions["helpline"].engine
    replies = _walk_every_node(engine, "en")
    two = [r for r in replies if sms_segments(r).count <= 2]
    assert len(two) / len(replies) > 0.9


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["", "x" * 5000, "😀🙏💔", "hi\x00there", "\x00", "   ", "1\n"])
def test_odd_bodies_get_valid_twiml(twilio, body):
    for _ in range(2):
        response = twilio.sms(body)
        assert response.status_code == 200
        assert list(twiml(response).iter("Message"))


def test_missing_body_and_media_only_get_the_menu(twilio):
    response = twilio.sms(None, NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1")
    assert response.status_code == 200
    assert "Reply with a number:" in "".join(m.text for m in twiml(response).iter("Message"))
    response = twilio.sms(None, NumMedia="1")
    assert "Sorry, I didn't get that." in "".join(m.text for m in twiml(response).iter("Message"))


def test_missing_from_is_a_400(twilio):
    assert twilio.post("/sms", {"Body": "hi"}).status_code == 400


def test_get_is_not_allowed(app):
    assert app.test_client().get("/sms").status_code == 405


# -- privacy ----------------------------------------------------------------------------------

def test_numbers_and_bodies_are_never_stored_in_clear(app, twilio):
    twilio.text("hi")
    twilio.text("secret words about my life")
    twilio.text("STOP")
    engine = app.extensions["helpline"].store.engine
    with engine.connect() as conn:
        dump = []
        for table in ("contacts", "conversations"):
            dump += [repr(row) for row in conn.execute(text(f"SELECT * FROM {table}"))]
    everything = "\n".join(dump)
    assert TEXTER not in everything and TEXTER[1:] not in everything and "5550123" not in everything
    assert "secret words" not in everything


def test_numbers_and_bodies_are_never_logged(twilio, caplog):
    caplog.set_level("DEBUG")
    for body in ["hi", "my private message", "1", "overdose", "STOP"]:
        twilio.text(body)
    assert TEXTER not in caplog.text and "5550123" not in caplog.text
    assert "my private message" not in caplog.text
