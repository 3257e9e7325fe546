"""The voice channel: Twilio's "A call comes in" webhook and the Gather action that follows.

Every answer listens again (``<Gather>``), so a caller is never left in silence and never
hung up on; only the caller ends a call.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from .engine import Input, Turn
from .security import twilio_signed
from .sms import twiml

bp = Blueprint("voice", __name__)


def parse_input(form, min_confidence: float) -> Input:
    """Keys win over speech; unsure speech counts as nothing said, so it is asked again."""
    digits = form.get("Digits", "").strip()
    if digits:
        return Input("digits", digits)
    speech = form.get("SpeechResult", "").strip()
    if speech:
        try:
            confidence = float(form.get("Confidence", "") or 1.0)
        except ValueError:
            confidence = 1.0
        if confidence >= min_confidence:
            return Input("speech", speech)
    return Input("silence")


def render(turn: Turn, action: str, config, locale: str) -> VoiceResponse:
    response = VoiceResponse()
    voice = config["HELPLINE_VOICES"].get(turn.lang)
    gather = response.gather(
        input="dtmf speech", action=action, method="POST", num_digits=1,
        timeout=config["GATHER_TIMEOUT"], speech_timeout="auto", finish_on_key="",
        action_on_empty_result=True, language=locale, hints=", ".join(turn.hints) or None)
    for text in turn.say:
        gather.say(text, voice=voice, language=locale)
    response.redirect(action, method="POST")
    return response


def answer(inp: Input):
    helpline = current_app.extensions["helpline"]
    call_sid = request.form.get("CallSid", "").strip()
    if call_sid:
        turn = helpline.call(call_sid, request.form.get("From", ""), inp)
    else:
        turn = helpline.engine.handle(None, inp, "voice")
    locale = helpline.engine.content.locale(turn.lang)
    return twiml(render(turn, url_for("voice.step"), current_app.config, locale))


@bp.post("/voice")
@twilio_signed
def incoming():
    return answer(Input("start"))


@bp.post("/voice/step")
@twilio_signed
def step():
    return answer(parse_input(request.form, current_app.config["SPEECH_MIN_CONFIDENCE"]))
