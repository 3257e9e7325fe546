"""What the console's pages show and do, inside the caller's transaction.

Each page gets only what the job needs: representatives by name and at most the last two
digits of their number, texters by chat code, callers as a count; a callback's number only
through :func:`reveal_callback`, which writes the audit log first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..coverage import clock, coverage
from ..heartbeat import health as worker_health
from ..hours import DAYS, parse_time
from ..reps import ACTIVE, STALE_CALL, STALE_QUEUE, WAITING
from ..roster_input import RosterError, parse_languages, parse_shift
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
    worker: dict  # the worker's last heartbeat, as /healthz reports it


def rep_label(rep: Representative) -> str:
    return rep.name or f"Representative #{rep.id}"


def _who(helpline, rep: Representative) -> tuple[str, str, list[str]]:
    """Name, the last two digits of the number, languages: all a page shows of someone."""
    number = helpline.vault.decrypt(rep.number_encrypted) or ""
    return rep_label(rep), number[-2:], (rep.languages or "").split(",")


def live(helpline, db: Session, now: datetime) -> Live:
    chatting = set(db.execute(select(Chat.rep_id).where(Chat.status == ACTIVE)).scalars())
    reps = []
    roster = helpline.roster(db)
    for rep in roster.all():
        on_call = bool(rep.on_call and rep.on_call_since and now - rep.on_call_since < STALE_CALL)
        reps.append(RepRow(rep.id, *_who(helpline, rep), roster.is_on_duty(rep, now), on_call,
                           rep.id in chatting))
    callers = [Waiting("", (conv.state or {}).get("lang", ""), _seconds(now, conv.waiting_since))
               for conv in db.execute(select(Conversation).where(
                   Conversation.channel == "voice", Conversation.waiting_since.is_not(None),
                   Conversation.updated_at > now - STALE_QUEUE)
                   .order_by(Conversation.waiting_since)).scalars()]
    texters = [Waiting(f"#{chat.code}", chat.lang, _seconds(now, chat.created_at))
               for chat in db.execute(select(Chat).where(Chat.status == WAITING)
                                      .order_by(Chat.created_at, Chat.id)).scalars()]
    return Live(reps, callers, texters, worker_health(db, now))


def _seconds(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


def set_duty(helpline, db: Session, user: StaffUser, rep_id: int, on: bool, now: datetime) -> bool:
    """As the representative's own ON and OFF texts: OFF during a shift lasts until it ends."""
    rep = db.get(Representative, rep_id, with_for_update=True)
    if rep is None:
        return False
    if helpline.roster(db).set_duty(rep, on, now):  # refused for one who texted STOP
        audit(db, user, f"duty rep {rep_id} {'on' if on else 'off'}", now)
    return True


# -- shifts ------------------------------------------------------------------------------------

@dataclass
class ShiftRow:
    day: str    # "mon"
    start: str  # "22:00"
    end: str    # "02:00"

    @property
    def overnight(self) -> bool:
        return parse_time(self.end) < parse_time(self.start)


@dataclass
class RepShifts:
    id: int
    label: str
    last2: str
    languages: list[str]
    shifts: list[ShiftRow]


@dataclass
class CoverageDay:
    day: date
    spans: list[tuple[str, str, int]]  # ("09:00", "17:00", on shift), in order; 0 is a gap

    @property
    def has_gap(self) -> bool:
        return any(count == 0 for _, _, count in self.spans)


@dataclass
class ShiftsPage:
    reps: list[RepShifts]
    week: list[CoverageDay]
    zone: str
    opening_hours: bool


def shifts_page(helpline, db: Session, now: datetime) -> ShiftsPage:
    """Everyone's weekly shifts, and the coming week as `reps coverage` prints it: the times
    with someone on shift and the gaps (within opening hours, if the helpline has them)."""
    roster = helpline.roster(db)
    reps = [RepShifts(rep.id, *_who(helpline, rep),
                      [ShiftRow(DAYS[s.weekday], s.start, s.end) for s in roster.shifts(rep)])
            for rep in roster.all()]
    hours = helpline.hours
    today = now.replace(tzinfo=UTC).astimezone(hours.zone).date()
    week = []
    for day in coverage(roster.windows_by_rep(), hours, today):
        spans = [(a, b, n) for a, b, n in day.runs if n] + [(a, b, 0) for a, b in day.gaps]
        week.append(CoverageDay(day.day, [(clock(a), clock(b), n) for a, b, n in sorted(spans)]))
    return ShiftsPage(reps, week, hours.zone.key, bool(hours.windows))


def _shift_text(rep_id: int, day: str, start: str, end: str) -> str:
    weekday, start, end = parse_shift(day, start, end)
    return f"rep {rep_id} {DAYS[weekday]} {start}-{end}"


def add_shift(helpline, db: Session, user: StaffUser, rep_id: int, day: str, start: str,
              end: str, now: datetime) -> bool:
    """The roster checks the shift (RosterError says what is wrong); the log names it. The
    representative's row is locked, so a form sent twice at once still adds one shift."""
    rep = db.get(Representative, rep_id, with_for_update=True)
    if rep is None:
        return False
    if helpline.roster(db).add_shift(rep, day, start, end):
        audit(db, user, f"shift add {_shift_text(rep_id, day, start, end)}", now)
    return True


def remove_shift(helpline, db: Session, user: StaffUser, rep_id: int, day: str, start: str,
                 end: str, now: datetime) -> bool:
    rep = db.get(Representative, rep_id, with_for_update=True)
    if rep is None:
        return False
    if not helpline.roster(db).remove_shift(rep, day, start, end):
        raise RosterError("that shift is not there any more; it may have been removed already")
    audit(db, user, f"shift remove {_shift_text(rep_id, day, start, end)}", now)
    return True


def set_languages(helpline, db: Session, user: StaffUser, rep_id: int, codes: list[str],
                  now: datetime) -> bool:
    rep = db.get(Representative, rep_id, with_for_update=True)
    if rep is None:
        return False
    if not codes:
        raise RosterError("choose at least one language")
    rep.languages = parse_languages(",".join(codes), helpline.content.languages)
    audit(db, user, f"languages rep {rep_id} {rep.languages}", now)
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
