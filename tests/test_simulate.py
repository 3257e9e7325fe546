"""`flask --app helpline simulate sms|voice`: scripted conversations in both languages and
channels, through the same webhooks, person modules and TwiML renderer as a real text or call."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, func, select

from helpline import caller, create_app, texter, twiml, voice
from helpline.security import hash_number
from helpline.store import Contact

from .conftest import settings

REP = "+15555550901"


@pytest.fixture
def app(tmp_path):
    app = create_app(settings(tmp_path))
    yield app
    app.extensions["helpline"].store.engine.dispose()


def simulate(app, *args, script: str):
    result = app.test_cli_runner().invoke(args=["simulate", *args], input=script)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


# -- SMS -----------------------------------------------------------------------------------------

def test_sms_in_english_shows_each_reply_with_its_segments(app):
    out = simulate(app, "sms", script="hi\n1\nmore\nBACK\nzzz\n")
    assert out.startswith("\n> hi\nHi, this is the Heroin & Opioid Helpline.")
    assert "1 Facts about heroin\n" in out
    assert "[GSM-7, 2 segments, 301 characters]" in out
    assert "> 1\nHeroin and other street drugs are often mixed with fentanyl" in out
    assert "(2/6) Reply MORE for the next" in out
    assert ("> zzz\nSorry, I didn't get that.\nOverdose: call 911. Suicide or crisis: call or "
            "text 988.\n1 Facts about heroin") in out


def test_sms_in_spanish_names_what_forced_ucs2(app):
    out = simulate(app, "sms", "--lang", "es", script="hola\n1\n")
    content = app.extensions["helpline"].content
    assert f"> hola\n{content.text('es', 'welcome')}\n" in out
    assert re.search(r"\[UCS-2, \d segments, \d+ characters; UCS-2 because of 'í'", out)
    assert f"> 1\n{content.text('es', 'facts.fentanyl')}\n" in out


def test_sms_switching_language_mid_conversation(app):
    out = simulate(app, "sms", script="hi\nESPAÑOL\nENGLISH\n")
    assert "> ESPAÑOL\nLínea de Ayuda sobre Heroína y Opioides" in out
    assert "> ENGLISH\nHi, this is the Heroin & Opioid Helpline" in out


def test_sms_crisis_words_come_first(app):
    out = simulate(app, "sms", script="i think my friend took too much, overdose\n")
    assert "\nIf someone may be overdosing, call 911 now." in out


def test_a_script_file(app, tmp_path):
    script = tmp_path / "conversation.txt"
    script.write_text("hi\n3\n1\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["simulate", "sms", "--script", str(script)])
    assert result.exit_code == 0, result.output
    assert "> 1\nOutpatient rehab: you get treatment while living at home" in result.output


def test_a_long_script_is_answered_in_full(app):
    out = simulate(app, "sms", script="menu\n" * 30)
    assert out.count("Reply with a number:") == 30 and "[no reply]" not in out


def test_no_banner_or_prompt_when_not_at_a_terminal(app):
    out = simulate(app, "sms", script="hi\n")
    assert "Type a message" not in out and "Ctrl-D" not in out
    assert out.splitlines()[:2] == ["", "> hi"]


# -- representatives, by SMS -----------------------------------------------------------------------

def test_from_a_representatives_number_plays_their_side(app):
    out = simulate(app, "sms", "--representative", REP, "--from", REP, script="STATUS\nhi\n")
    assert "> STATUS\nYou're on duty. Waiting: 0 texters, 0 callers." in out
    assert "Helpline commands: ON, OFF, STATUS" in out


def test_a_texter_and_a_representative_share_a_database(app, tmp_path):
    database = f"sqlite:///{tmp_path}/shared.sqlite3"
    texter = simulate(app, "sms", "--representative", REP, "--database", database,
                      script="hi\n0\n")
    assert "A person will text you back here soon." in texter
    assert f"to {REP}:\nTexter #" in texter and "wants a person (English)" in texter
    rep = simulate(app, "sms", "--from", REP, "--representative", REP, "--database", database,
                   script="NEXT\nHello, I'm here.\n")
    assert "> NEXT\nYou're chatting with #" in rep
    assert "to +12025550142:\nHello, I'm here.\n" in rep


def test_one_script_plays_a_waiting_texter_the_representative_and_after_the_chat(app):
    out = simulate(app, "sms", "--representative", REP, script=(
        "hi\n0\nmy brother has been using\nI don't know what to do\n"
        f"{REP}: ACCEPT\n{REP}: I'm here.\n{REP}: DONE\nthanks, bye\nhi\n"))
    assert "> my brother has been using\nThank you. I'll pass what you write on" in out
    assert "> I don't know what to do\n[no reply]" in out
    assert (f"to {REP}:\n#" in out and ": my brother has been using\n" in out
            and ": I don't know what to do\n" in out)
    assert f"> {REP}: I'm here.\nto +12025550142:\nI'm here.\n" in out
    assert "> thanks, bye\nYou're welcome." in out
    assert out.count("wants a person") == 1
    assert "Sorry" not in out


# -- voice ---------------------------------------------------------------------------------------

def test_voice_in_english_keys_speech_and_silence(app):
    out = simulate(app, "voice", script="9\n3\n\nsay: medication\n#\n")
    assert out.startswith("(call from +12025550142 connected)\n[voice Polly.Joanna, en-US]\n"
                          "Say: Heroin and opioid helpline.")
    assert "Gather: waits 6 s for 1 key or speech (en-US)" in out
    assert "[voice Polly.Lupe, es-US]\nSay: Para español, oprima 8.\n[voice Polly.Joanna, en-US]\n" in out
    assert "> 9\nSay: Main menu.\n" in out and "Say: For facts about heroin, press 1." in out
    assert "> \nSay: Sorry, I didn't get that." in out
    assert "> say: medication\nSay: Medications for opioid use disorder are buprenorphine" in out
    assert out.rstrip().endswith("(the caller hangs up)")


def test_voice_in_spanish_by_pressing_8_and_by_lang(app):
    pressed = simulate(app, "voice", script="8\n")
    assert "> 8\n[voice Polly.Lupe, es-US]\nSay: Línea sobre heroína" in pressed
    started = simulate(app, "voice", "--lang", "es", script="\n1\n")
    assert "[voice Polly.Lupe, es-US]\nSay: Línea sobre heroína" in started
    assert "Gather: waits 6 s for 1 key or speech (es-US)" in started
    first_fact = app.extensions["helpline"].content.text("es", "facts.fentanyl", "voice")
    assert f"> 1\nSay: {first_fact}\n" in started


def test_several_keys_on_one_line_are_pressed_one_after_another(app):
    out = simulate(app, "voice", script="93\n")
    assert "(presses 9)" in out and "(presses 3)" in out
    assert "Say: Treatment works, and there is more than one kind." in out


def test_a_call_rings_a_representative_who_answers(app):
    out = simulate(app, "voice", "--representative", REP, script="1\n0\nanswer\n")
    assert "Say: Connecting you with a person now." in out
    assert f"Dial: rings {REP}" in out
    assert f"  to {REP}: Say: Helpline caller waiting. Press 1 to accept." in out
    assert f"  ({REP} presses 1)" in out
    assert "Hangup: the call ends" in out


def test_nobody_answers_and_a_message_is_left(app):
    out = simulate(app, "voice", "--representative", REP,
                   script="1\n0\n\n1\nsay: please call me\n")
    assert "(nobody answers)" in out
    assert "Record: a beep" in out
    assert "Say: Thank you. Your message is saved" in out


# -- the same path as the webhooks, on a database of its own ----------------------------------------

def test_goes_through_the_webhooks_person_modules_and_renderer(app, monkeypatch):
    calls = []

    def spy(name, original):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(texter, "receive", spy("texter.receive", texter.receive))
    monkeypatch.setattr(caller, "step", spy("caller.step", caller.step))
    monkeypatch.setattr(twiml, "sms", spy("twiml.sms", twiml.sms))
    monkeypatch.setattr(voice, "render", spy("voice.render", voice.render))
    simulate(app, "sms", script="hi\n")
    assert calls == ["texter.receive", "twiml.sms"]
    calls.clear()
    simulate(app, "voice", script="1\n")
    assert calls == ["caller.step", "voice.render"] * 2


def test_a_throwaway_database_unless_one_is_given(app, tmp_path):
    simulate(app, "sms", "--from", "+15555550177", script="hi\nESPAÑOL\n")
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(func.count()).select_from(Contact)).scalar_one() == 0
    database = f"sqlite:///{tmp_path}/kept.sqlite3"
    simulate(app, "sms", "--from", "+15555550177", "--database", database, script="ESPAÑOL\n")
    engine = create_engine(database)
    with engine.connect() as conn:
        lang = conn.execute(select(Contact.lang).where(Contact.number_hash == hash_number(
            app.config["HELPLINE_HASH_KEY"], "+15555550177"))).scalar_one()
    engine.dispose()
    assert lang == "es"


def test_an_unknown_language_is_refused(app):
    result = app.test_cli_runner().invoke(args=["simulate", "sms", "--lang", "fr"], input="hi\n")
    assert result.exit_code != 0
    assert "no language 'fr': there are en, es" in result.output


def test_a_representative_types_their_passcode_as_one_answer(app, tmp_path):
    database = f"sqlite:///{tmp_path}/reps.sqlite3"
    simulate(app, "sms", "--representative", REP, "--database", database, script="hi\n")
    other = create_app(settings(tmp_path, DATABASE_URL=database))
    result = other.test_cli_runner().invoke(args=["reps", "passcode", REP], input="24681357\n" * 2)
    assert result.exit_code == 0, result.output
    other.extensions["helpline"].store.engine.dispose()
    out = simulate(app, "voice", "--from", REP, "--representative", REP, "--database", database,
                   script="24681357#\n2\n")
    assert "waits 10 s for 8 keys" in out and "(presses 2 4 6 8 1 3 5 7 #)" in out  # one answer
    assert "No callers are waiting" in out and "Enter the 6 digit PIN" in out
