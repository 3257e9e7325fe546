"""When the crisis words miss, nothing is lost; after a crisis answer come the next steps,
never "didn't get that"; by phone the 988 Lifeline is one key away; the facts that keep
people alive are in the menus. Through signed requests, by SMS and by voice, in English and
Spanish."""
from __future__ import annotations

import pytest

from helpline import create_app
from helpline.config import ConfigError
from helpline.segments import sms_segments

from .conftest import Twilio, settings
from .test_caller import Call

LIFELINE = "+18002738255"   # 1-800-273-8255 reaches the 988 Lifeline


def content(app):
    return app.extensions["helpline"].content


def spanish(twilio) -> str:
    """A texter who switched to Spanish; the reply to the switch."""
    twilio.text("hola")
    return twilio.text("ESPAÑOL")


# -- when recognition misses, nothing is lost ----------------------------------------------------

def test_sms_welcome_and_every_miss_carry_911_and_988_in_english(app, twilio):
    line = content(app).text("en", "crisis.numbers", "sms")
    assert "911" in line and "call or text 988" in line
    welcome = twilio.text("hello?")
    assert welcome.startswith("Hi, this is the Heroin & Opioid Helpline")
    assert line in welcome and sms_segments(welcome).count <= 2
    for where in ["", "1", "menu", "3"]:   # the main menu, a fact, the main menu, a submenu
        if where:
            twilio.text(where)
        missed = twilio.text("purple monkey")
        assert missed.startswith(f"Sorry, I didn't get that.\n{line}\n"), missed
        assert sms_segments(missed).count <= 2, missed


def test_sms_miss_in_a_series_gives_its_choices_not_the_fact_again(app, twilio):
    twilio.text("hi")
    fact = twilio.text("1")
    missed = twilio.text("zzz")
    assert "fentanyl" in fact and "fentanyl" not in missed
    assert "(1/6) Reply MORE for the next" in missed


def test_sms_welcome_and_every_miss_carry_911_and_988_in_spanish(app, twilio):
    line = content(app).text("es", "crisis.numbers", "sms")
    assert "911" in line and "988" in line
    welcome = spanish(twilio)
    assert welcome.startswith("Línea de Ayuda sobre Heroína y Opioides")
    assert line in welcome and sms_segments(welcome).count <= 4
    for where in ["", "1", "menu", "3"]:
        if where:
            twilio.text(where)
        missed = twilio.text("mono morado")
        assert missed.startswith(f"Disculpe, no lo entiendo.\n{line}\n"), missed
        assert sms_segments(missed).count <= 4, missed


def test_voice_welcome_and_misses_carry_911_and_988_in_english(app, twilio):
    call = Call(twilio)
    numbers = content(app).text("en", "crisis.numbers", "voice")
    assert "9 1 1" in numbers and "9 8 8" in numbers
    assert numbers in call.start()
    missed = call.say("purple monkey")
    assert missed.startswith(f"Sorry, I didn't get that. {numbers}")
    assert "For facts about heroin, press 1." in missed


def test_voice_welcome_and_misses_carry_911_and_988_in_spanish(make_app):
    app = make_app(HELPLINE_DEFAULT_LANGUAGE="es")
    call = Call(Twilio(app.test_client()))
    numbers = content(app).text("es", "crisis.numbers", "voice")
    assert "9 1 1" in numbers and "9 8 8" in numbers
    assert numbers in call.start()
    missed = call.press("6")
    assert missed.startswith(f"Disculpe, no lo entiendo. {numbers}")


# -- after a crisis answer: the next steps, never "didn't get that" -------------------------------

STEPS_EN = ["rescue breaths", "2-3 minutes after naloxone? Give another dose", "Stay with them",
            "911 can talk you through it"]
STEPS_ES = ["respiraciones", "2-3 minutos después de la naloxona? Otra dosis",
            "Quédese con la persona", "El 911 le puede guiar"]


def assert_steps(reply: str, steps: list[str]) -> None:
    for part in steps:
        assert part in reply, (part, reply)


