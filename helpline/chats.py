"""For a texter who asked for a person: the waiting room, the offer to representatives,
the chat relayed through the helpline's number, and its end.

Neither side sees the other's number: representatives know a texter by a chat code, and
every text goes out from the helpline's number. The worker's timers (reminders, escalation,
giving up) are :mod:`helpline.waiting`; a representative's commands are
:mod:`helpline.rep_texts`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .engine import SMS, Input, Turn
from .queue import Later
from .replies import SmsReply
from .reps import WAITING
from .store import Chat, Representative
from .webhook import Scope


def start_waiting(s: Scope, turn: Turn, number: str, number_hash: str, place: dict | None) -> None:
    """A texter asked for a person: a chat waits, offered first to those on duty who speak
    the texter's language (everyone after LANGUAGE_FIRST_SECONDS, by the worker's timer).
    A place kept by MENU is their place in line again."""
    services, roster, now = s.services, s.roster, s.now
    chat = roster.open_chat(number_hash, number, turn.lang, now)
    if place and now < datetime.fromisoformat(place["until"]):
        chat.created_at = datetime.fromisoformat(place["since"])
    on_duty = roster.on_duty(now)
    speakers = [rep for rep in on_duty if turn.lang in rep.languages.split(",")]
    chat.offered_to_all = not speakers or len(speakers) == len(on_duty)
    turn.outbox += offer(s, chat, on_duty if chat.offered_to_all else speakers)
    s.later.append(Later("chat.timers", (chat.id,), chat.created_at + timedelta(
        seconds=services.config["LANGUAGE_FIRST_SECONDS"])))


def offer(s: Scope, chat: Chat, reps) -> list[tuple[str, str]]:
    language = s.services.content.languages[chat.lang].name
    text = s.services.staff_text("rep.sms.new", code=chat.code, language=language)
    return [(n, text) for n in map(s.roster.number_of, reps) if n]


def offer_to_everyone(s: Scope, outbox: list[tuple[str, str]], due: bool = True) -> None:
    """Texters offered first to representatives who speak their language are offered to
    everyone on duty once LANGUAGE_FIRST_SECONDS have passed (checked on every text, and by
    the worker). ``due``: whether one may be (:func:`helpline.store.lookups.sender` asks
    with the sender's rows); nearly always not, and then nothing more is asked."""
    if not due:
        return
    since = s.now - timedelta(seconds=s.services.config["LANGUAGE_FIRST_SECONDS"])
    for chat in s.db.execute(select(Chat).where(
            Chat.status == WAITING, Chat.offered_to_all.is_(False), Chat.created_at <= since)
            .with_for_update(skip_locked=True)).scalars():
        chat.offered_to_all = True
        others = [r for r in s.roster.on_duty(s.now) if chat.lang not in r.languages.split(",")]
        outbox += offer(s, chat, others)


def waiting(s: Scope, chat: Chat, state: dict, body: str, context: dict) -> Turn:
    """A texter waiting for a person: what they write is for that person, kept for the
    one who accepts and acknowledged once, with their place in line. Carrier keywords
    and crisis words work as anywhere; LEAVE or MENU (the whole message) leave the line,
    MENU keeping the place for PLACE_KEEP_MINUTES."""
    services, roster, now = s.services, s.roster, s.now
    engine, content = services.engine, services.content
    probe = engine.handle(state, Input("text", body), SMS, context)
    if probe.keyword == "stop":
        _withdraw(s, chat, probe)
        return probe
    if probe.keyword:
        return probe
    crisis = probe.crisis
    lang = state["lang"]
    if not crisis:
        if engine.means(lang, body, "leave"):
            return _leave_line(s, chat, state, context, keep_place=False)
        if engine.means(lang, body, "menu") or body.strip() in engine.flow.commands["menu"].digits:
            return _leave_line(s, chat, state, context, keep_place=True)
    turn = probe if crisis else Turn(state=state, listen=False)
    if crisis:
        text = services.staff_text("rep.sms.crisis_waiting", code=chat.code)
        turn.outbox.extend((n, text) for n in map(roster.number_of, roster.on_duty(now)) if n)
    if body.strip() and services.kept.add(chat, body) and not crisis:
        turn.say.append(content.text(lang, "chat.kept", SMS))
        if roster.texters_waiting() > 1:
            turn.say.append(content.text(lang, "chat.place", SMS, position=roster.place_in_line(chat)))
    if (not chat.told_waiting
            and now - chat.created_at >= timedelta(minutes=services.config["CHAT_WAIT_NOTICE_MINUTES"])):
        chat.told_waiting = True   # the worker's notice, sooner if they write first
        turn.say.append(content.text(turn.lang, "chat.wait_notice", SMS, place=roster.place_in_line(chat)))
    return turn


def _leave_line(s: Scope, chat: Chat, state: dict, context: dict, keep_place: bool) -> Turn:
    """Back to the menu; the representatives offered the texter hear it was withdrawn.
    With ``keep_place``, asking for a person again soon gets the same place in line."""
    turn = s.services.engine.home(state, SMS, context)
    minutes = s.services.config["PLACE_KEEP_MINUTES"]
    if keep_place:
        turn.state["place"] = {"since": chat.created_at.isoformat(),
                               "until": (s.now + timedelta(minutes=minutes)).isoformat()}
    _withdraw(s, chat, turn)
    key = "chat.left_keeping_place" if keep_place else "chat.left"
    turn.say.insert(0, s.services.content.text(turn.lang, key, SMS, minutes=minutes))
    turn.events.append("left_line")
    return turn


def _withdraw(s: Scope, chat: Chat, turn: Turn) -> None:
    """A waiting texter no longer waits: what they wrote is forgotten, and whoever was
    offered them is told, so nobody texts ACCEPT for someone who has gone."""
    text = s.services.staff_text("rep.sms.withdrawn", code=chat.code)
    turn.outbox.extend((n, text) for n in map(s.roster.number_of, s.roster.offered(chat, s.now)) if n)
    s.roster.end(chat, s.now)


def in_chat(s: Scope, chat: Chat, state: dict, body: str, context: dict) -> Turn:
    """A texter talking with a representative: relayed, except carrier keywords, which
    keep working, and crisis words, which also get their answer straight away."""
    services, roster = s.services, s.roster
    rep = s.db.get(Representative, chat.rep_id) if chat.rep_id else None
    rep_number = roster.number_of(rep) if rep else None
    probe = services.engine.handle(state, Input("text", body), SMS, context)
    if probe.keyword == "stop":
        roster.end(chat, s.now)
        if rep_number:
            probe.outbox.append((rep_number, services.staff_text("rep.sms.texter_stopped", code=chat.code)))
        return probe
    if probe.keyword:
        return probe
    turn = probe if probe.crisis else Turn(state=state, listen=False)
    if rep_number:
        chat.texter_messages += 1
        chat.last_message_at, chat.idle_asked = s.now, False
        turn.outbox.append((rep_number, services.staff_text("rep.sms.relay", code=chat.code, body=body)))
    return turn


def connect(s: Scope, chat: Chat, rep: Representative, reply: SmsReply, accepted: bool = False) -> None:
    """A representative took a waiting texter: what the texter wrote while waiting is
    relayed to them, and the texter hears a person is here."""
    services, roster, now = s.services, s.roster, s.now
    if not accepted:
        roster.accept(chat, rep, now)
    s.record(SMS, ["answered"], int((now - chat.created_at).total_seconds()))
    reply.say.append(services.staff_text("rep.sms.accepted", code=chat.code))
    kept = services.kept.take(chat)
    rep_number = roster.number_of(rep)
    if kept and rep_number:
        reply.say.append(services.staff_text("rep.sms.kept", code=chat.code))
        reply.outbox.extend((rep_number, services.staff_text("rep.sms.relay", code=chat.code, body=body))
                           for body in kept)
    texter = roster.texter_number(chat)
    if texter:
        reply.outbox.append((texter, services.content.text(chat.lang, "chat.connected", SMS)))


def end_for_texter(s: Scope, chat: Chat) -> list[tuple[str, str]]:
    """The chat ends: the texter is told, as after DONE, rather than left waiting."""
    texter = s.roster.texter_number(chat)
    s.roster.end(chat, s.now)
    return [(texter, s.services.content.text(chat.lang, "chat.ended", SMS))] if texter else []
