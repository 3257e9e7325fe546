"""The voice channel: Twilio's "A call comes in" webhook and every action URL after it.

A caller's answer always listens again (a Gather verb), rings a person, queues, or records;
the app hangs up only after a call a representative took has ended. Representatives hear a
whisper on their own leg and must press 1, so their voicemail can never swallow a caller.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from .engine import VOICE, Input, Turn
from .forms import duration
from .security import twilio_signed
from .sms import twiml

bp = Blueprint("voice", __name__)
QUEUE = "helpline"
VOICEMAIL_SECONDS = 120
MAX_HINTS = 500     # Twilio's limit for a Gather's hints
DIGIT_SEQUENCE = "$OOV_CLASS_DIGIT_SEQUENCE"   # speech hint: a run of digits (a ZIP code)
LIFELINE_RING_SECONDS = 60   # the Lifeline answers with its own menu; give it time


def helpline():
    return current_app.extensions["helpline"]


def parse_input(form, min_confidence: float, is_crisis=lambda speech: False) -> Input:
    """Keys win over speech; unsure speech counts as nothing said, so it is asked again,
    unless it says a crisis: "he's not breathing" heard at any confidence is answered."""
    digits = form.get("Digits", "").strip()
    if digits:
        return Input("digits", digits)
    speech = form.get("SpeechResult", "").strip()
    if speech:
        try:
            confidence = float(form.get("Confidence", "") or 1.0)
        except ValueError:
            confidence = 1.0
        if confidence >= min_confidence or is_crisis(speech):
            return Input("speech", speech)
    return Input("silence")


class Speaker:
    """Says texts in the voice and language of one conversation."""

    def __init__(self, lang: str):
        config = current_app.config
        self.voice = config["HELPLINE_VOICES"].get(lang)
        self.locale = helpline().content.locale(lang)

    def say(self, target, texts) -> None:
        for text in texts:
            target.say(text, voice=self.voice, language=self.locale)


def speak(target, turn: Turn) -> None:
    """A turn's texts, each in its own language's voice (a language offer is in its own)."""
    for i, text in enumerate(turn.say):
        Speaker(turn.langs.get(i, turn.lang)).say(target, [text])


def render(turn: Turn) -> VoiceResponse:
    config = current_app.config
    response = VoiceResponse()
    if turn.action == "offline":
        return offline(turn)
    step = turn.state.get("turns")
    if turn.action == "connect":
        speak(response, turn)
        dial = response.dial(action=url_for("voice.dial_status", s=step), method="POST",
                             caller_id=helpline_number(),
                             timeout=turn.ring_seconds or config["DIAL_TIMEOUT"])
        for rep_id, number in turn.ring:
            dial.number(number, url=url_for("voice.whisper", rep=rep_id,
                                            call=request.form.get("CallSid", "")),
                        method="POST")
    elif turn.action == "enqueue":
        speak(response, turn)
        response.enqueue(QUEUE, wait_url=url_for("voice.queue_wait"), wait_url_method="POST",
                         action=url_for("voice.queue_left", s=step), method="POST")
    elif turn.action == "record":
        speak(response, turn)
        response.record(action=url_for("voice.recorded", s=step), method="POST",
                        max_length=VOICEMAIL_SECONDS, finish_on_key="#", play_beep=True, timeout=10)
        response.redirect(url_for("voice.step", s=step), method="POST")  # nothing recorded
    elif turn.action == "lifeline":
        speak(response, turn)
        response.dial(action=url_for("voice.lifeline_ended", s=step), method="POST",
                      timeout=LIFELINE_RING_SECONDS).number(config["LIFELINE_NUMBER"])
    elif turn.action == "hangup":
        speak(response, turn)
        response.hangup()
    elif turn.action == "rep_menu":
        gather = response.gather(input="dtmf", num_digits=1, action=url_for("voice.rep_take", s=step),
                                 method="POST", timeout=config["GATHER_TIMEOUT"])
        speak(gather, turn)
        response.hangup()
    elif turn.action == "take_queue":
        response.dial(action=url_for("voice.rep_after"), method="POST").queue(QUEUE)
    elif turn.action == "passcode":
        gather = response.gather(input="dtmf", num_digits=8, finish_on_key="#", method="POST",
                                 action=url_for("voice.rep_passcode", tries=turn.state["tries"]),
                                 timeout=config["GATHER_TIMEOUT"] + 4)
        speak(gather, turn)
        response.hangup()
    elif turn.action == "pin":
        gather = response.gather(input="dtmf", num_digits=6, finish_on_key="#", method="POST",
                                 action=url_for("voice.rep_pin", s=step, tries=turn.state["tries"]),
                                 timeout=config["GATHER_TIMEOUT"] + 4)
        speak(gather, turn)
        response.hangup()
    elif turn.action == "dialback":
        speak(response, turn)
        callback_id, number = turn.ring[0]
        dial = response.dial(action=url_for("voice.dialback_done", cb=callback_id), method="POST",
                             caller_id=helpline_number(), timeout=30)
        dial.number(number, url=url_for("voice.dialback_announce", lang=turn.state["callback_lang"]),
                    method="POST")
    else:
        hints = ((DIGIT_SEQUENCE,) if turn.keys > 1 else ()) + turn.hints
        gather = response.gather(
            input="dtmf speech", action=url_for("voice.step", s=step), method="POST",
            num_digits=turn.keys, timeout=config["GATHER_TIMEOUT"], speech_timeout="auto",
            finish_on_key="", action_on_empty_result=True,
            language=helpline().content.locale(turn.lang),
            hints=", ".join(hints[:MAX_HINTS]) or None)
        speak(gather, turn)
        response.redirect(url_for("voice.step", s=step), method="POST")
    return response


def offline(turn: Turn) -> VoiceResponse:
    """Each language's apology in its own voice, heard again until the caller hangs up;
    it loops through /voice/fallback, which needs no database."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, action=url_for("voice.fallback"),
                             method="POST", timeout=3)
    for code, text in zip(helpline().content.languages, turn.say, strict=False):
        Speaker(code).say(gather, [text])
    response.redirect(url_for("voice.fallback"), method="POST")
    return response


