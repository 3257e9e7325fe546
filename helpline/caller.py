"""For a caller (anyone who calls the helpline's number): each step of the phone menu,
ringing representatives or queueing, and what Twilio reports back on an action URL.

A call is keyed by its CallSid; the caller's number is kept only as a hash. ``step`` is the
turn an action URL was made for, so a retried or stale request does not act twice: it hears
where the caller is. A representative calling in is handed to :mod:`helpline.rep_calls`.
"""
from __future__ import annotations

from datetime import datetime

from . import alerts, leave_word, nearby, rep_calls
from . import replies as r
from .engine import VOICE, Input, Turn
from .webhook import Scope, Unavailable, scope, transaction


def step(services, call_sid: str, caller: str, inp: Input, at_step: int | None = None,
         verstat: str = "", now: datetime | None = None) -> r.VoiceReply:
    """One step of the menu (``inp``: the call started, keys, speech, silence).
    ``verstat`` is Twilio's StirVerstat: whether the carrier vouched for the caller ID."""
    if not call_sid:
        return _reply(services.engine.handle(None, inp, VOICE), None, "")
    return _turn(services, call_sid, caller, inp, at_step, None, verstat, now)


def resume(services, call_sid: str, caller: str, what: r.Resume, at_step: int | None) -> r.VoiceReply:
    """What an action URL reports (a dial ended, the queue was left, a recording), then the
    flow's next step: ``then`` when it went well, ``otherwise`` when not."""
    reply = _turn(services, call_sid, caller, Input("failed"), at_step, what, "", None)
    if isinstance(reply, r.Offline) and isinstance(what, r.Recorded):
        leave_word.spool_voicemail(services, call_sid, caller, what.url, what.sid, what.duration)
    return reply


def _turn(services, call_sid: str, caller: str, inp: Input, at_step: int | None,
          what: r.Resume | None, verstat: str, now: datetime | None) -> r.VoiceReply:
    engine = services.engine
    try:
        with scope(services, now) as s:
            rep = s.roster.find(caller) if inp.kind == "start" else None
            if rep is not None:
                return rep_calls.call_in(s, rep, verstat)
            conv = services.store.lock_conversation_row(s.core, VOICE, call_sid, s.now,
                                                        new=inp.kind == "start" and at_step is None)
            state = conv.state
            if at_step is not None and state is not None and at_step != state.get("turns", 0):
                inp = Input("start")
            elif what is not None:
                inp = _resumed(s, conv, call_sid, caller, what)
                if isinstance(inp, r.Gone):
                    conv.save(s.core)
                    return inp
            if caller and not conv.caller_hash:
                conv.caller_hash = services.hash(caller)
            if state is None:
                s.record(VOICE, ["contact"])
            context = services.context(s.roster, s.now, caller, VOICE)
            services.searches.voice_context(s.db, state, caller, context)
            turn = engine.handle(state, inp, VOICE, context)
            turn.state.pop("ringing", None)
            nearby.during(s, turn, VOICE, caller)
            ring = _ring(s, conv, turn) if turn.action == "connect" else None
            if turn.action == "callback" and caller and conv.caller_hash:
                s.alerts += leave_word.callback(s, VOICE, conv.caller_hash, caller, turn.lang)
            if "unmet:staffed" in turn.events:
                s.alerts += alerts.unstaffed(s, turn.lang, VOICE)
            # the places a caller asked to be texted are known once the search ran
            s.after.append(lambda: s.alerts.extend(turn.outbox))
            s.record(VOICE, turn.events)
            turn.state["turns"] = (state or {}).get("turns", 0) + 1
            conv.state, conv.updated_at = turn.state, s.now
            conv.save(s.core)
        return _reply(turn, ring, call_sid)   # after the commit: a search may have added places
    except Unavailable:
        if inp.kind == "speech" and engine.is_crisis(inp.value):
            return _reply(engine.handle(None, inp, VOICE, {"open": True}), None, call_sid)
        return r.Offline(services.offline_texts(VOICE))


