"""For a representative texting the helpline's number: duty, taking a waiting texter,
the chat relay from their side, and the carrier's STOP and START.

A text from a representative's number is a command (``ON``, ``OFF``, ``STATUS``,
``ACCEPT [code]``, ``NEXT``, ``DONE``, ``CHECKIN``) or, during a chat, a message for the
texter. Each command is one small function in :data:`COMMANDS`.
"""
from __future__ import annotations

from . import chats, checkin
from .engine import SMS
from .replies import SmsReply
from .reps import OPTED_OUT, parse_command
from .store import Chat, Representative
from .webhook import Scope


def receive(s: Scope, rep: Representative, body: str) -> SmsReply:
    reply = SmsReply()
    keyword = s.services.engine.carrier_keyword(body)
    command, argument = parse_command(body)
    chat = s.roster.active_chat_of(rep)
    if keyword in CARRIER:
        CARRIER[keyword](s, rep, chat, reply)
    elif s.roster.opted_out(rep):
        pass   # after STOP nothing reaches their phone, so nothing is done for them
    elif command in COMMANDS:
        COMMANDS[command](s, rep, chat, argument, reply)
    elif command in CHAT_COMMANDS and chat is not None:
        CHAT_COMMANDS[command](s, chat, reply)
    elif chat is not None:
        _relay(s, chat, body, reply)
    else:
        _say(s, reply, "rep.sms.help")
    return reply


def _say(s: Scope, reply: SmsReply, key: str, **values) -> None:
    reply.say.append(s.services.staff_text(key, **values))


def _stop(s: Scope, rep: Representative, chat: Chat | None, reply: SmsReply) -> None:
    """Opted out of texts: never on duty until START; a texter in a chat is told it ended."""
    rep.on_duty, rep.off_until = False, OPTED_OUT
    if chat is not None:
        reply.outbox += chats.end_for_texter(s, chat)
    s.roster.end_chats_of(rep, s.now)
    _say(s, reply, s.services.engine.flow.texts["stop"])


def _start(s: Scope, rep: Representative, chat: Chat | None, reply: SmsReply) -> None:
    rep.off_until = None
    _say(s, reply, s.services.engine.flow.texts["start"])


def _on(s: Scope, rep: Representative, chat: Chat | None, argument: str, reply: SmsReply) -> None:
    s.roster.set_duty(rep, True, s.now)
    _say(s, reply, "rep.sms.on")


def _off(s: Scope, rep: Representative, chat: Chat | None, argument: str, reply: SmsReply) -> None:
    s.roster.set_duty(rep, False, s.now)
    _say(s, reply, "rep.sms.off")


def _status(s: Scope, rep: Representative, chat: Chat | None, argument: str, reply: SmsReply) -> None:
    roster = s.roster
    duty = s.services.staff_text("rep.sms.duty_on" if roster.is_on_duty(rep, s.now) else "rep.sms.duty_off")
    _say(s, reply, "rep.sms.status", duty=duty, texters=roster.texters_waiting(),
         callers=roster.callers_waiting(s.now))


def _next(s: Scope, rep: Representative, chat: Chat | None, argument: str, reply: SmsReply) -> None:
    """The longest-waiting texter (NEXT, or ACCEPT with no code)."""
    if chat is not None:
        return _say(s, reply, "rep.sms.busy", code=chat.code)
    target = s.roster.oldest_waiting(rep)
    if target is None:
        return _say(s, reply, "rep.sms.next_none")
    chats.connect(s, target, rep, reply)


def _accept(s: Scope, rep: Representative, chat: Chat | None, argument: str, reply: SmsReply) -> None:
    """ACCEPT <code>: that texter, unless someone else took them first."""
    if chat is not None or not argument:
        return _next(s, rep, chat, argument, reply)
    target = s.roster.waiting_chat(argument)
    if target is None:
        return _say(s, reply, "rep.sms.unknown_code", code=argument)
    if not s.roster.accept(target, rep, s.now) and target.rep_id != rep.id:
        return _say(s, reply, "rep.sms.taken", code=argument)
    chats.connect(s, target, rep, reply, accepted=True)


def _done(s: Scope, chat: Chat, reply: SmsReply) -> None:
    reply.outbox += chats.end_for_texter(s, chat)
    _say(s, reply, "rep.sms.done", code=chat.code, waiting=s.roster.texters_waiting())


def _checkin(s: Scope, chat: Chat, reply: SmsReply) -> None:
    """Ends the chat and asks the texter whether a check-in text tomorrow would help."""
    texter = s.roster.texter_number(chat)
    question = checkin.offer(s.services, s.db, chat, s.now)
    s.roster.end(chat, s.now)
    if texter and question:
        reply.outbox += [(texter, s.services.content.text(chat.lang, "chat.ended", SMS)),
                         (texter, question)]
    _say(s, reply, "rep.sms.checkin_offered", code=chat.code)


def _relay(s: Scope, chat: Chat, body: str, reply: SmsReply) -> None:
    texter = s.roster.texter_number(chat)
    if texter:
        chat.rep_messages += 1
        chat.last_message_at, chat.idle_asked = s.now, False
        reply.outbox.append((texter, body))


CARRIER = {"stop": _stop, "start": _start}
COMMANDS = {"ON": _on, "OFF": _off, "STATUS": _status, "ACCEPT": _accept, "NEXT": _next}
CHAT_COMMANDS = {"DONE": _done, "CHECKIN": _checkin}   # only during a chat
