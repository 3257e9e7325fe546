"""What happens to a chat as time passes, with no text from anyone (run by the worker).

A texter waiting for a person: offered to everyone after LANGUAGE_FIRST_SECONDS, told once
they are still in line after CHAT_WAIT_NOTICE_MINUTES, representatives reminded every
CHAT_RENOTIFY_MINUTES (twice at most), coordinators told after CHAT_ESCALATE_MINUTES, and
after CHAT_GIVE_UP_MINUTES the wait ends kindly and the offers are withdrawn.

A chat gone quiet for CHAT_IDLE_MINUTES: the representative is asked whether it is over;
after twice that it is closed with the usual goodbye.

Each step is marked on the chat row, which is locked while it is decided, so it happens
once however often and wherever :func:`run` is called.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from . import chats
from .engine import SMS
from .reps import ACTIVE, WAITING, Roster
from .store import Chat, Contact, Representative
from .textnorm import normalize
from .webhook import Scope

MAX_REMINDERS = 2
CALLBACK_NODE = "nobody"  # flows/main.yaml: the menu offering a call back


def run(helpline, chat_id: int, now: datetime) -> datetime | None:
    """Do what is due for one chat; returns when its next timer is due (None: no more)."""
    outbox: list[tuple[str, str, str | None]] = []
    with helpline.store.transaction() as db:
        chat = db.get(Chat, chat_id, with_for_update=True)
        if chat is None or chat.status not in (WAITING, ACTIVE):
            return None
        roster = helpline.roster(db)
        if chat.status == WAITING:
            next_at = _waiting(helpline, roster, chat, now, outbox)
        else:
            next_at = _quiet(helpline, roster, chat, now, outbox)
    _send(helpline, outbox)
    return next_at


def sweep(helpline, now: datetime) -> None:
    """Every open chat, for the timers whose own task was never queued."""
    with helpline.store.transaction() as db:
        ids = list(db.execute(select(Chat.id).where(Chat.status.in_((WAITING, ACTIVE)))).scalars())
    for chat_id in ids:
        run(helpline, chat_id, now)


def _send(helpline, outbox) -> None:
    for to, text, texter_hash in outbox:
        helpline.queue.send_texts([(to, text)], "chat", texter_hash)


def _minutes(since: datetime, now: datetime) -> int:
    return int((now - since).total_seconds() // 60)


def _waiting(helpline, roster: Roster, chat: Chat, now: datetime, outbox) -> datetime | None:
    config = helpline.config
    start = chat.created_at

    def at(minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    language = helpline.content.languages[chat.lang].name
    values = {"code": chat.code, "language": language, "minutes": _minutes(start, now)}
    if now >= at(config["CHAT_GIVE_UP_MINUTES"]):
        _give_up(helpline, roster, chat, now, outbox, values)
        return None
    if not chat.offered_to_all and now - start >= timedelta(seconds=config["LANGUAGE_FIRST_SECONDS"]):
        offers: list[tuple[str, str]] = []
        chats.offer_to_everyone(Scope(helpline, roster.db, now), offers)
        outbox.extend((to, text, None) for to, text in offers)
    if not chat.told_waiting and now >= at(config["CHAT_WAIT_NOTICE_MINUTES"]):
        chat.told_waiting = True
        texter = roster.texter_number(chat)
        if texter:
            text = helpline.content.text(chat.lang, "chat.wait_notice", SMS,
                                         place=roster.place_in_line(chat))
            outbox.append((texter, text, chat.texter_hash))
    renotify = config["CHAT_RENOTIFY_MINUTES"]
    due = min(MAX_REMINDERS, _minutes(start, now) // renotify) if renotify else 0
    if chat.reminders < due:
        chat.reminders = due
        text = helpline.staff_text("rep.sms.reminder", **values)
        outbox.extend((n, text, None) for n in _offered(roster, chat, now))
    if not chat.escalated and now >= at(config["CHAT_ESCALATE_MINUTES"]):
        chat.escalated = True
        text = helpline.staff_text("rep.sms.escalate", **values, on_duty=len(roster.on_duty(now)))
        outbox.extend((n, text, None) for n in helpline.coordinators)
    upcoming = [at(config["CHAT_GIVE_UP_MINUTES"])]
    if not chat.offered_to_all:
        upcoming.append(start + timedelta(seconds=config["LANGUAGE_FIRST_SECONDS"]))
    if not chat.told_waiting:
        upcoming.append(at(config["CHAT_WAIT_NOTICE_MINUTES"]))
    if renotify and chat.reminders < MAX_REMINDERS:
        upcoming.append(at(renotify * (chat.reminders + 1)))
    if not chat.escalated:
        upcoming.append(at(config["CHAT_ESCALATE_MINUTES"]))
    return min(upcoming)


def _offered(roster: Roster, chat: Chat, now: datetime) -> list[str]:
    """The numbers of those offered the texter who could accept now: not in a chat."""
    chatting = set(roster.db.execute(select(Chat.rep_id).where(Chat.status == ACTIVE)).scalars())
    reps = [rep for rep in roster.offered(chat, now) if rep.id not in chatting]
    return [n for n in map(roster.number_of, reps) if n]


def _give_up(helpline, roster: Roster, chat: Chat, now: datetime, outbox, values) -> None:
    """Nobody could answer: the texter gets the national numbers and the callback offer and
    is back at the main menu; those offered the chat (and coordinators told of it) hear
    it is withdrawn."""
    texter = roster.texter_number(chat)
    withdrawn = helpline.staff_text("rep.sms.withdrawn_timeout", **values)
    outbox.extend((n, withdrawn, None) for n in _offered(roster, chat, now))
    if chat.escalated:
        outbox.extend((n, withdrawn, None) for n in helpline.coordinators)
    roster.end(chat, now)
    helpline.record(roster.db, SMS, ["gave_up"], now, int((now - chat.created_at).total_seconds()))
    _offer_callback(helpline, roster, chat, now)
    if texter:
        outbox.append((texter, helpline.content.text(chat.lang, "chat.gave_up", SMS),
                       chat.texter_hash))


def wants_callback(helpline, lang: str, body: str) -> bool:
    """A waiting texter's CALLBACK (the wait notice offers it): read at the "nobody" menu."""
    return normalize(body) in helpline.content.words(lang, "callback")


