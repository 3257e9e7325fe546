"""For a representative's phone: the whisper before a transferred call, calling in with a
passcode to take the next caller in line, and returning a call by its PIN (dialback).

Caller ID is easy to forge, so a representative's number only gets as far as the passcode;
a right one proves that call (by its CallSid) for the menu. Every key acts once per call
step: a signed request replayed later is answered with a goodbye and changes nothing.
Wrong passcodes and PINs are audited and counted across calls (:mod:`helpline.lockout`).
"""
from __future__ import annotations

import hashlib

from . import alerts
from . import replies as r
from .engine import VOICE
from .staff.auth import audit
from .store import Representative
from .webhook import Scope, Unavailable, scope

REP_CALL = "repcall"  # conversations channel: a representative's call, once their passcode was right


def _said(services, *keys: str, **values) -> tuple[r.Said, ...]:
    """Representatives hear the default language."""
    lang = services.content.default
    return tuple((lang, services.staff_text(key, VOICE, **values)) for key in keys)


def _hangup(services, key: str) -> r.Hangup:
    return r.Hangup(_said(services, key))


def _offline(services) -> r.Offline:
    return r.Offline(services.offline_texts(VOICE))


def call_in(s: Scope, rep: Representative, verstat: str) -> r.VoiceReply:
    """A call from a representative's number. Every call-in is audited, with whether the
    carrier verified the caller ID (Twilio's StirVerstat)."""
    verified = verstat.startswith("TN-Validation-Passed")
    audit(s.db, None, f"rep {rep.id} call-in, caller ID {'verified' if verified else 'UNVERIFIED'}"
                      f" ({verstat or 'no StirVerstat'})", s.now)
    if rep.passcode_hash is None:
        return _hangup(s.services, "rep.call.no_passcode")
    if s.services.lockout.locked(s.db, rep.id, s.now):
        return _hangup(s.services, "rep.call.locked")
    return ask_passcode(s.services, 0)


def ask_passcode(services, tries: int, wrong: bool = False) -> r.AskPasscode:
    said = _said(services, "rep.call.passcode_wrong") if wrong else ()
    return r.AskPasscode(said + _said(services, "rep.call.passcode"), tries)


def _first_time(s: Scope, *step) -> bool:
    """A representative's action acts once per (action, CallSid, step, input)."""
    key = hashlib.sha256("|".join(map(str, step)).encode()).hexdigest()
    return s.services.store.first_receipt(s.db, key, s.now)


def passcode(services, rep_number: str, rep_call_sid: str, digits: str, tries: int) -> r.VoiceReply:
    """A right passcode proves this call for the representative menu."""
    locked = False
    try:
        with scope(services) as s:
            rep = s.roster.find(rep_number)
            if (rep is None or not rep_call_sid
                    or not _first_time(s, "passcode", rep_call_sid, tries, digits)):
                return _hangup(services, "rep.call.goodbye")
            if services.lockout.locked(s.db, rep.id, s.now):
                return _hangup(services, "rep.call.locked")
            if s.roster.passcode_ok(rep, digits.strip()):
                audit(s.db, None, f"rep {rep.id} passcode right", s.now)
                proof = services.store.lock_conversation_row(s.db, REP_CALL, rep_call_sid, s.now)
                proof.state = {"rep": rep.id}
                proof.save(s.db)
                return _menu(s, rep_call_sid)
            locked = _wrong(s, rep, "passcode")
    except Unavailable:
        return _offline(services)
    if locked:
        return _hangup(services, "rep.call.locked")
    if tries + 1 >= services.config["PIN_TRIES"]:
        return _hangup(services, "rep.call.passcode_ended")
    return ask_passcode(services, tries + 1, wrong=True)


def _wrong(s: Scope, rep: Representative, kind: str) -> bool:
    """A wrong passcode or PIN, audited and counted across calls; True when calling in is
    now locked, and the coordinators are told."""
    audit(s.db, None, f"rep {rep.id} {'PIN' if kind == 'pin' else kind} wrong", s.now)
    locked = s.services.lockout.fail(s.db, rep.id, kind, s.now)
    if locked:
        s.alerts += alerts.locked(s.services, rep.id, s.now)
    return locked


def _proven(s: Scope, rep_number: str, rep_call_sid: str) -> Representative | None:
    """The representative on this call, if its passcode was right."""
    rep = s.roster.find(rep_number)
    if rep is None or not rep_call_sid:
        return None
    conv = s.services.store.find_conversation(s.db, REP_CALL, rep_call_sid)
    return rep if conv is not None and (conv.state or {}).get("rep") == rep.id else None


def _menu(s: Scope, rep_call_sid: str, *before: str) -> r.RepMenu:
    """How many callers are waiting; 1 takes the next one, 2 returns a call by PIN. Each
    menu is a new step of the call, so a key pressed on it acts once."""
    waiting = s.roster.callers_waiting(s.now)
    conv = s.services.store.find_conversation(s.db, REP_CALL, rep_call_sid)
    menus = None
    if conv is not None:
        conv.state = dict(conv.state or {}, menus=(conv.state or {}).get("menus", 0) + 1)
        menus = conv.state["menus"]
    said = _said(s.services, *before)
    if waiting:
        said += _said(s.services, "rep.call.waiting", count=waiting)
    else:
        said += _said(s.services, "rep.call.none")
    return r.RepMenu(said + _said(s.services, "rep.call.return"), menus)


