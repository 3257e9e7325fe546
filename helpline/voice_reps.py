"""For representatives by phone: the whisper on a transferred call, calling in (passcode,
the menu, the next caller in line) and returning a call by PIN; each route one call into
:mod:`helpline.rep_calls`, rendered by :func:`helpline.voice.render`."""
from __future__ import annotations

from flask import Blueprint, request

from . import caller, rep_calls
from .security import twilio_signed
from .voice import call_sid, render, services, step_of_url

bp = Blueprint("voice_reps", __name__)


@bp.post("/voice/whisper")
@twilio_signed
def whisper():
    """Played to the representative who picked up, before the caller is connected."""
    call = request.args.get("call", "")
    return render(rep_calls.whisper(services(), request.args.get("rep", type=int), call,
                                    caller.language(services(), call)))


@bp.post("/voice/whisper/answer")
@twilio_signed
def whisper_answer():
    """1 bridges the call (an empty answer ends the whisper); anything else hangs up this
    representative's leg only, and the caller goes on to voicemail or a callback."""
    parent = request.args.get("call", "") or request.form.get("ParentCallSid", "")
    return render(rep_calls.whisper_answer(services(), request.args.get("rep", type=int), parent,
                                           request.form.get("Digits", ""), call_sid()))


@bp.post("/voice/rep/passcode")
@twilio_signed
def rep_passcode():
    """A representative calling in proves it is them before anything else."""
    return render(rep_calls.passcode(services(), request.form.get("From", ""), call_sid(),
                                     request.form.get("Digits", ""),
                                     request.args.get("tries", default=0, type=int)))


@bp.post("/voice/rep/take")
@twilio_signed
def rep_take():
    """A representative who called in chose: 1 the next caller in line, 2 return a call."""
    return render(rep_calls.choice(services(), request.form.get("From", ""), call_sid(),
                                   request.form.get("Digits", "").strip(), step_of_url()))


@bp.post("/voice/rep/pin")
@twilio_signed
def rep_pin():
    return render(rep_calls.dialback(services(), request.form.get("From", ""), call_sid(),
                                     request.form.get("Digits", ""),
                                     request.args.get("tries", default=0, type=int), step_of_url()))


@bp.post("/voice/rep/dialback-done")
@twilio_signed
def dialback_done():
    """Closes the callback this call is dialling (by the CallSid that ran the Dial verb)."""
    return render(rep_calls.dialback_ended(services(), request.args.get("cb", type=int),
                                           request.form.get("DialCallStatus", ""), call_sid()))


@bp.post("/voice/rep/after")
@twilio_signed
def rep_after():
    return render(rep_calls.after_caller(services(), call_sid()))