def _offer_callback(helpline, roster: Roster, chat: Chat, now: datetime) -> None:
    """After the wait, the texter's next text is read at the "nobody" menu, where CALLBACK
    (or 1) asks for a call back and MENU or 0 work as anywhere."""
    contact = roster.db.get(Contact, chat.texter_hash)
    if contact is not None and contact.state:
        contact.state = dict(contact.state, node=CALLBACK_NODE, step=0, misses=0)
        contact.updated_at = now


def _quiet(helpline, roster: Roster, chat: Chat, now: datetime, outbox) -> datetime | None:
    idle = timedelta(minutes=helpline.config["CHAT_IDLE_MINUTES"])
    last = max(filter(None, (chat.accepted_at, chat.last_message_at, chat.created_at)))
    rep = roster.db.get(Representative, chat.rep_id) if chat.rep_id else None
    rep_number = roster.number_of(rep) if rep else None
    values = {"code": chat.code, "minutes": _minutes(last, now)}
    if now >= last + 2 * idle:
        texter = roster.texter_number(chat)
        roster.end(chat, now)
        if texter:
            outbox.append((texter, helpline.content.text(chat.lang, "chat.ended", SMS),
                           chat.texter_hash))
        if rep_number:
            outbox.append((rep_number, helpline.staff_text("rep.sms.idle_closed", **values), None))
        return None
    if now >= last + idle and not chat.idle_asked:
        chat.idle_asked = True
        if rep_number:
            outbox.append((rep_number, helpline.staff_text("rep.sms.idle", **values), None))
    return last + (2 * idle if chat.idle_asked else idle)
