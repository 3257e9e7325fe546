"""What the console's pages show and do, inside the caller's transaction.

Each page gets only what the job needs: representatives by name and at most the last two
digits of their number, texters by chat code, callers as a count; a callback's number only
through :func:`reveal_callback`, which writes the audit log first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..reps import ACTIVE, STALE_CALL, STALE_QUEUE, WAITING
from ..store import Callback, Chat, Conversation, Representative, Voicemail
from .auth import audit
from .models import StaffUser


@dataclass
class RepRow:
    id: int
    label: str
    last2: str
    languages: list[str]
    on_duty: bool
    on_call: bool
    chatting: bool


@dataclass
class Waiting:
    label: str
    lang: str
    seconds: int


@dataclass
class Live:
    reps: list[RepRow]
    callers: list[Waiting]
    texters: list[Waiting]


def rep_label(rep: Representative) -> str:
    return rep.name or f"Representative #{rep.id}"


def live(helpline, db: Session, now: datetime) -> Live:
    chatting = set(db.execute(select(Chat.rep_id).where(Chat.status == ACTIVE)).scalars())
    reps = []
    roster = helpline.roster(db)
    for rep in roster.all():
        number = helpline.vault.decrypt(rep.number_encrypted) or ""
        on_call = bool(rep.on_call and rep.on_call_since and now - rep.on_call_since < STALE_CALL)
        reps.append(RepRow(rep.id, rep_label(rep), number[-2:], (rep.languages or "").split(","),
                           roster.is_on_duty(rep, now), on_call, rep.id in chatting))
    callers = [Waiting("", (conv.state or {}).get("lang", ""), _seconds(now, conv.waiting_since))
               for conv in db.execute(select(Conversation).where(
                   Conversation.channel == "voice", Conversation.waiting_since.is_not(None),
                   Conversation.updated_at > now - STALE_QUEUE)
                   .order_by(Conversation.waiting_since)).scalars()]
    texters = [Waiting(f"#{chat.code}", chat.lang, _seconds(now, chat.created_at))
               for chat in db.execute(select(Chat).where(Chat.status == WAITING)
                                      .order_by(Chat.created_at, Chat.id)).scalars()]
    return Live(reps, callers, texters)


def _seconds(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


def set_duty(helpline, db: Session, user: StaffUser, rep_id: int, on: bool, now: datetime) -> bool:
    """As the representative's own ON and OFF texts: OFF during a shift lasts until it ends."""
    rep = db.get(Representative, rep_id, with_for_update=True)
    if rep is None:
        return False
    helpline.roster(db).set_duty(rep, on, now)
    audit(db, user, f"duty rep {rep_id} {'on' if on else 'off'}", now)
    return True


def open_counts(db: Session) -> tuple[int, int]:
    """Open voicemails and callbacks, for the navigation."""
    def count(model):
        return db.execute(select(func.count()).select_from(model)
                          .where(model.done_at.is_(None))).scalar_one()
    return count(Voicemail), count(Callback)


def open_voicemails(db: Session) -> list[Voicemail]:
    return list(db.execute(select(Voicemail).where(Voicemail.done_at.is_(None))
                           .order_by(Voicemail.created_at.desc(), Voicemail.id.desc())).scalars())


def open_callbacks(db: Session) -> list[Callback]:
    return list(db.execute(select(Callback).where(Callback.done_at.is_(None))
                           .order_by(Callback.created_at.desc(), Callback.id.desc())).scalars())


def voicemail_done(db: Session, user: StaffUser, vm_id: int, now: datetime) -> bool:
    vm = db.get(Voicemail, vm_id, with_for_update=True)
    if vm is None:
        return False
    if vm.done_at is None:
        vm.done_at = now
        audit(db, user, f"done voicemail {vm_id}", now)
    return True


def callback_done(db: Session, user: StaffUser, cb_id: int, now: datetime) -> bool:
    """Done deletes the number and the dialback PIN: they were kept only so that someone
    could call back."""
    cb = db.get(Callback, cb_id, with_for_update=True)
    if cb is None:
        return False
    if cb.done_at is None:
        cb.done_at, cb.number_encrypted, cb.pin_hash = now, None, None
        audit(db, user, f"done callback {cb_id}", now)
    return True


def reveal_callback(helpline, db: Session, user: StaffUser, cb_id: int,
                    now: datetime) -> str | None:
    """The number of an open callback, recorded in the audit log (the act, not the number)."""
    cb = db.get(Callback, cb_id)
    if cb is None or cb.done_at is not None or not cb.number_encrypted:
        return None
    number = helpline.vault.decrypt(cb.number_encrypted)
    if number:
        audit(db, user, f"reveal callback {cb_id}", now)
    return number