def helpline_number() -> str:
    """Caller ID for calls to representatives: the helpline's number, never the caller's."""
    return current_app.config["HELPLINE_NUMBER"] or request.form.get("To", "") or None


def call_sid() -> str:
    return request.form.get("CallSid", "").strip()


def step_of_url() -> int | None:
    return request.args.get("s", type=int)


def answer(inp: Input):
    sid = call_sid()
    if sid:
        turn = helpline().call(sid, request.form.get("From", ""), inp, step_of_url(),
                               verstat=request.form.get("StirVerstat", ""))
    else:
        turn = helpline().engine.handle(None, inp, VOICE)
    return twiml(render(turn))


@bp.post("/voice")
@twilio_signed
def incoming():
    return answer(Input("start"))


@bp.post("/voice/step")
@twilio_signed
def step():
    return answer(parse_input(request.form, current_app.config["SPEECH_MIN_CONFIDENCE"],
                              helpline().engine.is_crisis))


@bp.post("/voice/dial-status")
@twilio_signed
def dial_status():
    turn = helpline().dial_finished(call_sid(), request.form.get("DialCallStatus", ""), step_of_url())
    return twiml(render(turn))


@bp.post("/voice/lifeline-ended")
@twilio_signed
def lifeline_ended():
    """The call put through to the 988 Lifeline ended: a call that connected ends politely;
    one that did not goes on to a person here, never to silence."""
    turn = helpline().lifeline_ended(call_sid(), request.form.get("DialCallStatus", ""), step_of_url())
    return twiml(render(turn))


@bp.post("/voice/whisper")
@twilio_signed
def whisper():
    """Played to the representative who picked up, before the caller is connected."""
    rep_id = request.args.get("rep", type=int)
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=url_for("voice.whisper_answer", rep=rep_id,
                                            call=request.args.get("call", "")))
    Speaker(helpline().content.default).say(gather, helpline().whisper_texts(request.args.get("call", "")))
    response.hangup()
    return twiml(response)


