"""A caller's whole experience, through signed requests to POST /voice and its Gather action."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from helpline.store import Conversation

from .conftest import CALLER, Twilio, twiml

SID = "CA" + "1" * 32


class Call:
    """One call: posts each step with the same CallSid and reads what would be spoken."""

    def __init__(self, twilio: Twilio, sid: str = SID):
        self.twilio = twilio
        self.sid = sid
        self.last = None

    def _post(self, path, **data):
        response = self.twilio.call(path, self.sid, **data)
        assert response.status_code == 200, response.data
        self.last = twiml(response)
        return self.spoken()

    def start(self):
        return self._post("/voice")

    def press(self, digits):
        return self._post(self.action(), Digits=digits)

    def say(self, words, confidence="0.92"):
        return self._post(self.action(), SpeechResult=words, Confidence=confidence)

    def silence(self):
        return self._post(self.action())

    def action(self):
        return self.gather().get("action")

    def gather(self):
        gathers = list(self.last.iter("Gather"))
        assert len(gathers) == 1, "every answer must listen again"
        return gathers[0]

    def spoken(self) -> str:
        return " ".join(s.text for s in self.last.iter("Say"))

    def says(self):
        return list(self.last.iter("Say"))


@pytest.fixture
def call(twilio):
    return Call(twilio)


def assert_listening(call: Call, locale="en-US", voice="Polly.Joanna", keys="1"):
    gather = call.gather()
    assert gather.get("input") == "dtmf speech"
    assert gather.get("numDigits") == keys
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("finishOnKey") == ""  # so # reaches us as a key
    assert gather.get("language") == locale
    assert int(gather.get("timeout")) >= 3
    assert gather.get("hints")
    says = call.says()
    for say in says:
        if say.get("language") == locale:
            assert say.get("voice") == voice
    offers = [s for s in says if s.get("language") != locale]
    assert len(offers) <= 1 and all(s.get("voice") for s in offers)  # another language's key
    assert call.last.find("Hangup") is None
    redirect = call.last.find("Redirect")
    assert redirect is not None and redirect.text == call.action()


def test_welcome_carries_911_988_and_the_spanish_key(call):
    spoken = call.start()
    assert "Overdose? Call 9 1 1. Suicide or crisis? 9 8 8." in spoken
    assert "Para español, oprima 8" in spoken
    assert_listening(call)


def test_main_menu_by_keypad(call):
    spoken = call.start()
    assert "For facts about heroin, press 1." in spoken
    assert "Press 0 at any time to talk with a person." in spoken
    assert_listening(call)


WALK = [
    ("1", "fentanyl, an opioid up to fifty times stronger"), ("1", "Fentanyl test strips"),
    ("1", "Can one use lead to addiction"), ("1", "Physical dependence"), ("1", "health condition"),
    ("1", "Naloxone, also called Narcan"), ("*", "Naloxone, also called Narcan"),
    ("#", "Main menu."), ("2", "mu opioid receptors"), ("1", "dopamine"), ("1", "physical dependence"),
    ("9", "Main menu."), ("3", "For outpatient treatment"), ("1", "living at home"),
    ("9", "Main menu."), ("3", "For inpatient"), ("2", "all day and all night"),
    ("#", "Main menu."), ("3", "Treatment works"), ("3", "buprenorphine"), ("1", "withdrawal"),
    ("1", "seven to ten days"),
    ("#", "Main menu."), ("3", "Treatment works"), ("4", "1 8 0 0, 6 6 2, 4 3 5 7"),
    ("#", "Main menu."), ("3", "For help for family and friends, press 5."), ("5", "sober"),
    ("1", "Nar-Anon"), ("1", "save a life"),
    ("#", "Main menu."), ("5", "Signs of an overdose"), ("1", "naloxone"),
    ("1", "Never Use Alone line at 1 8 0 0, 4 8 4, 3 7 3 1"), ("1", "tolerance drops"),
    ("1", "benzodiazepines"), ("1", "Good Samaritan"), ("1", "9 8 8"),
    ("1", "1 8 0 0, 6 6 2, 4 3 5 7"), ("9", "Main menu."), ("4", "1 8 0 0, 6 6 2, 4 3 5 7"),
]


def test_whole_menu_tree_by_keypad(call):
    call.start()
    for digit, expected in WALK:
        spoken = call.press(digit)
        assert expected in spoken, (digit, spoken)
        assert_listening(call, keys="5" if "enter your 5 digit ZIP code" in spoken else "1")


def test_whole_menu_tree_by_speech(call):
    call.start()
    call.start()
    assert "fentanyl" in call.say("facts")
    assert "fentanyl" in call.say("repeat please")
    assert "test strips" in call.say("next")
    assert "Main menu." in call.say("menu")
    assert "Treatment works" in call.say("treatment")
    assert "buprenorphine" in call.say("tell me about medication")
    assert "Main menu." in call.say("main menu")
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in call.say("I want a representative")
    for words in ["person", "agent", "help", "talk to someone"]:
        call.say("menu")
        assert "1 8 0 0, 6 6 2, 4 3 5 7" in call.say(words), words


def test_zero_reaches_the_person_step_from_every_menu(call):
    for path in [[], ["1"], ["3"], ["3", "2"], ["5", "1"]]:
        call.start()
        call.press("9")
        for digit in path:
            call.press(digit)
        spoken = call.press("0")  # nobody on duty: national numbers and voicemail / callback
        assert "1 8 0 0, 6 6 2, 4 3 5 7" in spoken and "9 8 8" in spoken, spoken
        assert "To leave a message, press 1." in spoken
        assert_listening(call)


def test_spanish_by_keypad_whole_menu_in_spanish(call):
    call.start()
    spoken = call.press("8")
    assert_listening(call, "es-US", "Polly.Lupe")
    assert "Oprima 0" in spoken or "oprima 0" in spoken
    spoken = call.press("1")
    assert "fentanilo" in spoken.lower()
    assert_listening(call, "es-US", "Polly.Lupe")
    safety = call.press("9") + call.press("5") + "".join(call.press("1") for _ in range(6))
    assert "9 8 8" in safety and "Buen Samaritano" in safety
    assert_listening(call, "es-US", "Polly.Lupe")


def test_spanish_by_speech(call):
    call.start()
    call.say("español")
    assert_listening(call, "es-US", "Polly.Lupe")
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in call.say("quiero hablar con una persona")
    call.say("menú")
    assert "tratamiento" in call.say("tratamiento").lower()
    assert_listening(call, "es-US", "Polly.Lupe")


def test_english_speech_switches_back(call):
    call.start()
    call.press("8")
    call.say("English")
    assert_listening(call)
    assert "For facts about heroin, press 1." in call.spoken()


def test_english_key_offered_to_spanish_callers_in_the_english_voice(call):
    call.start()
    call.press("8")
    [offer] = [s for s in call.says() if s.get("language") == "en-US"]
    assert offer.text == "For English, press 7." and offer.get("voice") == "Polly.Joanna"
    assert "For facts about heroin, press 1." in call.press("7")
    assert_listening(call)


def test_no_input_twice_takes_the_caller_to_a_person(call):
    call.start()
    first = call.silence()
    assert first.startswith("Sorry, I didn't get that.")
    assert "For facts about heroin, press 1." in first
    second = call.silence()
    assert "Let me take you to a person." in second
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in second
    assert_listening(call)
    third = call.silence()  # waiting on the line: the number again, never a hang-up
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in third
    assert_listening(call)


def test_a_good_answer_resets_the_miss_count(call):
    call.start()
    call.press("7")
    call.press("3")
    assert call.press("8").startswith("Sorry")
    assert "Let me take you" not in call.spoken()


def test_low_confidence_speech_counts_as_silence(call):
    call.start()
    assert call.say("treatment", confidence="0.1").startswith("Sorry, I didn't get that.")
    assert "Treatment works" in call.say("treatment", confidence="0.8")


def test_crisis_speech_reads_guidance_then_offers_next_steps_and_a_person(call):
    call.start()
    spoken = call.say("my friend took too much and is overdosing")
    assert spoken.startswith("If someone may be overdosing, call 9 1 1 now.")
    assert "For what to do while help is on the way, press 1." in spoken
    assert "To talk with a person here, press 0." in spoken
    assert_listening(call)
    assert "give another dose" in call.silence()  # still on the line: the next steps
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in call.press("0")


def test_suicide_speech_gets_988(call):
    call.start()
    assert "9 8 8" in call.say("I want to kill myself")


def test_spanish_crisis_speech(call):
    call.start()
    call.press("8")
    spoken = call.say("creo que es una sobredosis")
    assert "9 1 1" in spoken
    assert_listening(call, "es-US", "Polly.Lupe")


@pytest.mark.parametrize("digits", ["abc", "*#*#", "1" * 40, "12", "", " ", "\x00"])
def test_garbage_digits_get_a_valid_answer(call, digits):
    call.start()
    spoken = call.press(digits)
    assert "For facts about heroin, press 1." in spoken
    assert_listening(call)


def test_very_long_speech(call):
    call.start()
    spoken = call.say("blah " * 600)
    assert spoken.startswith("Sorry, I didn't get that.")
    assert_listening(call)


def test_missing_callsid_still_gets_valid_twiml(twilio):
    for path, data in [("/voice", {}), ("/voice/step", {"Digits": "1"}), ("/voice/step", {})]:
        response = twilio.post(path, {"From": CALLER, **data})
        assert response.status_code == 200
        root = twiml(response)
        assert root.find("Gather") is not None and root.find("Hangup") is None


def test_spoken_text_has_no_symbols_or_urls(call):
    """Everything the walk hears is written for the ear."""
    call.start()
    heard = [call.spoken(), call.silence()]
    for digit, _ in WALK:
        heard.append(call.press(digit))
    call.press("9")
    heard.append(call.say("sources"))
    for text in heard:
        for bad in ["http", "www", ".gov", ".org", "&", "/", "(", "911", "988", "1-800"]:
            assert bad not in text, (bad, text)


def test_voices_are_configurable(make_app):
    app = make_app(HELPLINE_VOICES={"en": "Google.en-US-Neural2-F", "es": "Polly.Mia"})
    call = Call(Twilio(app.test_client()))
    call.start()
    assert_listening(call, "en-US", "Google.en-US-Neural2-F")
    call.press("8")
    assert_listening(call, "es-US", "Polly.Mia")


def test_call_state_is_kept_by_callsid_with_only_a_hashed_caller(app, call):
    call.start()
    call.press("8")
    with app.extensions["helpline"].store.transaction() as db:
        row = db.execute(select(Conversation).where(Conversation.channel == "voice")).scalar_one()
    assert row.key == SID
    assert row.caller_hash and CALLER not in row.caller_hash and len(row.caller_hash) == 64
    assert row.state["lang"] == "es"


def test_two_calls_keep_separate_places(twilio):
    a, b = Call(twilio, "CA" + "a" * 32), Call(twilio, "CA" + "b" * 32)
    a.start(), b.start()
    a.press("8")
    b.silence()
    assert "fentanilo" in a.press("1").lower()
    assert "fentanyl" in b.press("1")


def test_twilio_retrying_the_first_webhook_repeats_not_misses(call):
    call.start()
    call.press("3")
    assert "Treatment works" in call.start()


# -- the first seconds of a call -------------------------------------------------------------------

def test_first_gather_holds_welcome_911_spanish_offer_and_the_main_menu(app, call):
    call.start()
    gather = call.gather()
    assert [s.text for s in call.says()] == [s.text for s in gather.iter("Say")]  # all in it
    assert call.last.find(".//Pause") is None
    welcome, numbers, offer, options, footer = gather.iter("Say")
    assert "helpline" in welcome.text and welcome.get("voice") == "Polly.Joanna"
    assert "9 1 1" in numbers.text and "9 8 8" in numbers.text
    assert offer.text == "Para español, oprima 8."
    assert (offer.get("language"), offer.get("voice")) == ("es-US", "Polly.Lupe")
    for digit in "12345":
        assert f"press {digit}." in options.text
    assert "To talk with a person, press 4." in options.text
    assert "espanol" in gather.get("hints")


def test_the_first_option_is_heard_within_ten_seconds(app, call):
    from helpline.check import seconds_until

    call.start()
    content = app.extensions["helpline"].content
    first = content.text("en", "format.option", "voice", digit=1,
                         label=content.text("en", "option.facts", "voice"))
    seconds = seconds_until([s.text for s in call.says()], first)
    assert seconds is not None and seconds <= 10
    assert seconds_until([s.text for s in call.says()], "Para español") <= 7


def test_the_spanish_key_means_nothing_else_anywhere(call):
    call.start()
    for path in [["1"], ["2"], ["3"], ["3", "1"], ["5"], ["4"]]:
        call.press("9")
        for digit in path:
            call.press(digit)
        spoken = call.press("8")
        assert spoken.startswith("Sorry, I didn't get that."), (path, spoken)
        call.press("9")
    spoken = call.press("8")
    assert "Datos sobre la heroína, oprima 1" in spoken
    assert_listening(call, "es-US", "Polly.Lupe")


def test_star_still_repeats_and_is_not_spanish(call):
    call.start()
    call.press("1")
    assert "fentanyl" in call.press("*")
    assert_listening(call)


def test_a_thank_you_on_the_phone_is_answered_kindly_and_listened_for_again(call):
    call.start()
    spoken = call.say("thank you")
    assert spoken.startswith("You're welcome.") and "press 1" in spoken
    assert_listening(call)


def test_a_call_reads_the_time_from_the_helplines_clock(app, call):
    """Calls, like texts and the worker's timers, read the clock a test (or the worker)
    holds: a call step is stamped with its time, not the wall clock's."""
    from datetime import datetime

    app.extensions["helpline"].clock.set(datetime(2026, 3, 2, 15, 0))
    call.start()
    call.press("1")
    with app.extensions["helpline"].store.transaction() as db:
        conv = db.execute(select(Conversation).where(Conversation.key == SID)).scalar_one()
        assert (conv.created_at, conv.updated_at) == (datetime(2026, 3, 2, 15, 0),) * 2