def choice(services, rep_number: str, rep_call_sid: str, digits: str, at_step: int | None) -> r.VoiceReply:
    """1 takes the longest-waiting caller from the queue (on duty only); 2 asks for a
    callback's PIN. Only on a call whose passcode was right."""
    try:
        with scope(services) as s:
            rep = _proven(s, rep_number, rep_call_sid)
            if rep is None or not _first_time(s, "take", rep_call_sid, at_step, digits):
                return _hangup(services, "rep.call.goodbye")
            if digits == "1" and not s.roster.is_on_duty(rep, s.now):
                return _menu(s, rep_call_sid, "rep.call.off_duty")
            if digits == "1" and s.roster.callers_waiting(s.now):
                s.roster.mark_on_call(rep.id, rep_call_sid, s.now)
                return r.TakeQueue()
            if digits == "2":
                return ask_pin(services, 0, at_step)
            return _menu(s, rep_call_sid) if digits else _hangup(services, "rep.call.goodbye")
    except Unavailable:
        return _offline(services)


def ask_pin(services, tries: int, at_step: int | None, wrong: bool = False) -> r.AskPin:
    said = _said(services, "rep.call.pin_wrong") if wrong else ()
    return r.AskPin(said + _said(services, "rep.call.pin"), at_step, tries)


def dialback(services, rep_number: str, rep_call_sid: str, pin: str, tries: int,
             at_step: int | None = None) -> r.VoiceReply:
    """A right PIN dials the caller (from the helpline's number) and bridges them; three
    wrong ones end the representative's call."""
    locked = False
    try:
        with scope(services) as s:
            rep = _proven(s, rep_number, rep_call_sid)
            if rep is None or not _first_time(s, "pin", rep_call_sid, at_step, tries, pin):
                return _hangup(services, "rep.call.goodbye")
            if services.lockout.locked(s.db, rep.id, s.now):
                return _hangup(services, "rep.call.locked")
            found = services.callbacks.start(s.db, pin.strip(), rep_call_sid, s.now)
            if found is None:
                locked = _wrong(s, rep, "pin")
    except Unavailable:
        return _offline(services)
    if locked:
        return _hangup(services, "rep.call.locked")
    if found is None:
        if tries + 1 >= services.config["PIN_TRIES"]:
            return _hangup(services, "rep.call.pin_locked")
        return ask_pin(services, tries + 1, at_step, wrong=True)
    return r.Dialback(_said(services, "rep.call.dialing"), found.callback_id, found.number, found.lang)


def dialback_ended(services, callback_id: int, status: str, rep_call_sid: str) -> r.VoiceReply:
    completed = status == "completed"
    try:
        with scope(services) as s:
            services.callbacks.finish(s.db, callback_id, rep_call_sid, completed, s.now)
            return _menu(s, rep_call_sid,
                         "rep.call.dialback_done" if completed else "rep.call.dialback_failed")
    except Unavailable:
        return _offline(services)


def after_caller(services, rep_call_sid: str) -> r.VoiceReply:
    """The caller taken from the queue hung up: free again, back at the menu."""
    try:
        with scope(services) as s:
            s.roster.release_call(rep_call_sid)
            return _menu(s, rep_call_sid)
    except Unavailable:
        return _offline(services)


def whisper(services, rep_id: int | None, caller_call_sid: str, lang: str) -> r.Whisper:
    """What a representative hears on pick-up, with the caller's language (``lang``) if
    not ours."""
    said = _said(services, "rep.whisper")
    if lang != services.content.default:
        said = _said(services, "rep.whisper.language", language=services.content.languages[lang].name) + said
    return r.Whisper(said, rep_id, caller_call_sid)


def whisper_answer(services, rep_id: int | None, parent_call_sid: str, digits: str, leg_sid: str) -> r.Bridge:
    """1 takes the call, if that call is ringing this representative now, and only once (a
    replayed answer marks nobody busy); anything else hangs up this leg only, and the
    caller goes on to voicemail or a callback."""
    if rep_id is None or digits.strip() != "1" or not parent_call_sid or not leg_sid:
        return r.Bridge(False)
    try:
        with scope(services) as s:
            conv = services.store.find_conversation(s.db, VOICE, parent_call_sid)
            ringing = (conv.state or {}).get("ringing", []) if conv is not None else []
            if rep_id not in ringing or not _first_time(s, "whisper", leg_sid, rep_id, parent_call_sid, digits):
                return r.Bridge(False)
            return r.Bridge(s.roster.mark_on_call(rep_id, parent_call_sid, s.now) is not None)
    except Unavailable:
        return r.Bridge(True)   # bridge the caller anyway: a person is better than a record