@pytest.mark.parametrize("follow_up", ["what do i do", "what now??", "ok", "5", "thank you"])
def test_sms_after_an_overdose_answer_anything_gets_the_next_steps(twilio, follow_up):
    twilio.text("hi")
    answer = twilio.text("my friend overdosed")
    assert answer.startswith("If someone may be overdosing, call 911 now.")
    assert "1 What to do until help comes" in answer
    reply = twilio.text(follow_up)
    assert "Sorry" not in reply
    assert_steps(reply, STEPS_EN)
    assert "Reply 0 to talk to a person" in reply


@pytest.mark.parametrize("follow_up", ["I don't have narcan", "he's still not waking up",
                                       "nobody is coming"])
def test_sms_after_an_overdose_answer_worries_never_get_sorry(twilio, follow_up):
    """Whether or not the words are taken for a new crisis, the answer is guidance."""
    twilio.text("overdose")
    reply = twilio.text(follow_up)
    assert "Sorry" not in reply
    assert "give another dose" in reply.lower() or reply.startswith("If someone may be overdosing")


def test_sms_next_steps_as_often_as_asked_and_choices_still_work(twilio):
    twilio.text("overdose")
    for _ in range(3):
        assert_steps(twilio.text("what do i do"), STEPS_EN)
    assert "1-800-662-4357" in twilio.text("0")   # a person (nobody on duty: the numbers)
    assert "1 Facts about heroin" in twilio.text("menu")
    assert twilio.text("what do i do").startswith("Sorry, I didn't get that.")   # no crisis now


def test_sms_after_an_overdose_answer_in_spanish(twilio):
    spanish(twilio)
    answer = twilio.text("sobredosis")
    assert answer.startswith("¿Posible sobredosis? Llame al 911 ya.")
    assert "1 Qué hacer mientras llega ayuda" in answer
    for follow_up in ["qué hago", "y ahora", "5"]:
        reply = twilio.text(follow_up)
        assert "Perdón" not in reply
        assert_steps(reply, STEPS_ES)
    assert sms_segments(reply).count <= 2


def test_sms_after_a_suicide_answer_support_and_988_in_english(twilio):
    twilio.text("hi")
    assert "988" in twilio.text("I want to kill myself")
    for follow_up in ["nobody cares", "1", "whatever"]:
        reply = twilio.text(follow_up)
        assert reply.startswith("You matter, and you don't have to face this alone.")
        assert "call or text 988" in reply and "Sorry" not in reply
        assert "press 1" not in reply.lower()   # no call to put through by text


def test_sms_after_a_suicide_answer_in_spanish(twilio):
    spanish(twilio)
    assert "988" in twilio.text("me quiero matar")
    reply = twilio.text("a nadie le importa")
    assert reply.startswith("Usted importa y no tiene que pasar esto a solas.")
    assert "988" in reply and "Perdón" not in reply


def test_sms_both_crises_at_once_then_both_next_steps(twilio):
    twilio.text("he overdosed and I want to kill myself")
    reply = twilio.text("what now")
    assert "call 911" in reply and "rescue breaths" in reply and "988" in reply
    assert "Sorry" not in reply


def test_voice_after_an_overdose_answer_next_steps_by_speech_silence_and_key(call_en):
    call = call_en
    call.silence()
    answer = call.say("my friend is overdosing")
    assert "For what to do while help is on the way, press 1." in answer
    for step in [lambda: call.say("what do I do"), call.silence, lambda: call.press("1"),
                 lambda: call.say("I don't have narcan")]:
        reply = step()
        assert "Sorry" not in reply and "give another dose" in reply, reply
        assert "Let me take you to a person" not in reply
        call.gather()   # still listening
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in call.press("0")


def test_voice_after_an_overdose_answer_in_spanish(call_es):
    call = call_es
    call.say("mi hermano tiene una sobredosis")
    reply = call.say("qué hago")
    assert "Perdón" not in reply and "dele otra dosis" in reply
    assert "Quédese con la persona" in call.silence()


