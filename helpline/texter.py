"""For a texter (anyone who texts the helpline's number): a retry acts once, the rate
limit, the menu turn, and the answer while the database is away.

A text from a representative's number goes to :mod:`helpline.rep_texts`; one from a texter
in a chat or waiting for a person goes to :mod:`helpline.chats`. Everything else is a turn
of the menu, in one locked transaction (:func:`helpline.webhook.scope`).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from . import alerts, chats, checkin, leave_word, nearby, rep_texts, waiting
from .engine import SMS, Input, Turn
from .replies import SmsReply
from .reps import ACTIVE
from .store import Representative
from .store.lookups import Sender
from .webhook import Scope, Unavailable, scope


def receive(services, number: str, body: str, message_sid: str = "",
            now: datetime | None = None) -> SmsReply:
    """A text from anyone. Answers even with the database gone (see :func:`offline`)."""
    try:
        with scope(services, now) as s:
            if message_sid and not services.store.first_receipt(s.core, message_sid, s.now):
                return SmsReply()   # Twilio's retry: answered already
            number_hash = services.hash(number)
            since = s.now - timedelta(seconds=services.config["LANGUAGE_FIRST_SECONDS"])
            sender = services.store.sender(s.core, number_hash, since)
            if number and sender.rep_id is not None:
                turn = rep_texts.receive(s, s.db.get(Representative, sender.rep_id), body)
                chats.offer_to_everyone(s, turn.outbox, sender.offer_due)
            else:
                turn = _turn(s, number, number_hash, body, sender)
    except Unavailable:
        return offline(services, number, body)
    return SmsReply(turn.say, turn.outbox)


def _turn(s: Scope, number: str, number_hash: str, body: str, sender: Sender) -> Turn:
    services, db, now = s.services, s.db, s.now
    engine = services.engine
    contact = sender.contact or services.store.lock_contact(s.core, number_hash, now, new=True)
    state = services.store.live_state(contact, now, services.config["SESSION_IDLE_MINUTES"])
    new = state is None
    state = dict(state or engine.new_state(contact.lang), opted_out=contact.opted_out)
    context = services.context(s.roster, now, number, SMS)
    if _over_limit(services, contact, now) and not (engine.carrier_keyword(body) or engine.is_crisis(body)):
        turn = _limited(services, contact, state)
        contact.save(s.core)
        return turn
    if new:
        s.record(SMS, ["contact"])
    chat = s.roster.open_chat_of_texter(number_hash) if contact.chat_open else None
    contact.chat_open = chat is not None
    if chat is None and engine.is_person(state.get("node")):
        # the chat has ended (or the wait): back at the menu, where only an explicit ask
        # reaches a person again
        state = dict(state, node=engine.flow.home, step=0, trail=[], misses=0)
    if chat is not None and chat.status == ACTIVE:
        turn = chats.in_chat(s, chat, state, body, context)
    elif chat is not None and waiting.wants_callback(services, state["lang"], body):
        # the wait notice offers a call back: recorded while they stay in line
        turn = engine.handle(dict(state, node=waiting.CALLBACK_NODE), Input("text", body), SMS, context)
        _after_menu(s, turn, number, number_hash)
    elif chat is not None:
        turn = chats.waiting(s, chat, state, body, context)
    elif (later := checkin.accept(services, db, number_hash, body, now)) is not None:
        s.later += later
        turn = Turn(state=state, listen=False, events=["checkin"],
                    say=[services.content.text(state["lang"], "checkin.confirmed", SMS)])
    else:
        turn = engine.handle(state, Input("text", body), SMS, context)
        nearby.during(s, turn, SMS, number)
        _after_menu(s, turn, number, number_hash)
    if turn.action == "connect":
        contact.chat_open = True
    if "stop" in turn.events:
        checkin.cancel(db, number_hash)
    s.record(SMS, turn.events)
    # due before this turn, or a chat this turn made whose kept place in line is old enough
    chats.offer_to_everyone(s, turn.outbox, sender.offer_due or turn.action == "connect")
    turn.state["turns"] = state.get("turns", 0) + 1
    contact.state, contact.updated_at = turn.state, now
    contact.lang, contact.opted_out = turn.state["lang"], turn.state["opted_out"]
    contact.save(s.core)
    return turn


def _after_menu(s: Scope, turn: Turn, number: str, number_hash: str) -> None:
    """What a menu turn asked for beyond words: a person (the waiting room), a call back,
    or a coordinator told that nobody was on duty."""
    place = turn.state.get("place")
    if place and (turn.action == "connect" or s.now >= datetime.fromisoformat(place["until"])):
        del turn.state["place"]
    if turn.action == "connect":
        chats.start_waiting(s, turn, number, number_hash, place)
    elif turn.action == "callback":
        turn.outbox += leave_word.callback(s, SMS, number_hash, number, turn.lang)
    if "unmet:staffed" in turn.events:
        turn.outbox += alerts.unstaffed(s, turn.lang, SMS)


def _over_limit(services, contact, now: datetime) -> bool:
    """Per-number messages in a one-minute window, counted in the shared database."""
    limit = services.config["RATE_LIMIT_PER_MINUTE"]
    if not limit:
        return False
    if contact.window_start is None or now - contact.window_start >= timedelta(minutes=1):
        contact.window_start, contact.window_count, contact.limit_noticed = now, 0, False
    contact.window_count += 1
    return contact.window_count > limit


def _limited(services, contact, state: dict) -> Turn:
    """One notice, then silence, until the window passes."""
    turn = Turn(state=state, listen=False)
    if not contact.limit_noticed:
        contact.limit_noticed = True
        turn.say.append(services.content.text(state["lang"], "rate.limited", SMS))
        turn.events.append("rate_limited")
    return turn


def offline(services, number: str, body: str) -> SmsReply:
    """The answer without a database: crisis words and carrier keywords as always (an
    opt-out spooled to be saved), anything else an apology with the national numbers.
    Also what ``/sms/fallback`` sends when Twilio could not reach ``/sms``."""
    turn = services.engine.handle(None, Input("text", body), SMS, {"open": True})
    if turn.keyword in ("stop", "start") and number:
        services.spool.add({"kind": "opt_out" if turn.keyword == "stop" else "opt_in",
                            "hash": services.hash(number)})
    if turn.keyword or turn.crisis:
        return SmsReply(turn.say)
    return SmsReply(["\n".join(text for _, text in services.offline_texts(SMS))])
