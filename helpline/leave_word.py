"""For a texter or caller nobody could answer: a call back asked for, or a voicemail left,
each with a one-time PIN that the representatives on duty are texted.

The PIN and the encrypted number live on the callback record (:mod:`helpline.callbacks`),
the one place a number is kept, until the call back has been made.
"""
from __future__ import annotations

from sqlalchemy import select

from . import alerts
from .engine import VOICE
from .numbers import callable_number
from .store import Voicemail
from .webhook import Scope


def callback(s: Scope, channel: str, caller_hash: str, number: str, lang: str) -> list[tuple[str, str]]:
    """A call back asked for: saved (once per open request) and alerted with its PIN."""
    _, pin = s.services.callbacks.save(s.db, channel, caller_hash, number, lang, s.now)
    if not pin:
        return []
    return alerts.to_on_duty(s, "rep.sms.callback", pin=pin, language=s.services.content.languages[lang].name)


def voicemail(s: Scope, conv, call_sid: str, caller: str, url: str, sid: str, duration: int) -> bool:
    """Keep a recording's address and length (never the audio), with a call back to the
    caller's number when it can be called; False when nothing was recorded."""
    services = s.services
    if not url or duration < 1:
        return False
    if s.db.execute(select(Voicemail.id).where(Voicemail.call_sid == call_sid)).first() is not None:
        return True   # Twilio's retry
    lang = (conv.state or {}).get("lang", services.content.default)
    kept = Voicemail(call_sid=call_sid, caller_hash=conv.caller_hash, recording_url=url,
                     recording_sid=sid or None, duration=duration, lang=lang, created_at=s.now)
    s.db.add(kept)
    s.db.flush()
    number = callable_number(caller, services.config["CALLBACK_REGIONS"])
    saved, pin = services.callbacks.save(s.db, VOICE, conv.caller_hash or services.hash(call_sid),
                                         number, lang, s.now, kept)
    if saved is None or pin:  # an open callback of this caller was alerted already
        s.alerts += alerts.to_on_duty(s, "rep.sms.voicemail" if pin else "rep.sms.voicemail_nopin",
                                      pin=pin, seconds=duration,
                                      language=services.content.languages[lang].name)
    return True


def spool_voicemail(services, call_sid: str, caller: str, url: str, sid: str, duration: int) -> None:
    """A recording made while the database was away is kept in the spool, never lost."""
    if url and duration >= 1:
        services.spool.add({"kind": "voicemail", "call_sid": call_sid, "url": url, "sid": sid,
                            "duration": duration, "lang": services.content.default,
                            "caller_hash": services.hash(caller) if caller else None})
