"""Returning calls without showing anyone's number: callback records with a one-time PIN,
the SMS alerts that carry it, and the dialback a representative starts with it.

The caller's number is kept encrypted only on the callback record, until the returned
call has been bridged and ended. The PIN is kept as a keyed hash.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .security import Vault
from .store import Callback, Event, Voicemail

PIN_DIGITS = 6
# A dialback whose end was never reported (a lost webhook, a replayed PIN step) frees its
# PIN again after this long.
DIALING_EXPIRES = timedelta(minutes=5)


@dataclass(frozen=True)
class Dialback:
    callback_id: int
    number: str
    lang: str


class Callbacks:
    def __init__(self, hasher, vault: Vault, pin_hours: int):
        self.hash = hasher
        self.vault = vault
        self.pin_ttl = timedelta(hours=pin_hours)

    def _pin_hash(self, pin: str) -> str:
        return self.hash(f"pin:{pin}")

    def save(self, db: Session, channel: str, caller_hash: str, number: str | None, lang: str,
             now: datetime, voicemail: Voicemail | None = None) -> tuple[Callback | None, str | None]:
        """A callback to return (one open per caller), with a fresh PIN when there is a
        number to call. Returns the record and the PIN in clear, for the alert only."""
        pending = db.execute(select(Callback).where(
            Callback.caller_hash == caller_hash, Callback.done_at.is_(None))).scalars().first()
        if pending is not None:
            if voicemail is not None and pending.voicemail_id is None:
                pending.voicemail_id = voicemail.id
            return pending, None
        if not number:
            return None, None
        pin = self._new_pin(db, now)
        callback = Callback(channel=channel, caller_hash=caller_hash, lang=lang, created_at=now,
                            number_encrypted=self.vault.encrypt(number),
                            voicemail_id=voicemail.id if voicemail else None,
                            pin_hash=self._pin_hash(pin), pin_expires_at=now + self.pin_ttl)
        db.add(callback)
        db.flush()
        return callback, pin

    def _new_pin(self, db: Session, now: datetime) -> str:
        while True:
            pin = f"{secrets.randbelow(10 ** PIN_DIGITS):0{PIN_DIGITS}d}"
            clash = db.execute(select(Callback.id).where(
                Callback.pin_hash == self._pin_hash(pin), Callback.done_at.is_(None),
                Callback.pin_expires_at > now)).first()
            if clash is None:
                return pin

    def start(self, db: Session, pin: str, rep_call_sid: str, now: datetime) -> Dialback | None:
        """The open, unexpired callback this PIN belongs to, now being dialled; else None."""
        if not pin.isdigit() or len(pin) != PIN_DIGITS:
            return None
        callback = db.execute(select(Callback).where(
            Callback.pin_hash == self._pin_hash(pin), Callback.done_at.is_(None),
            Callback.pin_expires_at > now,
            or_(Callback.dialing.is_(None), Callback.dialing_at < now - DIALING_EXPIRES))
            .with_for_update()).scalars().first()
        if callback is None or not callback.number_encrypted:
            return None
        number = self.vault.decrypt(callback.number_encrypted)
        if number is None:
            return None
        callback.dialing, callback.dialing_at = rep_call_sid, now
        return Dialback(callback.id, number, callback.lang)

    def finish(self, db: Session, callback_id: int, rep_call_sid: str, completed: bool,
               now: datetime) -> None:
        """A bridged call that ended closes the callback (and its voicemail) and forgets the
        number and PIN; a call that did not connect leaves the PIN usable until it expires.
        Only the call that is dialling it can close it, and only once."""
        callback = db.get(Callback, callback_id, with_for_update=True) if callback_id else None
        if callback is None or not rep_call_sid or callback.dialing != rep_call_sid:
            return
        callback.dialing = callback.dialing_at = None
        if completed:
            callback.done_at = now
            callback.number_encrypted = callback.pin_hash = None
            if callback.voicemail_id:
                voicemail = db.get(Voicemail, callback.voicemail_id)
                if voicemail is not None and voicemail.done_at is None:
                    voicemail.done_at = now
            db.add(Event(at=now, channel="voice", name="dialback"))
