"""Representatives: the roster, who is on duty and free, and the SMS chat relay.

Every function works inside the caller's transaction (``db``). Numbers arrive in clear from
Twilio's form, are hashed to find rows and encrypted to be dialled or texted again; they
never reach a log line or a message to the other side.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from .hours import Hours, Window, parse_time
from .roster_input import RosterError, check_number, parse_shift
from .store import Chat, Conversation, Representative, Shift, core

PASSCODE = re.compile(r"[0-9]{6,8}")
CODE_LETTERS = "ACDEFHJKMNPRTUVWXY"
CODE_DIGITS = "2345679"
STALE_CALL = timedelta(hours=3)
STALE_QUEUE = timedelta(hours=2)
WAITING, ACTIVE, ENDED = "waiting", "active", "ended"
OPTED_OUT = datetime(9999, 1, 1)  # off_until of a representative who texted STOP, until START
_REPS = Representative.__table__
_REP_BY_HASH = select(_REPS.c.id).where(_REPS.c.number_hash == bindparam("number_hash"))  # Core: no ORM
# Core, for the duty rules alone: ORM objects for every shift and representative cost a menu
# that offers a person more than the rest of its turn.
_SHIFTS = Shift.__table__
_SHIFT_WINDOWS = select(_SHIFTS.c.rep_id, _SHIFTS.c.weekday, _SHIFTS.c.start, _SHIFTS.c.end)
_DUTY = select(_REPS.c.id, _REPS.c.on_duty, _REPS.c.off_until)


class Roster:
    """Queries on representatives, with the helpers to hash and decrypt their numbers.
    ``hours`` carries the helpline's time zone, in which shifts are written."""

    def __init__(self, db: Session, hasher, vault, hours: Hours | None = None):
        self.db = db
        self.hash = hasher
        self.vault = vault
        self.zone = hours.zone if hours else Hours.parse("", "UTC").zone
        self._shifts: dict[int, Hours] | None = None
        self._reps: list[Representative] | None = None

    # -- shifts and duty -----------------------------------------------------------------
    def shifts_of(self, rep: Representative) -> Hours:
        if self._shifts is None:
            windows: dict[int, list[Window]] = {}
            for shift in self.db.execute(_SHIFT_WINDOWS):
                windows.setdefault(shift.rep_id, []).append(
                    Window(shift.weekday, parse_time(shift.start), parse_time(shift.end)))
            self._shifts = {rep_id: Hours(tuple(w), self.zone) for rep_id, w in windows.items()}
        return self._shifts.get(rep.id) or Hours((), self.zone)

    def in_shift(self, rep: Representative, now: datetime) -> bool:
        shifts = self.shifts_of(rep)
        return bool(shifts.windows) and shifts.is_open(now)

    def is_on_duty(self, rep: Representative, now: datetime) -> bool:
        """Inside a shift or texted ON, unless texted OFF until the shift ends."""
        if rep.off_until is not None and now < rep.off_until:
            return False
        return rep.on_duty or self.in_shift(rep, now)

    @staticmethod
    def opted_out(rep: Representative) -> bool:
        return rep.off_until is not None and rep.off_until >= OPTED_OUT

    def set_duty(self, rep: Representative, on: bool, now: datetime) -> bool:
        """ON holds until OFF; OFF during a shift holds until that shift ends. False (and
        still off duty) for a representative who texted STOP: no text could reach them."""
        if on and self.opted_out(rep):
            return False
        rep.on_duty = on
        rep.off_until = None if on else self.shift_end(rep, now)
        return True

    def shift_end(self, rep: Representative, now: datetime) -> datetime | None:
        """When the shift the representative is in now ends (naive UTC), or None."""
        shifts = self.shifts_of(rep)
        return shifts.open_until(now) if shifts.windows else None

    def add_shift(self, rep: Representative, day: str, start: str, end: str) -> bool:
        """False when the representative has this shift already: a form sent twice must not
        leave a copy behind that outlives removing the shift."""
        weekday, start, end = parse_shift(day, start, end)
        if self._find_shift(rep, weekday, start, end) is not None:
            return False
        self.db.add(Shift(rep_id=rep.id, weekday=weekday, start=start, end=end))
        self.db.flush()
        self._shifts = None
        return True

    def remove_shift(self, rep: Representative, day: str, start: str, end: str) -> bool:
        weekday, start, end = parse_shift(day, start, end)
        shift = self._find_shift(rep, weekday, start, end)
        if shift is None:
            return False
        self.db.delete(shift)
        self._shifts = None
        return True

    def _find_shift(self, rep: Representative, weekday: int, start: str, end: str) -> Shift | None:
        return self.db.execute(select(Shift).where(
            Shift.rep_id == rep.id, Shift.weekday == weekday, Shift.start == start,
            Shift.end == end)).scalars().first()

    def windows_by_rep(self) -> dict[int, list[Window]]:
        self.shifts_of(Representative(id=-1))
        return {rep_id: list(hours.windows) for rep_id, hours in self._shifts.items()}

    def shifts(self, rep: Representative) -> list[Shift]:
        return list(self.db.execute(select(Shift).where(Shift.rep_id == rep.id)
                                    .order_by(Shift.weekday, Shift.start)).scalars())

    # -- roster --------------------------------------------------------------------------
    def find(self, number: str) -> Representative | None:
        """The representative with this number. Every text and call asks, and nearly all
        come from someone else: unless the roster is read already, one indexed look-up
        answers that, and only a representative's row is loaded."""
        if not number:
            return None
        number_hash = self.hash(number)
        if self._reps is None:
            rep_id = core(self.db).execute(_REP_BY_HASH, {"number_hash": number_hash}).scalar()
            return None if rep_id is None else self.db.get(Representative, rep_id)
        return next((rep for rep in self._reps if rep.number_hash == number_hash), None)

    def add(self, number: str, name: str | None, now: datetime, on_duty: bool = True):
        number = check_number(number)
        rep = self.find(number)
        if rep:
            return rep, False
        rep = Representative(number_hash=self.hash(number), number_encrypted=self.vault.encrypt(number),
                             name=name, on_duty=on_duty, created_at=now)
        self.db.add(rep)
        self.db.flush()
        self._reps = None
        return rep, True

    def remove(self, number: str, now: datetime) -> bool:
        rep = self.find(check_number(number))
        if rep is None:
            return False
        self.end_chats_of(rep, now)
        self.db.delete(rep)
        self._reps = None
        return True

    def all(self) -> list[Representative]:
        """The roster, read once per transaction: a webhook asks who is texting, who is on
        duty and who is free, and a roster is small."""
        if self._reps is None:
            self._reps = list(self.db.execute(
                select(Representative).order_by(Representative.id)).scalars())
        return self._reps

    def _passcode_hash(self, rep: Representative, passcode: str) -> str:
        return self.hash(f"passcode:{rep.id}:{passcode}")

    def set_passcode(self, rep: Representative, passcode: str) -> None:
        if not PASSCODE.fullmatch(passcode):
            raise RosterError("a passcode is 6 to 8 digits")
        rep.passcode_hash = self._passcode_hash(rep, passcode)

    def passcode_ok(self, rep: Representative, passcode: str) -> bool:
        return (rep.passcode_hash is not None and PASSCODE.fullmatch(passcode) is not None
                and secrets.compare_digest(rep.passcode_hash, self._passcode_hash(rep, passcode)))

    def number_of(self, rep: Representative) -> str | None:
        return self.vault.decrypt(rep.number_encrypted)

    def on_duty(self, now: datetime) -> list[Representative]:
        return [rep for rep in self.all() if self.is_on_duty(rep, now)]

    def anyone_on_duty(self, now: datetime) -> bool:
        """Whether :meth:`on_duty` has anyone, for a menu that offers a person: the duty
        columns alone, unless the roster is read already."""
        reps = self._reps if self._reps is not None else core(self.db).execute(_DUTY).all()
        return any(self.is_on_duty(rep, now) for rep in reps)

    def free_for_call(self, now: datetime) -> list[tuple[Representative, str]]:
        """On duty and not on a call (a call mark older than STALE_CALL is forgotten)."""
        free = []
        for rep in self.on_duty(now):
            if rep.on_call and rep.on_call_since and now - rep.on_call_since < STALE_CALL:
                continue
            number = self.number_of(rep)
            if number:
                free.append((rep, number))
        return free

    def mark_on_call(self, rep_id: int, call_sid: str, now: datetime) -> Representative | None:
        rep = self.db.get(Representative, rep_id, with_for_update=True)
        if rep:
            rep.on_call, rep.on_call_since = call_sid, now
        return rep

    def release_call(self, call_sid: str) -> Representative | None:
        """The representative who took this call, now free again (None if nobody took it)."""
        rep = self.db.execute(select(Representative).where(Representative.on_call == call_sid)
                              .with_for_update()).scalars().first()
        if rep:
            rep.on_call = rep.on_call_since = None
        return rep

    # -- queue of callers ----------------------------------------------------------------
    def callers_waiting(self, now: datetime) -> int:
        return self.db.execute(select(func.count()).select_from(Conversation).where(
            Conversation.channel == "voice", Conversation.waiting_since.is_not(None),
            Conversation.updated_at > now - STALE_QUEUE)).scalar_one()

    # -- chats ---------------------------------------------------------------------------
    def texters_waiting(self) -> int:
        return self.db.execute(select(func.count()).select_from(Chat)
                               .where(Chat.status == WAITING)).scalar_one()

    def open_chat_of_texter(self, texter_hash: str) -> Chat | None:
        return self.db.execute(select(Chat).where(
            Chat.texter_hash == texter_hash, Chat.status.in_((WAITING, ACTIVE)))
            .order_by(Chat.id.desc()).with_for_update()).scalars().first()

    def active_chat_of(self, rep: Representative) -> Chat | None:
        return self.db.execute(select(Chat).where(Chat.rep_id == rep.id, Chat.status == ACTIVE)
                               .with_for_update()).scalars().first()

    def open_chat(self, texter_hash: str, number: str, lang: str, now: datetime) -> Chat:
        taken = set(self.db.execute(select(Chat.code).where(
            Chat.status.in_((WAITING, ACTIVE)))).scalars())
        code = _new_code(taken)
        chat = Chat(code=code, texter_hash=texter_hash, texter_encrypted=self.vault.encrypt(number),
                    lang=lang, status=WAITING, created_at=now)
        self.db.add(chat)
        self.db.flush()
        return chat

    def waiting_chat(self, code: str) -> Chat | None:
        return self.db.execute(select(Chat).where(Chat.code == code, Chat.status.in_((WAITING, ACTIVE)))
                               .with_for_update()).scalars().first()

    def oldest_waiting(self, rep: Representative) -> Chat | None:
        """The texter who has waited longest among those offered to this representative:
        offered to everyone, or in a language they speak."""
        speaks = [c for c in rep.languages.split(",") if c]
        return self.db.execute(select(Chat).where(
            Chat.status == WAITING, or_(Chat.offered_to_all.is_(True), Chat.lang.in_(speaks)))
            .order_by(Chat.created_at, Chat.id).with_for_update(skip_locked=True)).scalars().first()

    def place_in_line(self, chat: Chat) -> int:
        """1 for the texter who has waited longest."""
        return self.db.execute(select(func.count()).select_from(Chat).where(
            Chat.status == WAITING, or_(Chat.created_at < chat.created_at,
                                        and_(Chat.created_at == chat.created_at, Chat.id <= chat.id))
        )).scalar_one()

    def offered(self, chat: Chat, now: datetime) -> list[Representative]:
        """Who on duty was offered this waiting texter."""
        on_duty = self.on_duty(now)
        if chat.offered_to_all:
            return on_duty
        return [rep for rep in on_duty if chat.lang in rep.languages.split(",")]

    def accept(self, chat: Chat, rep: Representative, now: datetime) -> bool:
        """First accept wins: the row is locked, and a chat no longer waiting is refused."""
        if chat.status != WAITING:
            return False
        chat.status, chat.rep_id, chat.accepted_at = ACTIVE, rep.id, now
        return True

    def end(self, chat: Chat, now: datetime) -> None:
        chat.status, chat.ended_at = ENDED, now
        chat.texter_encrypted = chat.kept_encrypted = None

    def end_chats_of(self, rep: Representative, now: datetime) -> None:
        self.db.execute(update(Chat).where(Chat.rep_id == rep.id, Chat.status == ACTIVE)
                        .values(status=ENDED, ended_at=now, texter_encrypted=None,
                                kept_encrypted=None))

    def texter_number(self, chat: Chat) -> str | None:
        return self.vault.decrypt(chat.texter_encrypted) if chat.texter_encrypted else None


def _new_code(taken: set[str]) -> str:
    for length in (1, 1, 1, 1, 2, 2, 2, 3):
        code = secrets.choice(CODE_LETTERS) + "".join(secrets.choice(CODE_DIGITS) for _ in range(length))
        if code not in taken:
            return code
    return secrets.token_hex(3).upper()


def parse_command(body: str) -> tuple[str, str]:
    """A representative's text as (COMMAND, argument): "accept #k7" -> ("ACCEPT", "K7")."""
    words = body.strip().split(None, 1)
    if not words:
        return "", ""
    argument = words[1].strip().lstrip("#").upper() if len(words) > 1 else ""
    return words[0].upper().rstrip(".!"), argument
