"""A person in crisis is recognised however they write or say it, wherever the text or the
utterance arrives: the recogniser itself, the labelled corpus as a regression test, and the
SMS and voice webhooks (menus, waiting for a person, a chat, the rate limit, the fallback,
an opted-out number, unsure speech)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpline import create_app, crisis_eval
from helpline.content import Content
from helpline.crisis import VocabularyError, compile_vocabulary, fold
from helpline.engine import Engine
from helpline.flows import load as load_flow
from helpline.textnorm import normalize

from .conftest import Twilio, settings, twiml
from .test_caller import Call
from .test_reps import REP_A, REP_B, ask_for_person, code_from, reply_of, sent_to, sms

ROOT = Path(__file__).resolve().parent.parent
CONTENT = Content.load(ROOT / "content")
OVERDOSE_EN, SUICIDE_EN = ("en", "crisis.overdose"), ("en", "crisis.suicide")
OVERDOSE_ES, SUICIDE_ES = ("es", "crisis.overdose"), ("es", "crisis.suicide")


def answer(which, channel="sms") -> str:
    """The crisis answer as content words it, whatever the wording of the day."""
    return CONTENT.text(*which, channel)


@pytest.fixture(scope="module")
def engine():
    return Engine(load_flow(ROOT / "flows", CONTENT), CONTENT)


# -- the recogniser ------------------------------------------------------------------------------

def test_folding_apostrophes_accents_repeats_and_invisible_characters():
    assert fold("can't") == ["cant"]
    assert fold("won’t WAKE") == ["wont", "wake"]
    assert fold("está MORADO!!") == ["esta", "morado"]
    assert fold("wanna dieeee") == ["wana", "die"]
    assert fold("ｏｖｅｒｄｏｓｅ") == ["overdose"]            # full-width letters
    assert fold("over\u200bdose") == ["overdose"]           # a zero-width space
    assert fold("o.d.") == ["o", "d"]


def test_ascii_text_is_folded_as_the_unicode_steps_fold_it():
    """ASCII takes a shortcut; a zero-width space (dropped) sends the same text the long way."""
    ascii_pairs = [chr(a) + chr(b) for a in range(128) for b in range(128)]
    assert all(normalize(text) == normalize(text + "\u200b") for text in ascii_pairs)


@pytest.mark.parametrize("text, kinds", [
    ("his lips look blue", ["overdose"]),
    ("can't get her to wake up", ["overdose"]),
    ("took way too many pills", ["overdose"]),
    ("the narcan didn't work", ["overdose"]),
    ("he ODed", ["overdose"]),
    ("hes overdoesd", ["overdose"]),
    ("i just wanna end everything", ["suicide"]),
    ("kms tonight", ["suicide"]),
    ("i feel sucidal", ["suicide"]),
    ("i can't keep going", ["suicide"]),
    ("my back is killing me", []),
    ("killing it at work, 30 days clean", []),
    ("I want to take my life back from heroin", []),
    ("this traffic is killing me", []),
    ("he fell out in the bathroom", ["overdose"]),
    ("my girl fell out on the kitchen floor", ["overdose"]),
    ("my sister and i fell out in the car last week", []),
    ("we fell out on the street over money", []),
    ("my hair is falling out in the shower", []),
    ("he fell out of the car laughing", []),
])
def test_english_concepts_typos_and_idioms(engine, text, kinds):
    assert lines(engine, text, "en") == kinds


def lines(engine, text: str, lang: str) -> list[str]:
    """What the vocabulary's lines recognise, the second reader left out (its own tests are
    in test_crisis_model.py)."""
    return sorted(kind.name for kind in engine.matcher.crisis_kinds(text, lang, read=False)[1])


@pytest.mark.parametrize("text, kinds", [
    ("está morado", ["overdose"]),
    ("mi hermano no despierta", ["overdose"]),
    ("no resira", ["overdose"]),
    ("se metió demasiado fentanilo", ["overdose"]),
    ("ya no puedo con esto", ["suicide"]),
    ("quiero quitarme la vida", ["suicide"]),
    ("no aguanto más", ["suicide"]),
    ("voy a suicidarme", ["suicide"]),
    ("me muero de risa", []),
    ("este tráfico me está matando", []),
    ("ya no aguanto el calor", []),
])
def test_spanish_concepts_typos_and_idioms(engine, text, kinds):
    assert lines(engine, text, "es") == kinds


def test_a_line_of_parts_needs_them_near_each_other_and_ignore_wins():
    vocabulary = compile_vocabulary({
        "groups": {"body": ["lips", "face"], "color": ["blue", "purple"]},
        "crisis.overdose": ["overdos*", ["body", "color"]],
        "ignore": ["blue eyes"],
        "not_typos": ["overdone"],
    })
    assert vocabulary.kinds("her face is going purple") == ["crisis.overdose"]
    assert vocabulary.kinds("he is overdosing") == ["crisis.overdose"]
    assert vocabulary.kinds("lips " + "and so on " * 4 + "blue") == []
    assert vocabulary.kinds("her face and her blue eyes") == []
    assert vocabulary.kinds("the steak is overdone") == []
    assert vocabulary.hints["crisis.overdose"] == ()


def test_a_vocabulary_that_cannot_be_compiled_says_where():
    with pytest.raises(VocabularyError, match=r"crisis.suicide\[1\]: a bare yes, no"):
        compile_vocabulary({"crisis.suicide": [[False, "die"]]})
    with pytest.raises(VocabularyError, match="must be a list of lines"):
        compile_vocabulary({"crisis.suicide": "die"})


# -- the corpus: the targets as a regression test ------------------------------------------------

@pytest.fixture(scope="module")
def corpus(engine):
    """The whole corpus run through the engine once, for the tests of its parts."""
    results = crisis_eval.evaluate(engine, crisis_eval.DEFAULT_CORPUS)
    return lambda part: [r for r in results if r.part == part]


@pytest.mark.parametrize("part", ["tune", "heldout"])
def test_corpus_meets_the_targets_in_every_language(corpus, part):
    results = corpus(part)
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert sum(r.counts.values()) >= 150, r.lang
        assert r.recall >= crisis_eval.RECALL_TARGET, "\n".join(crisis_eval.report([r]))
        assert r.rate("idiom") <= crisis_eval.IDIOM_TARGET, "\n".join(crisis_eval.report([r]))
        assert r.rate("none") <= crisis_eval.IDIOM_TARGET, "\n".join(crisis_eval.report([r]))


def test_texts_by_an_author_who_never_saw_the_vocabulary_stay_where_they_were(corpus):
    """The ``unseen`` part, measured once the vocabulary and the second reader were done,
    is below the targets (README.md, "Crisis recognition"): this keeps it from falling."""
    results = corpus("unseen")
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert r.recall >= 0.93, "\n".join(crisis_eval.report([r]))
        assert r.rate("idiom") <= 0.14 and r.rate("none") <= 0.05, "\n".join(crisis_eval.report([r]))


def test_texts_by_a_later_author_stay_where_they_were(corpus):
    """The ``fresh`` part, by a tenth author, measured once after the round on the ninth
    author's texts. Spanish idioms are its weak point (0.23: a phone that "died", boots "to die
    for", a finale that left them breathless): this keeps it from growing."""
    results = corpus("fresh")
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert r.recall >= 0.92, "\n".join(crisis_eval.report([r]))
        assert r.rate("idiom") <= {"en": 0.14, "es": 0.24}[r.lang], "\n".join(crisis_eval.report([r]))
        assert r.rate("none") <= 0.05, "\n".join(crisis_eval.report([r]))