def _resumed(s: Scope, conv, call_sid: str, caller: str, what: r.Resume) -> Input | r.Gone:
    """What Twilio reported, as the flow's input (``done`` or ``failed``), or Gone."""
    roster = s.roster
    if isinstance(what, r.DialEnded):
        taken = roster.release_call(call_sid) is not None
        done = taken and what.status == "completed"
        if not done and not (conv.state or {}).get("rang_everyone"):
            return Input("start")   # nobody who speaks the language answered: ring everyone
        s.record(VOICE, ["answered" if done else "missed"])
        return Input("done" if done else "failed")
    if isinstance(what, r.LifelineEnded):
        return Input("done" if what.status == "completed" else "failed")
    if isinstance(what, r.QueueLeft):
        waited = int((s.now - conv.waiting_since).total_seconds()) if conv.waiting_since else None
        conv.waiting_since = None
        roster.release_call(call_sid)
        s.record(VOICE, ["answered" if what.result == "bridged" else "missed"], waited)
        if what.result == "hangup":
            return r.Gone()
        return Input("done" if what.result == "bridged" else "failed")
    kept = leave_word.voicemail(s, conv, call_sid, caller, what.url, what.sid, what.duration)
    return Input("done" if kept else "failed")


def _ring(s: Scope, conv, turn: Turn) -> tuple[tuple[tuple[int, str], ...], int | None] | None:
    """Who to ring and for how long: every free representative; a caller in another
    language than some of them rings those who speak it first, for LANGUAGE_FIRST_SECONDS,
    then everyone. With everyone busy (None), the caller waits in the queue."""
    free = s.roster.free_for_call(s.now)
    speakers = [(rep, n) for rep, n in free if turn.lang in rep.languages.split(",")]
    ring = None
    if speakers and len(speakers) < len(free) and not turn.state.get("rang_speakers"):
        turn.state["rang_speakers"] = True
        ring = tuple((rep.id, n) for rep, n in speakers), s.services.config["LANGUAGE_FIRST_SECONDS"]
    elif free:
        turn.state["rang_speakers"] = turn.state["rang_everyone"] = True
        ring = tuple((rep.id, n) for rep, n in free), None
    else:
        conv.waiting_since = s.now
    turn.state["ringing"] = [rep_id for rep_id, _ in ring[0]] if ring else []
    return ring


def _reply(turn: Turn, ring, call_sid: str) -> r.VoiceReply:
    """The engine's turn as what the channel must do."""
    said = tuple((turn.langs.get(i, turn.lang), text) for i, text in enumerate(turn.say))
    at_step = turn.state.get("turns")
    if turn.action == "connect" and ring:
        return r.Ring(said, at_step, call_sid, *ring)
    if turn.action == "connect":
        return r.Queue(said, at_step)
    if turn.action == "record":
        return r.Record(said, at_step)
    if turn.action == "lifeline":
        return r.Lifeline(said, at_step)
    if turn.action == "hangup":
        return r.Hangup(said)
    return r.Listen(said, turn.lang, at_step, turn.hints, turn.keys)


def language(services, call_sid: str) -> str:
    """The language a call is in; the default when unknown or the database is away."""
    try:
        with transaction(services) as db:
            conv = services.store.find_conversation(db, VOICE, call_sid)
            lang = (conv.state or {}).get("lang") if conv else None
    except Unavailable:
        lang = None
    return lang if lang in services.content.languages else services.content.default


def hold_message(services, call_sid: str, position: str) -> r.HoldMessage:
    """Twilio's waitUrl: the caller's place in line, and a key to leave."""
    lang = language(services, call_sid)
    return r.HoldMessage(((lang, services.content.text(lang, "queue.position", VOICE, position=position or "1")),
                          (lang, services.content.text(lang, "queue.leave", VOICE))))


def announce(services, lang: str) -> r.Announce:
    """What the person called back hears first: who is calling."""
    lang = lang if lang in services.content.languages else services.content.default
    return r.Announce(((lang, services.content.text(lang, "callback.announce", VOICE)),))