def test_voice_overdose_answer_does_not_contradict_itself(call_en, call_es):
    english = (call_en.silence(), call_en.say("overdose"))[1]
    assert english.startswith("If someone may be overdosing, call 9 1 1 now. If this is the only "
                              "phone you have, hang up and dial 9 1 1")
    assert "stay on the line" not in english.lower()
    spanish_answer = call_es.say("sobredosis")
    assert "llame al 9 1 1 ahora. Si este es su único teléfono, cuelgue" in spanish_answer
    assert "quédese en la línea" not in spanish_answer.lower()
    assert "no cuelgue" not in spanish_answer.lower()


def test_voice_after_a_suicide_answer_support_in_english(call_en):
    call_en.silence()
    call_en.say("I want to kill myself")
    reply = call_en.say("nobody cares")
    assert reply.startswith("You matter, and you don't have to face this alone.")
    assert "9 8 8" in reply and "Sorry" not in reply


# -- the 988 Lifeline by phone ------------------------------------------------------------------

def lifeline_dial(call: Call):
    dial = call.last.find("Dial")
    assert dial is not None, "the caller is put through with a Dial verb"
    numbers = [n.text for n in dial.iter("Number")]
    return dial, numbers


def test_voice_suicide_answer_offers_the_lifeline_and_1_dials_it(call_en):
    call_en.silence()
    answer = call_en.say("I want to kill myself")
    assert "For a call with the 9 8 8 Lifeline now, press 1." in answer
    spoken = call_en.press("1")
    assert spoken == "Connecting you to the 9 8 8 Lifeline now. Please stay on the line."
    dial, numbers = lifeline_dial(call_en)
    assert numbers == [LIFELINE]
    assert dial.get("action").startswith("/voice/lifeline-ended")
    assert call_en.last.find("Gather") is None and call_en.last.find("Hangup") is None


def test_voice_the_lifeline_by_spanish_key_and_by_speech(call_es, call_en):
    assert "Para hablar ahora con la Línea 9 8 8, oprima 1." in call_es.say("quiero morir")
    assert "oprima 2 para español" in call_es.press("1")
    assert lifeline_dial(call_es)[1] == [LIFELINE]
    call_en.silence()
    call_en.say("I want to die")
    call_en.say("connect me to the lifeline")
    assert lifeline_dial(call_en)[1] == [LIFELINE]


def test_voice_yes_to_the_lifeline_offer_puts_the_call_through(twilio):
    for sid, words, answer in [("CA" + "y" * 32, "I want to die", "yes please"),
                               ("CA" + "x" * 32, "I want to die", "yes"),
                               ("CA" + "z" * 32, "quiero morir", "sí")]:
        call = Call(twilio, sid)
        call.start()
        call.silence()
        call.say(words)
        call.say(answer)
        assert lifeline_dial(call)[1] == [LIFELINE], answer


def test_after_the_lifeline_call_a_goodbye_or_if_it_failed_a_person(twilio):
    for status, sid in [("completed", "CA" + "c" * 32), ("no-answer", "CA" + "d" * 32),
                        ("failed", "CA" + "e" * 32)]:
        call = Call(twilio, sid)
        call.start()
        call.silence()
        call.say("I want to kill myself")
        call.press("1")
        dial = call.last.find("Dial")
        after = call._post(dial.get("action"), DialCallStatus=status)
        if status == "completed":
            assert "Take care of yourself" in after and call.last.find("Hangup") is not None
        else:   # never silence: a person here, or the numbers and a way to leave word
            assert "9 8 8" in after and "1 8 0 0, 6 6 2, 4 3 5 7" in after
            call.gather()


def test_the_lifeline_number_is_configuration(make_app, tmp_path):
    call = Call(Twilio(make_app(LIFELINE_NUMBER="+15555550988").test_client()))
    call.start()
    call.silence()
    call.say("I want to kill myself")
    call.press("1")
    assert lifeline_dial(call)[1] == ["+15555550988"]
    with pytest.raises(ConfigError, match="HELPLINE_LIFELINE_NUMBER"):
        create_app(settings(tmp_path, LIFELINE_NUMBER="988-lifeline"))