def test_texts_that_look_like_a_crisis_and_are_not_stay_where_they_are(corpus):
    """The ``lookalikes`` part: an eleventh author's idioms and everyday texts full of crisis
    words ("phone at 2% about to die", "me muero de sueño, el turno de hoy me mato"), beside real
    crises. Its misses taught the lines' ignore phrases; the second reader never learnt it."""
    results = corpus("lookalikes")
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert r.recall >= 0.95, "\n".join(crisis_eval.report([r]))
        assert r.rate("idiom") <= 0.30, "\n".join(crisis_eval.report([r]))
        assert r.rate("none") <= 0.08, "\n".join(crisis_eval.report([r]))


def test_suicide_said_indirectly_stays_where_it_is(corpus):
    """The ``indirect`` part, by a thirteenth author: suicide said without the word ("set up
    autopay for my kids child support for the next year", "does drowning hurt"), beside
    distress with no such risk. The recogniser's weakest figure (README.md, "Crisis recognition"):
    about one in seven of such texts in English and one in four in Spanish are missed; this
    keeps it from falling."""
    results = corpus("indirect")
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert r.recall >= {"en": 0.82, "es": 0.68}[r.lang], "\n".join(crisis_eval.report([r]))
        assert r.rate("none") <= {"en": 0.15, "es": 0.08}[r.lang], "\n".join(crisis_eval.report([r]))


