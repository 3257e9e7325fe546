"""For callers: Twilio's "A call comes in" webhook and every action URL of the caller's
call after it, answered with VoiceResponse (:class:`helpline.twiml.Voice`).

Each route reads Twilio's form, makes one call into :mod:`helpline.caller` with an input
or a typed resume, and renders the reply it gets. The representative's side of a call is
:mod:`helpline.voice_reps`.
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, request, url_for

from . import caller
from . import replies as r
from .engine import Input
from .forms import duration
from .security import twilio_signed
from .sms import respond
from .twiml import Voice, VoiceSettings

bp = Blueprint("voice", __name__)


def services():
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


def render(reply: r.VoiceReply):
    return respond(renderer().render(reply))


def renderer() -> Voice:
    """The app's renderer, built on its first call: its settings never change, but for the
    caller ID when HELPLINE_NUMBER is unset (then the number Twilio called)."""
    voice = current_app.extensions.get("helpline.voice")
    if voice is None:
        config = current_app.config
        voice = current_app.extensions["helpline.voice"] = Voice(VoiceSettings(
            url=url_for, voices=config["HELPLINE_VOICES"],
            locales={code: lang.locale for code, lang in services().content.languages.items()},
            # caller ID for calls to representatives: the helpline's number, never the caller's
            caller_id=config["HELPLINE_NUMBER"] or None,
            gather_timeout=config["GATHER_TIMEOUT"], dial_timeout=config["DIAL_TIMEOUT"],
            lifeline_number=config["LIFELINE_NUMBER"], hold_music_url=config["HOLD_MUSIC_URL"]))
    if voice.s.caller_id is None and request.form.get("To"):
        return Voice(replace(voice.s, caller_id=request.form["To"]))
    return voice


def call_sid() -> str:
    return request.form.get("CallSid", "").strip()


def step_of_url() -> int | None:
    return request.args.get("s", type=int)


def answer(inp: Input):
    return render(caller.step(services(), call_sid(), request.form.get("From", ""), inp, step_of_url(),
                              verstat=request.form.get("StirVerstat", "")))


def resume(what: r.Resume):
    return render(caller.resume(services(), call_sid(), request.form.get("From", ""), what, step_of_url()))


@bp.post("/voice")
@twilio_signed
def incoming():
    return answer(Input("start"))


@bp.post("/voice/step")
@twilio_signed
def step():
    return answer(parse_input(request.form, current_app.config["SPEECH_MIN_CONFIDENCE"],
                              services().engine.is_crisis))


@bp.post("/voice/dial-status")
@twilio_signed
def dial_status():
    return resume(r.DialEnded(request.form.get("DialCallStatus", "")))


@bp.post("/voice/lifeline-ended")
@twilio_signed
def lifeline_ended():
    """The call put through to the 988 Lifeline ended: a call that connected ends politely;
    one that did not goes on to a person here, never to silence."""
    return resume(r.LifelineEnded(request.form.get("DialCallStatus", "")))


@bp.post("/voice/queue/wait")
@twilio_signed
def queue_wait():
    """Twilio's waitUrl: the caller's place in line, hold music, and a key to leave."""
    return render(caller.hold_message(services(), call_sid(), request.form.get("QueuePosition", "")))


@bp.post("/voice/queue/key")
@twilio_signed
def queue_key():
    return render(r.LeaveQueue())


@bp.post("/voice/queue/left")
@twilio_signed
def queue_left():
    return resume(r.QueueLeft(request.form.get("QueueResult", "")))


@bp.post("/voice/recorded")
@twilio_signed
def recorded():
    return resume(r.Recorded(request.form.get("RecordingUrl", ""), request.form.get("RecordingSid", ""),
                             duration(request.form.get("RecordingDuration", "0"))))


@bp.post("/voice/dialback/announce")
@twilio_signed
def dialback_announce():
    """Played to the person called back, before the representative is connected."""
    return render(caller.announce(services(), request.args.get("lang", "")))


@bp.post("/voice/fallback")
@twilio_signed
def fallback():
    """Twilio's "primary handler fails" URL: the national numbers, with no database."""
    return render(r.Offline(services().offline_texts("voice")))