@pytest.fixture
def call_en(twilio):
    call = Call(twilio, "CA" + "e" * 30 + "n1")
    call.start()
    return call


@pytest.fixture
def call_es(twilio):
    call = Call(twilio, "CA" + "e" * 30 + "s1")
    call.start()
    call.press("2")
    return call


# -- the facts that keep people alive -----------------------------------------------------------

NEW_FACTS = ["facts.fentanyl", "facts.xylazine", "facts.dependence", "facts.stigma",
             "safety.never_alone", "safety.tolerance", "safety.mixing", "safety.good_samaritan",
             "treatment.moud", "treatment.moud_works", "treatment.naltrexone",
             "families.talk", "families.support", "families.naloxone"]

SMS_WALK = [["hi", "1"] + ["more"] * 5, ["menu", "5"] + ["more"] * 7,
            ["menu", "3", "3", "more", "more"], ["menu", "3", "5", "more", "more"]]
VOICE_WALK = [["1"] + ["1"] * 5, ["9", "5"] + ["1"] * 7, ["9", "3", "3", "1", "1"],
              ["9", "3", "5", "1", "1"]]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_new_fact_is_reachable_by_sms(make_app, lang):
    app = make_app(RATE_LIMIT_PER_MINUTE=0)   # a long walk, faster than a person texts
    twilio = Twilio(app.test_client())
    read = []
    if lang == "es":
        spanish(twilio)
    for path in SMS_WALK:
        read += [twilio.text(body) for body in path]
    everything = "\n".join(read)
    for key in NEW_FACTS:
        assert content(app).text(lang, key, "sms") in everything, key


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_new_fact_is_reachable_by_voice(app, twilio, lang):
    call = Call(twilio)
    call.start()
    heard = [call.press("8")] if lang == "es" else []
    for path in VOICE_WALK:
        heard += [call.press(digit) for digit in path]
    everything = " ".join(heard)
    for key in NEW_FACTS:
        assert content(app).text(lang, key, "voice") in everything, key


def test_every_new_fact_names_its_sources_in_both_languages(app):
    for lang in ("en", "es"):
        language = content(app).languages[lang]
        for key in NEW_FACTS:
            sources = language.entries[key].sources
            assert sources and all(s in language.sources for s in sources), (lang, key)
        assert "cdc.gov" in language.sources["cdc"]["url"]
    for key in ("facts.fentanyl", "facts.xylazine", "safety.mixing"):
        assert "cdc" in content(app).languages["en"].entries[key].sources


def test_sources_name_the_cdc_by_sms_and_voice(twilio):
    twilio.text("hi")
    assert "CDC (cdc.gov)" in twilio.text("sources")
    spanish(twilio)
    assert "los CDC (cdc.gov)" in twilio.text("fuentes")
    call = Call(twilio)
    call.start()
    call.silence()
    assert "Centers for Disease Control and Prevention" in call.say("sources")


