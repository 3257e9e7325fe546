"""Representatives: the roster, who is on duty and free, and the SMS chat relay.

Every function works inside the caller's transaction (``db``). Numbers arrive in clear from
Twilio's form, are hashed to find rows and encrypted to be dialled or texted again; they
never reach a log line or a message to the other side.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .store import Chat, Conversation, Representative

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CODE_LETTERS = "ACDEFHJKMNPRTUVWXY"
CODE_DIGITS = "2345679"
STALE_CALL = timedelta(hours=3)
STALE_QUEUE = timedelta(hours=2)
WAITING, ACTIVE, ENDED = "waiting", "active", "ended"


class RosterError(ValueError):
    pass


def check_number(number: str) -> str:
    number = "".join(number.split())
    if not E164.match(number):
        raise RosterError(f"'{number}' is not an E.164 number like +15551234567")
    return number


@dataclass
class Outbox:
    """Texts to send in this webhook's answer: ``to`` None means back to the sender."""

    messages: list[tuple[str | None, str]] = field(default_factory=list)

    def reply(self, text: str) -> None:
        self.messages.append((None, text))

    def send(self, to: str, text: str) -> None:
        self.messages.append((to, text))


class Roster:
    """Queries on representatives, with the helpers to hash and decrypt their numbers."""

    def __init__(self, db: Session, hasher, vault):
        self.db = db
        self.hash = hasher
        self.vault = vault

    # -- roster --------------------------------------------------------------------------
    def find(self, number: str) -> Representative | None:
        if not number:
            return None
        return self.db.execute(select(Representative).where(
            Representative.number_hash == self.hash(number))).scalar_one_or_none()

    def add(self, number: str, name: str | None, now: datetime, on_duty: bool = True):
        number = check_number(number)
        rep = self.find(number)
        if rep:
            return rep, False
        rep = Representative(number_hash=self.hash(number), number_encrypted=self.vault.encrypt(number),
                             name=name, on_duty=on_duty, created_at=now)
        self.db.add(rep)
        self.db.flush()
        return rep, True

    def remove(self, number: str) -> bool:
        rep = self.find(check_number(number))
        if rep is None:
            return False
        self.end_chats_of(rep, None)
        self.db.delete(rep)
        return True

    def all(self) -> list[Representative]:
        return list(self.db.execute(select(Representative).order_by(Representative.id)).scalars())

    def number_of(self, rep: Representative) -> str | None:
        return self.vault.decrypt(rep.number_encrypted)

    def on_duty(self) -> list[Representative]:
        return list(self.db.execute(select(Representative).where(Representative.on_duty)
                                    .order_by(Representative.id)).scalars())

    def free_for_call(self, now: datetime) -> list[tuple[Representative, str]]:
        """On duty and not on a call (a call mark older than STALE_CALL is forgotten)."""
        free = []
        for rep in self.on_duty():
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

    def oldest_waiting(self) -> Chat | None:
        return self.db.execute(select(Chat).where(Chat.status == WAITING).order_by(Chat.created_at, Chat.id)
                               .with_for_update(skip_locked=True)).scalars().first()

    def accept(self, chat: Chat, rep: Representative, now: datetime) -> bool:
        """First accept wins: the row is locked, and a chat no longer waiting is refused."""
        if chat.status != WAITING:
            return False
        chat.status, chat.rep_id, chat.accepted_at = ACTIVE, rep.id, now
        return True

    def end(self, chat: Chat, now: datetime) -> None:
        chat.status, chat.ended_at, chat.texter_encrypted = ENDED, now, None

    def end_chats_of(self, rep: Representative, now: datetime | None) -> None:
        self.db.execute(update(Chat).where(Chat.rep_id == rep.id, Chat.status == ACTIVE)
                        .values(status=ENDED, ended_at=now, texter_encrypted=None))

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
