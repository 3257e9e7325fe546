"""helpline.twiml: every reply type rendered without a request or a database, so what Twilio
is told to do is pinned per reply, apart from the flows that lead to it."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from helpline import replies as r
from helpline import twiml


def url(endpoint: str, **query) -> str:
    """Action URLs as the test can read them: /endpoint?key=value, None values left out."""
    args = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if v is not None)
    return f"/{endpoint}" + (f"?{args}" if args else "")


SETTINGS = twiml.VoiceSettings(
    url=url, voices={"en": "Polly.Joanna", "es": "Polly.Lupe"}, locales={"en": "en-US", "es": "es-US"},
    caller_id="+15555550100", gather_timeout=6, dial_timeout=25, lifeline_number="+18002738255",
    hold_music_url="https://example.org/hold.mp3")
EN, ES = ("en", "Hello."), ("es", "Hola.")


def render(reply) -> ET.Element:
    return ET.fromstring(str(twiml.Voice(SETTINGS).render(reply)))


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def says(element: ET.Element) -> list[tuple[str, str, str]]:
    return [(s.get("voice"), s.get("language"), s.text) for s in element.iter("Say")]


def test_listen_gathers_keys_and_speech_in_the_callers_language_then_asks_again():
    root = render(r.Listen((EN, ES), "es", step=3, hints=("ayuda", "tratamiento"), keys=1))
    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("action") == "/voice.step?s=3"
    assert gather.get("language") == "es-US" and gather.get("numDigits") == "1"
    assert gather.get("hints") == "ayuda, tratamiento" and gather.get("actionOnEmptyResult") == "true"
    assert says(gather) == [("Polly.Joanna", "en-US", "Hello."), ("Polly.Lupe", "es-US", "Hola.")]
    assert root.find("Redirect").text == "/voice.step?s=3"


def test_listen_for_a_zip_code_takes_five_keys_and_hints_a_digit_sequence():
    gather = render(r.Listen((EN,), "en", step=1, hints=("help",), keys=5)).find("Gather")
    assert gather.get("numDigits") == "5"
    assert gather.get("hints") == f"{twiml.DIGIT_SEQUENCE}, help"


def test_listen_keeps_twilios_limit_on_hints():
    many = tuple(f"w{i}" for i in range(twiml.MAX_HINTS + 50))
    gather = render(r.Listen((EN,), "en", step=1, hints=many)).find("Gather")
    assert len(gather.get("hints").split(", ")) == twiml.MAX_HINTS


def test_ring_dials_each_representative_from_the_helpline_with_a_whisper():
    root = render(r.Ring((EN,), step=2, call_sid="CA1", reps=((7, "+15555550901"), (8, "+15555550902")),
                         seconds=None))
    assert verbs(root) == ["Say", "Dial"]
    dial = root.find("Dial")
    assert dial.get("callerId") == "+15555550100" and dial.get("timeout") == "25"
    assert dial.get("action") == "/voice.dial_status?s=2"
    numbers = dial.findall("Number")
    assert [n.text for n in numbers] == ["+15555550901", "+15555550902"]
    assert numbers[0].get("url") == "/voice_reps.whisper?call=CA1&rep=7"


def test_ring_speakers_first_for_their_own_seconds():
    dial = render(r.Ring((EN,), 2, "CA1", ((7, "+15555550901"),), seconds=15)).find("Dial")
    assert dial.get("timeout") == "15"


def test_queue_enqueues_with_hold_message_and_an_action_for_when_it_ends():
    root = render(r.Queue((EN,), step=4))
    enqueue = root.find("Enqueue")
    assert verbs(root) == ["Say", "Enqueue"] and enqueue.text == twiml.QUEUE
    assert enqueue.get("waitUrl") == "/voice.queue_wait" and enqueue.get("action") == "/voice.queue_left?s=4"


def test_record_beeps_stops_on_hash_and_asks_again_when_nothing_was_recorded():
    root = render(r.Record((EN,), step=5))
    assert verbs(root) == ["Say", "Record", "Redirect"]
    record = root.find("Record")
    assert record.get("maxLength") == str(twiml.VOICEMAIL_SECONDS) and record.get("finishOnKey") == "#"
    assert record.get("action") == "/voice.recorded?s=5" and record.get("playBeep") == "true"
    assert root.find("Redirect").text == "/voice.step?s=5"


def test_lifeline_dials_the_lifeline_and_comes_back_when_it_ends():
    dial = render(r.Lifeline((EN,), step=6)).find("Dial")
    assert dial.find("Number").text == "+18002738255"
    assert dial.get("action") == "/voice.lifeline_ended?s=6"


def test_hangup_says_goodbye_then_hangs_up():
    assert verbs(render(r.Hangup((EN,)))) == ["Say", "Hangup"]


def test_offline_says_every_language_in_its_own_voice_and_loops_without_a_database():
    root = render(r.Offline((EN, ES)))
    assert verbs(root) == ["Gather", "Redirect"]
    assert [s[0] for s in says(root)] == ["Polly.Joanna", "Polly.Lupe"]
    assert root.find("Gather").get("action") == root.find("Redirect").text == "/voice.fallback"


def test_gone_is_empty():
    assert verbs(render(r.Gone())) == []


def test_hold_message_plays_music_and_listens_for_a_key_to_leave():
    gather = render(r.HoldMessage((EN,))).find("Gather")
    assert gather.get("action") == "/voice.queue_key" and gather.find("Play").text == "https://example.org/hold.mp3"
    assert verbs(render(r.LeaveQueue())) == ["Leave"]


def test_announce_only_speaks():
    assert verbs(render(r.Announce((ES,)))) == ["Say"]


def test_whisper_asks_the_representative_for_1_and_hangs_up_their_leg_otherwise():
    root = render(r.Whisper((EN,), rep_id=7, call_sid="CA1"))
    assert verbs(root) == ["Gather", "Hangup"]
    assert root.find("Gather").get("action") == "/voice_reps.whisper_answer?call=CA1&rep=7"
    assert verbs(render(r.Bridge(True))) == []
    assert verbs(render(r.Bridge(False))) == ["Hangup"]


@pytest.mark.parametrize("reply, digits, action", [
    (r.AskPasscode((EN,), tries=1), "8", "/voice_reps.rep_passcode?tries=1"),
    (r.AskPin((EN,), step=3, tries=2), "6", "/voice_reps.rep_pin?s=3&tries=2"),
])
def test_passcode_and_pin_take_keys_ended_by_hash_with_more_time(reply, digits, action):
    root = render(reply)
    gather = root.find("Gather")
    assert verbs(root) == ["Gather", "Hangup"] and gather.get("input") == "dtmf"
    assert gather.get("numDigits") == digits and gather.get("finishOnKey") == "#"
    assert gather.get("action") == action and gather.get("timeout") == "10"


def test_rep_menu_takes_one_key_and_hangs_up_on_silence():
    root = render(r.RepMenu((EN,), step=2))
    assert verbs(root) == ["Gather", "Hangup"]
    assert root.find("Gather").get("action") == "/voice_reps.rep_take?s=2"


def test_take_queue_dials_the_queue():
    dial = render(r.TakeQueue()).find("Dial")
    assert dial.find("Queue").text == twiml.QUEUE and dial.get("action") == "/voice_reps.rep_after"


def test_dialback_calls_the_person_from_the_helpline_with_an_announcement_in_their_language():
    root = render(r.Dialback((EN,), callback_id=9, number="+12025550123", lang="es"))
    dial = root.find("Dial")
    assert verbs(root) == ["Say", "Dial"] and dial.get("callerId") == "+15555550100"
    assert dial.get("action") == "/voice_reps.dialback_done?cb=9"
    assert dial.find("Number").text == "+12025550123"
    assert dial.find("Number").get("url") == "/voice.dialback_announce?lang=es"


def test_an_unknown_reply_is_a_programming_error_not_silence():
    with pytest.raises(TypeError):
        twiml.Voice(SETTINGS).render(object())


def test_sms_reply_is_one_message_then_one_per_text_for_someone_else():
    root = ET.fromstring(str(twiml.sms(r.SmsReply(["Hi.", "Reply 1."], [("+15555550901", "New texter")]))))
    messages = root.findall("Message")
    assert [m.text for m in messages] == ["Hi.\nReply 1.", "New texter"]
    assert messages[0].get("to") is None and messages[1].get("to") == "+15555550901"
    assert ET.fromstring(str(twiml.sms(r.SmsReply()))).findall("Message") == []


ODD = ("en", 'Tom & "Jerry" <b>\'n\' ñ € 😀\n\ttab end')


@pytest.mark.parametrize("response", [
    twiml.Voice(SETTINGS).render(r.Listen((EN, ES, ODD), "es", step=3, hints=("a & b", "ñ"), keys=4)),
    twiml.Voice(SETTINGS).render(r.Ring((ODD,), 2, "CA1", ((7, "+15555550901"),), seconds=15)),
    twiml.Voice(SETTINGS).render(r.Gone()),
    twiml.sms(r.SmsReply([ODD[1]], [("+15555550901", "New texter")])),
    twiml.sms(r.SmsReply()),
    twiml.sms(r.SmsReply(["a lone surrogate \ud800, which UTF-8 cannot hold"])),
], ids=["listen", "ring", "gone", "sms", "sms-empty", "surrogate"])
def test_the_body_sent_is_the_librarys_own_text(response):
    assert twiml.text(response) == str(response).encode("utf-8")