@bp.post("/voice/whisper/answer")
@twilio_signed
def whisper_answer():
    """1 bridges the call (an empty answer ends the whisper); anything else hangs up this
    representative's leg only, and the caller goes on to voicemail or a callback."""
    rep_id = request.args.get("rep", type=int)
    parent = request.args.get("call", "") or request.form.get("ParentCallSid", "")
    response = VoiceResponse()
    if rep_id is None or not helpline().whisper_answer(rep_id, parent, request.form.get("Digits", ""),
                                                       call_sid()):
        response.hangup()
    return twiml(response)


@bp.post("/voice/queue/wait")
@twilio_signed
def queue_wait():
    """Twilio's waitUrl: the caller's place in line, hold music, and a key to leave."""
    lang, texts = helpline().queue_wait_texts(call_sid(), request.form.get("QueuePosition", ""))
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, action=url_for("voice.queue_key"),
                             method="POST", timeout=1)
    Speaker(lang).say(gather, texts)
    gather.play(current_app.config["HOLD_MUSIC_URL"])
    return twiml(response)


@bp.post("/voice/queue/key")
@twilio_signed
def queue_key():
    response = VoiceResponse()
    response.leave()
    return twiml(response)


@bp.post("/voice/queue/left")
@twilio_signed
def queue_left():
    turn = helpline().queue_left(call_sid(), request.form.get("QueueResult", ""), step_of_url())
    return twiml(render(turn) if turn else VoiceResponse())


@bp.post("/voice/recorded")
@twilio_signed
def recorded():
    turn = helpline().voicemail(call_sid(), request.form.get("From", ""),
                                request.form.get("RecordingUrl", ""),
                                request.form.get("RecordingSid", ""),
                                duration(request.form.get("RecordingDuration", "0")), step_of_url())
    return twiml(render(turn))


@bp.post("/voice/rep/passcode")
@twilio_signed
def rep_passcode():
    """A representative calling in proves it is them before anything else."""
    tries = request.args.get("tries", default=0, type=int)
    return twiml(render(helpline().rep_passcode(request.form.get("From", ""), call_sid(),
                                                request.form.get("Digits", ""), tries)))


@bp.post("/voice/rep/take")
@twilio_signed
def rep_take():
    """A representative who called in chose: 1 the next caller in line, 2 return a call."""
    return twiml(render(helpline().rep_choice(request.form.get("From", ""), call_sid(),
                                              request.form.get("Digits", "").strip(), step_of_url())))


@bp.post("/voice/rep/pin")
@twilio_signed
def rep_pin():
    tries = request.args.get("tries", default=0, type=int)
    return twiml(render(helpline().dialback(request.form.get("From", ""), call_sid(),
                                            request.form.get("Digits", ""), tries, step_of_url())))


@bp.post("/voice/rep/dialback-done")
@twilio_signed
def dialback_done():
    callback_id = request.args.get("cb", type=int)
    """Closes the callback this call is dialling (by the CallSid that ran the Dial verb)."""
    return twiml(render(helpline().dialback_ended(callback_id, request.form.get("DialCallStatus", ""),
                                                  call_sid())))


@bp.post("/voice/dialback/announce")
@twilio_signed
def dialback_announce():
    """Played to the person called back, before the representative is connected."""
    lang, texts = helpline().announce_texts(request.args.get("lang", ""))
    response = VoiceResponse()
    Speaker(lang).say(response, texts)
    return twiml(response)


@bp.post("/voice/rep/after")
@twilio_signed
def rep_after():
    return twiml(render(helpline().rep_call_ended(call_sid())))


@bp.post("/voice/fallback")
@twilio_signed
def fallback():
    """Twilio's "primary handler fails" URL: the national numbers, with no database."""
    return twiml(offline(helpline().offline_call()))