def test_everyday_replies_are_seldom_taken_for_a_crisis(corpus):
    """"i have to go", "ya me voy": what a helpline hears all day, by an author the second
    reader never read (the replies part)."""
    results = corpus("replies")
    assert {r.lang for r in results} == {"en", "es"}
    for r in results:
        assert r.counts == {"none": 100} and r.meets_targets, "\n".join(crisis_eval.report([r]))


def test_crisis_eval_prints_rates_and_every_miss(app):
    result = app.test_cli_runner().invoke(args=["crisis-eval"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^en heldout +recall", result.output, re.M) and "es tune" in result.output
    assert "meets targets" in result.output
    assert "  miss en tune [info -> overdose] what does an overdose look like" in result.output


# -- SMS: every menu step, both languages --------------------------------------------------------

@pytest.mark.parametrize("before", [[], ["hi"], ["hi", "1"], ["hi", "3"], ["hi", "1", "more"]])
@pytest.mark.parametrize("message, expected", [
    ("his lips look blue", OVERDOSE_EN),
    ("kms tonight", SUICIDE_EN),
    ("mi hermano no despierta", OVERDOSE_ES),
    ("ya no puedo con esto", SUICIDE_ES),
])
def test_sms_crisis_at_every_step(twilio, before, message, expected):
    for text in before:
        twilio.text(text)
    reply = twilio.text(message)
    assert reply.startswith(answer(expected))
    assert reply != answer(expected)    # and the way on: a person, the menu


@pytest.mark.parametrize("message", ["my back is killing me", "me muero de risa",
                                     "killing it at work, 30 days clean"])
def test_sms_idioms_do_not_trigger(twilio, message):
    twilio.text("hi")
    reply = twilio.text(message)
    assert not [w for w in (OVERDOSE_EN, SUICIDE_EN, OVERDOSE_ES, SUICIDE_ES) if answer(w) in reply]


# -- opted out -----------------------------------------------------------------------------------

@pytest.mark.parametrize("message, expected", [("his lips look blue", OVERDOSE_EN),
                                               ("quiero quitarme la vida", SUICIDE_ES)])
def test_opted_out_crisis_gets_the_crisis_text_alone_every_time(app, twilio, message, expected):
    twilio.text("STOP")
    assert twilio.text("hello") == ""
    for _ in range(2):
        assert twilio.text(message) == answer(expected)
    assert twilio.text("menu") == ""     # still opted out


# -- waiting for a person, in a chat --------------------------------------------------------------

@pytest.fixture
def reps_app(make_app):
    return make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_NUMBER="+15555550100")


@pytest.fixture
def staffed(reps_app):
    return Twilio(reps_app.test_client())


@pytest.mark.parametrize("message, expected", [("cant get her to wake up", OVERDOSE_EN),
                                               ("me quiero morir", SUICIDE_ES)])
def test_crisis_while_waiting_for_a_person_is_answered_and_representatives_told(
        staffed, message, expected):
    code = code_from(sent_to(ask_for_person(staffed), REP_A)[0])
    msgs = sms(staffed, message)
    assert reply_of(msgs).startswith(answer(expected))
    for rep in (REP_A, REP_B):
        [told] = sent_to(msgs, rep)
        assert f"#{code}" in told and f"ACCEPT {code}" in told and message not in told


@pytest.mark.parametrize("message, expected", [("took way too many pills", OVERDOSE_EN),
                                               ("está morado", OVERDOSE_ES)])
def test_crisis_in_a_chat_is_answered_and_relayed(staffed, message, expected):
    code = code_from(sent_to(ask_for_person(staffed), REP_A)[0])
    sms(staffed, f"ACCEPT {code}", REP_A)
    msgs = sms(staffed, message)
    assert reply_of(msgs).startswith(answer(expected))
    assert sent_to(msgs, REP_A) == [f"#{code}: {message}"]


# -- rate limit and fallback ---------------------------------------------------------------------

@pytest.mark.parametrize("message, expected", [("the narcan didn't work", OVERDOSE_EN),
                                               ("kms tonight", SUICIDE_EN),
                                               ("no respira", OVERDOSE_ES)])
def test_crisis_over_the_rate_limit_gets_the_crisis_answer(make_app, message, expected):
    twilio = Twilio(make_app(RATE_LIMIT_PER_MINUTE=2).test_client())
    for _ in range(3):
        twilio.text("hello")
    assert twilio.text("hello") == ""
    assert twilio.text(message).startswith(answer(expected))


@pytest.mark.parametrize("message, expected", [("i just wanna end everything", SUICIDE_EN),
                                               ("mi hermano no despierta", OVERDOSE_ES)])
def test_crisis_at_the_sms_fallback(twilio, message, expected):
    response = twilio.post("/sms/fallback", {"From": "+15555550123", "Body": message})
    assert twiml(response).find("Message").text.startswith(answer(expected))


# -- voice ---------------------------------------------------------------------------------------

@pytest.fixture
def call(twilio):
    return Call(twilio)


@pytest.mark.parametrize("speech, expected", [
    ("he's not breathing", OVERDOSE_EN),
    ("I want to kill myself", SUICIDE_EN),
    ("mi hermano no despierta", OVERDOSE_ES),
    ("quiero quitarme la vida", SUICIDE_ES),
])
def test_unsure_crisis_speech_is_answered_not_thrown_away(call, speech, expected):
    call.start()
    assert call.say(speech, confidence="0.1").startswith(answer(expected, "voice"))


@pytest.mark.parametrize("speech, expected", [("he's not breathing", OVERDOSE_EN),
                                              ("ya no puedo con esto", SUICIDE_ES)])
def test_crisis_speech_without_a_database_gets_the_crisis_answer(tmp_path, speech, expected):
    app = create_app(settings(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:1/none"))
    twilio = Twilio(app.test_client())
    root = twiml(twilio.post("/voice/step", {"CallSid": "CA1", "From": "+15555550123",
                                             "SpeechResult": speech, "Confidence": "0.2"}))
    assert " ".join(s.text for s in root.iter("Say")).startswith(answer(expected, "voice"))
    assert root.find("Gather") is not None and root.find("Hangup") is None
    offline = twiml(twilio.post("/voice/step", {"CallSid": "CA1", "SpeechResult": "hello"}))
    assert answer(expected, "voice") not in " ".join(s.text for s in offline.iter("Say"))


def test_unsure_speech_that_is_no_crisis_is_still_asked_again(call):
    call.start()
    assert call.say("my back is killing me", confidence="0.1").startswith("Sorry, I didn't get that.")


@pytest.mark.parametrize("speech, expected", [("his lips look blue", OVERDOSE_EN),
                                              ("ya no puedo con esto", SUICIDE_ES)])
def test_crisis_speech_in_a_menu(call, speech, expected):
    call.start()
    call.press("3")
    assert call.say(speech).startswith(answer(expected, "voice"))


def test_first_prompt_hints_hold_both_languages_crisis_words(call):
    call.start()
    hints = call.gather().get("hints").split(", ")
    assert "overdose" in hints and "not breathing" in hints
    assert "sobredosis" in hints and "no respira" in hints and "quitarme la vida" in hints
    assert len(hints) <= 500
    call.press("3")  # a menu further in is in the caller's language only
    assert "sobredosis" not in call.gather().get("hints").split(", ")