@pytest.mark.parametrize("key, lang, says", [
    ("facts.fentanyl", "en", ["fentanyl", "one use can kill"]),
    ("facts.xylazine", "en", ["test strips", "Xylazine", "naloxone doesn't reverse it",
                              "always give naloxone anyway"]),
    ("safety.never_alone", "en", ["Never use alone", "1-800-484-3731", "Start low, go slow"]),
    ("safety.tolerance", "en", ["jail, detox, treatment", "tolerance drops",
                                "first use after is the riskiest"]),
    ("safety.mixing", "en", ["alcohol", "benzodiazepines"]),
    ("safety.good_samaritan", "en", ["Most states", "Good Samaritan laws", "call 911"]),
    ("treatment.moud", "en", ["(MOUD)", "buprenorphine, methadone and naltrexone", "first-line",
                              "with or without counseling"]),
    ("treatment.naltrexone", "en", ["opioid-free for 7 to 10 days"]),
    ("facts.dependence", "en", ["Physical dependence", "Addiction is different"]),
    ("families.talk", "en", ["Worried about someone?", "without blame"]),
    ("families.support", "en", ["Nar-Anon", "Al-Anon"]),
    ("families.naloxone", "en", ["naloxone (Narcan)"]),
    ("facts.fentanyl", "es", ["fentanilo", "un solo uso puede matar"]),
    ("facts.xylazine", "es", ["tiras", "xilacina", "dé naloxona igual"]),
    ("safety.never_alone", "es", ["No consuma a solas", "1-800-484-3731"]),
    ("safety.tolerance", "es", ["estar preso", "tolerancia baja", "primer uso"]),
    ("safety.mixing", "es", ["alcohol", "benzodiacepinas"]),
    ("safety.good_samaritan", "es", ["mayor parte de los estados", "Buen Samaritano"]),
    ("treatment.moud", "es", ["buprenorfina, metadona y naltrexona"]),
    ("treatment.moud_works", "es", ["con o sin terapia"]),
    ("treatment.naltrexone", "es", ["de una semana a semana y media sin opioides"]),
    ("families.support", "es", ["Nar-Anon", "Al-Anon"]),
    ("families.naloxone", "es", ["naloxona (Narcan)"]),
])
def test_what_the_facts_say(app, key, lang, says):
    text = content(app).text(lang, key, "sms")
    for words in says:
        assert words in text, (key, words, text)


def test_dependence_is_explained_once_and_naltrexone_is_not_said_to_ease_withdrawal(app):
    english = [e.text for e in content(app).languages["en"].entries.values()]
    assert not [t for t in english if "can't happen from one use" in t or "One use can't" in t]
    assert sum("Physical dependence" in t or "physical dependence" in t for t in english) == 2
    assert not [t for t in english if "MAT eases" in t]
    eases = content(app).text("en", "treatment.moud_works", "sms")
    assert eases.startswith("Buprenorphine and methadone ease withdrawal")


# -- a question about a crisis gets the crisis line first, then its answer --------------------------

@pytest.mark.parametrize("lang, question, crisis, answer", [
    ("en", "what is an overdose", "crisis.overdose", "safety.overdose"),
    ("en", "can you overdose on methadone?", "crisis.overdose", "safety.overdose"),
    ("en", "how do i help someone who is suicidal", "crisis.suicide", "safety.suicide_helping"),
    ("es", "que es una sobredosis", "crisis.overdose", "safety.overdose"),
    ("es", "¿cómo ayudo a alguien que piensa en el suicidio?", "crisis.suicide",
     "safety.suicide_helping"),
])
def test_sms_a_question_about_a_crisis_gets_its_answer_after_the_crisis_line(
        app, twilio, lang, question, crisis, answer):
    if lang == "es":
        spanish(twilio)
    reply = twilio.text(question)
    first, then = content(app).text(lang, crisis, "sms"), content(app).text(lang, answer, "sms")
    assert reply.startswith(first) and reply.index(then) > len(first)
    assert sms_segments(reply).count <= 4


def test_sms_a_crisis_happening_gets_the_crisis_line_without_the_lesson(app, twilio):
    reply = twilio.text("my brother is overdosing")
    assert reply.startswith(content(app).text("en", "crisis.overdose", "sms"))
    assert content(app).text("en", "safety.overdose", "sms") not in reply


@pytest.mark.parametrize("lang, question, answer", [
    ("en", "what are the signs of an overdose", "safety.overdose"),
    ("es", "cuales son las senales de una sobredosis", "safety.overdose"),
])
def test_voice_a_question_about_a_crisis_gets_its_answer_too(app, twilio, lang, question, answer):
    call = Call(twilio)
    call.start()
    if lang == "es":
        call.press("8")
    spoken = call.say(question)
    crisis_line = content(app).text(lang, "crisis.overdose", "voice")
    assert spoken.startswith(crisis_line)
    assert content(app).text(lang, answer, "voice") in spoken
