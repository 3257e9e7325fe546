"""Where a text or a call step goes: one locked transaction around one engine turn, plus
what only the store knows (who is on duty, open chats, the queue).

The SMS and voice webhooks and the simulator all call :class:`Helpline`, so what the
simulator shows is what a texter, caller or representative gets.
"""
from __future__ import annotations

import hashlib
import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import checkin, waiting
from .callbacks import Callbacks
from .clock import Clock
from .engine import SMS, VOICE, Engine, Input, Turn
from .hours import UTC, Hours
from .kept import Kept
from .locator import Locator
from .lockout import Lockout
from .numbers import callable_number
from .places_text import PlacesText
from .queue import Later, Queue
from .reps import ACTIVE, OPTED_OUT, WAITING, Roster, parse_command
from .security import Vault, hash_number
from .spool import Spool
from .staff.auth import audit
from .store import Chat, Event, Representative, Store, Voicemail, utcnow
from .treatment_search import Pending, TreatmentSearch
from .twilio_api import TwilioApi

log = logging.getLogger(__name__)
HANGUP = "hangup"
SEARCH_AGAIN_AFTER = timedelta(seconds=5)  # a slow locator, asked again by the worker
REP_CALL = "repcall"  # conversations channel: a representative's call, once their passcode was right


class Unavailable(Exception):
    """The database cannot be used right now; the caller answers from memory instead."""


class Rejected(Exception):
    """The database refused what this request asked for (a value too long, a broken rule):
    the request is wrong, the database is fine. The webhook answers 400."""


# What says the database itself is away: the connection, the pool, a timeout.
DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


class Helpline:
    def __init__(self, engine: Engine, store: Store, config):
        self.engine = engine
        self.content = engine.content
        self.store = store
        self.config = config
        self.vault = Vault(config["HELPLINE_ENCRYPTION_KEY"])
        self.hours = Hours.parse(config["HELPLINE_HOURS"], config["HELPLINE_TIMEZONE"])
        self.spool = Spool(config["SPOOL_PATH"])
        self.api = TwilioApi(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                             config["HELPLINE_NUMBER"], config["TWILIO_API_BASE"])
        self.callbacks = Callbacks(self.hash, self.vault, config["PIN_HOURS"])
        self.kept = Kept(self.vault)
        self.coordinators = [n.strip() for n in config["HELPLINE_COORDINATORS"].split(",") if n.strip()]
        self.lockout = Lockout(config["AUTH_FAILURES_PER_REP"], config["AUTH_FAILURES_PER_HOUR"])
        self.down_until = 0.0
        self.clock = Clock()
        self.queue = Queue(self, config)
        # A texter's search the locator was too slow for goes to the worker, which texts
        # the list (helpline.worker.search_later).
        self.searches = TreatmentSearch(
            engine.flow, self.vault, self.hash, Locator(config["FINDTREATMENT_API_BASE"]),
            config["FINDTREATMENT_WAIT_SECONDS"], PlacesText(self.content),
            defer=self.search_later)

    @contextmanager
    def transaction(self):
        """A store transaction, or :class:`Unavailable` at once while the database is known
        to be down (so a webhook answers in milliseconds, not after a connect timeout). Only
        a lost connection or a timeout marks it down; anything else the database refuses is
        this request's fault (:class:`Rejected`), and the next texter is answered as usual."""
        if time.monotonic() < self.down_until:
            raise Unavailable()
        try:
            with self.store.transaction() as db:
                self.spool.replay(db)
                yield db
        except DOWN as exc:
            self.down_until = time.monotonic() + self.config["DB_RETRY_SECONDS"]
            log.error("database unavailable (%s); answering without it for %ss",
                      type(exc).__name__, self.config["DB_RETRY_SECONDS"])
            raise Unavailable() from exc
        except SQLAlchemyError as exc:
            log.warning("a request the database refused (%s)", type(exc).__name__)
            raise Rejected() from exc

    def hash(self, number: str) -> str:
        return hash_number(self.config["HELPLINE_HASH_KEY"], number)

    def roster(self, db) -> Roster:
        return Roster(db, self.hash, self.vault, self.hours)

    def seed_representatives(self, numbers: str) -> None:
        """HELPLINE_REPRESENTATIVES: added on duty if new; existing ones keep their duty."""
        numbers = [n.strip() for n in numbers.split(",") if n.strip()]
        if numbers:
            with self.store.transaction() as db:
                roster = self.roster(db)
                for number in numbers:
                    roster.add(number, None, utcnow())

    @staticmethod
    def record(db, channel: str, names, now: datetime, value: int | None = None) -> None:
        """Counts for the statistics page: event names only, nothing about the person."""
        for name in names:
            db.add(Event(at=now, channel=channel, name=name[:40], value=value))

    def staff_text(self, key: str, channel: str = SMS, **values) -> str:
        """Representatives read and hear the default language."""
        return self.content.text(self.content.default, key, channel, **values)

    def local_time(self, now: datetime) -> str:
        return now.replace(tzinfo=UTC).astimezone(self.hours.zone).strftime("%Y-%m-%d %H:%M")

    def alert(self, roster: Roster, key: str, now: datetime, **values) -> list[tuple[str, str]]:
        """An SMS to every representative on duty, or to the coordinators when nobody is.
        It names a language, a time, a PIN: never the caller's number."""
        recipients = [n for n in map(roster.number_of, roster.on_duty(now)) if n] or self.coordinators
        text = self.staff_text(key, time=self.local_time(now), **values)
        return [(number, text) for number in recipients]

    def alert_unstaffed(self, roster: Roster, turn: Turn, channel: str, now: datetime) -> None:
        """Coordinators hear that someone asked for a person and nobody was on duty, at most
        once per COORDINATOR_ALERT_MINUTES. Outside opening hours nobody is expected."""
        if not self.coordinators or not self.hours.is_open(now) or roster.on_duty(now):
            return
        since = now - timedelta(minutes=self.config["COORDINATOR_ALERT_MINUTES"])
        if roster.db.execute(select(Event.id).where(
                Event.name == "coordinator_alert", Event.at > since)).first() is not None:
            return
        self.record(roster.db, channel, ["coordinator_alert"], now)
        text = self.staff_text("rep.sms.unstaffed", via=channel, time=self.local_time(now),
                               language=self.content.languages[turn.lang].name)
        turn.outbox.extend((number, text) for number in self.coordinators)

    def send_later(self, messages: list[tuple[str, str]]) -> None:
        """Alerts from a voice webhook are queued for the worker, which sends them by REST
        with retries: a caller never waits on Twilio's API."""
        self.queue.send_texts(messages, "alert")

    def context(self, roster: Roster, now: datetime, number: str, channel: str) -> dict:
        """What the flow needs to know about the world: open, staffed, can we call back."""
        is_open = self.hours.is_open(now)
        context = {"open": is_open, "staffed": is_open and bool(roster.on_duty(now))}
        if callable_number(number, self.config["CALLBACK_REGIONS"]):
            last4 = number[-4:]
            context.update(callback_ok=True,
                           last4=" ".join(last4) if channel == VOICE else last4)
        return context

    # -- texts ---------------------------------------------------------------------------
    def text(self, number: str, body: str, message_sid: str = "",
             now: datetime | None = None) -> Turn:
        """A text from anyone: a representative's commands and replies, or a texter's
        message for the menu or for the representative they are chatting with. Answers
        even with the database gone (see :meth:`offline_text`)."""
        try:
            turn = self._text(number, body, message_sid, now or self.clock.now())
        except Unavailable:
            return self.offline_text(number, body)
        self.queue.enqueue_all(turn.later)
        return turn

    def _text(self, number: str, body: str, message_sid: str, now: datetime) -> Turn:
        pending = None
        with self.transaction() as db:
            if message_sid and not self.store.first_receipt(db, message_sid, now):
                return Turn(state=self.engine.new_state(), listen=False)  # Twilio's retry
            roster = self.roster(db)
            rep = roster.find(number)
            if rep is not None:
                turn = self._from_rep(roster, rep, body, now)
                self._offer_to_everyone(roster, turn, now)
                return turn
            number_hash = self.hash(number)
            contact = self.store.lock_contact(db, number_hash, now)
            conv = self.store.lock_conversation(db, SMS, number_hash, now)
            state = self.store.live_state(conv, now, self.config["SESSION_IDLE_MINUTES"])
            new = state is None
            state = dict(state or self.engine.new_state(contact.lang), opted_out=contact.opted_out)
            context = self.context(roster, now, number, SMS)
            if self._over_limit(contact, now) and not (
                    self.engine.carrier_keyword(body) or self.engine.is_crisis(body)):
                return self._limited(contact, state)
            if new:
                self.record(db, SMS, ["contact"], now)
            chat = roster.open_chat_of_texter(number_hash)
            if chat is None and self.engine.is_person(state.get("node")):
                # the chat has ended (or the wait): back at the menu, where only an explicit
                # ask reaches a person again
                state = dict(state, node=self.engine.flow.home, step=0, trail=[], misses=0)
            if chat is not None and chat.status == ACTIVE:
                turn = self._in_chat(roster, chat, state, body, context, now)
            elif chat is not None and waiting.wants_callback(self, state["lang"], body):
                # the wait notice offers a call back: recorded while they stay in line
                state = dict(state, node=waiting.CALLBACK_NODE)
                turn = self.engine.handle(state, Input("text", body), SMS, context)
                self._after_texter_turn(db, roster, turn, number, number_hash, now)
            elif chat is not None:
                turn = self._waiting(roster, chat, state, body, context, now)
            elif (later := checkin.accept(self, db, number_hash, body, now)) is not None:
                turn = Turn(state=state, listen=False, events=["checkin"], later=later,
                            say=[self.content.text(state["lang"], "checkin.confirmed", SMS)])
            else:
                turn = self.engine.handle(state, Input("text", body), SMS, context)
                pending = self.searches.during(db, turn, SMS, number, now)
                self._after_texter_turn(db, roster, turn, number, number_hash, now)
            if "stop" in turn.events:
                checkin.cancel(db, number_hash)
            self.record(db, SMS, turn.events, now)
            self._offer_to_everyone(roster, turn, now)
            turn.state["turns"] = state.get("turns", 0) + 1
            conv.state, conv.updated_at = turn.state, now
            contact.lang, contact.opted_out = turn.state["lang"], turn.state["opted_out"]
            contact.updated_at = now
        if pending:
            self.finish_search(pending, now)
        return turn

    def finish_search(self, pending: Pending, now: datetime) -> None:
        self.searches.finish(pending, self.fetch_places(pending, now))

    def fetch_places(self, pending: Pending, now: datetime,
                     wait: float | None = None) -> dict | None:
        """The locator, asked after the turn's transaction so no lock waits on it; what it
        found is cached in a second short one (or not at all while the database is away)."""
        fetched = self.searches.fetch(pending, wait)
        if fetched:
            try:
                with self.transaction() as db:
                    self.searches.save(db, pending, fetched, now)
            except Unavailable:
                pass
        return fetched

    def search_later(self, pending: Pending) -> bool:
        """Queue a search for the worker (helpline.worker.search_later) a few seconds on;
        False when the queue cannot take it (the texter then gets the national helpline at
        once)."""
        now = self.clock.now()
        sealed = pending.seal(self.vault, self.hash(pending.number))
        return self.queue.enqueue("treatment.search", sealed, now, at=now + SEARCH_AGAIN_AFTER)

    def _over_limit(self, contact, now: datetime) -> bool:
        """Per-number messages in a one-minute window, counted in the shared database."""
        limit = self.config["RATE_LIMIT_PER_MINUTE"]
        if not limit:
            return False
        if contact.window_start is None or now - contact.window_start >= timedelta(minutes=1):
            contact.window_start, contact.window_count, contact.limit_noticed = now, 0, False
        contact.window_count += 1
        return contact.window_count > limit

    def _limited(self, contact, state: dict) -> Turn:
        """One notice, then silence, until the window passes."""
        turn = Turn(state=state, listen=False)
        if not contact.limit_noticed:
            contact.limit_noticed = True
            turn.say.append(self.content.text(state["lang"], "rate.limited", SMS))
            turn.events.append("rate_limited")
        return turn

    def offline_text(self, number: str, body: str) -> Turn:
        """The answer without a database: crisis words and carrier keywords as always (an
        opt-out spooled to be saved), anything else an apology with the national numbers.
        Also what ``/sms/fallback`` sends when Twilio could not reach ``/sms``."""
        turn = self.engine.handle(None, Input("text", body), SMS, {"open": True})
        if turn.keyword in ("stop", "start") and number:
            self.spool.add({"kind": "opt_out" if turn.keyword == "stop" else "opt_in",
                            "hash": self.hash(number)})
        if turn.keyword or turn.crisis:
            return turn
        return Turn(state=turn.state, say=[self.offline_message(SMS)], listen=False)

    def offline_message(self, channel: str) -> str:
        return "\n".join(self.content.text(code, "offline", channel)
                         for code in self.content.languages)

    def _after_texter_turn(self, db, roster: Roster, turn: Turn, number: str, number_hash: str,
                           now: datetime) -> None:
        place = turn.state.get("place")
        if place and (turn.action == "connect" or now >= datetime.fromisoformat(place["until"])):
            del turn.state["place"]
        if turn.action == "connect":
            chat = roster.open_chat(number_hash, number, turn.lang, now)
            if place and now < datetime.fromisoformat(place["until"]):
                chat.created_at = datetime.fromisoformat(place["since"])  # their place in line
            on_duty = roster.on_duty(now)
            speakers = [rep for rep in on_duty if turn.lang in rep.languages.split(",")]
            chat.offered_to_all = not speakers or len(speakers) == len(on_duty)
            self._offer_chat(roster, turn, chat, on_duty if chat.offered_to_all else speakers)
            turn.later.append(Later("chat.timers", (chat.id,), chat.created_at + timedelta(
                seconds=self.config["LANGUAGE_FIRST_SECONDS"])))
        elif turn.action == "callback":
            _, pin = self.callbacks.save(db, SMS, number_hash, number, turn.lang, now)
            if pin:
                turn.outbox += self.alert(roster, "rep.sms.callback", now, pin=pin,
                                          language=self.content.languages[turn.lang].name)
        if "unmet:staffed" in turn.events:
            self.alert_unstaffed(roster, turn, SMS, now)

    def _waiting(self, roster: Roster, chat: Chat, state: dict, body: str, context: dict,
                 now: datetime) -> Turn:
        """A texter waiting for a person: what they write is for that person, kept for the
        one who accepts and acknowledged once, with their place in line. Carrier keywords
        and crisis words work as anywhere; LEAVE or MENU (the whole message) leave the line,
        MENU keeping the place for PLACE_KEEP_MINUTES."""
        probe = self.engine.handle(state, Input("text", body), SMS, context)
        if probe.keyword == "stop":
            self._withdraw(roster, chat, probe, now)
            return probe
        if probe.keyword:
            return probe
        crisis = probe.crisis
        lang = state["lang"]
        if not crisis:
            if self.engine.means(lang, body, "leave"):
                return self._leave_line(roster, chat, state, context, now, keep_place=False)
            if (self.engine.means(lang, body, "menu")
                    or body.strip() in self.engine.flow.commands["menu"].digits):
                return self._leave_line(roster, chat, state, context, now, keep_place=True)
        turn = probe if crisis else Turn(state=state, listen=False)
        if crisis:
            text = self.staff_text("rep.sms.crisis_waiting", code=chat.code)
            turn.outbox.extend((n, text) for n in map(roster.number_of, roster.on_duty(now)) if n)
        if body.strip() and self.kept.add(chat, body) and not crisis:
            turn.say.append(self.content.text(lang, "chat.kept", SMS))
            if roster.texters_waiting() > 1:
                turn.say.append(self.content.text(lang, "chat.place", SMS,
                                                  position=roster.place_in_line(chat)))
        if (not chat.told_waiting
                and now - chat.created_at >= timedelta(minutes=self.config["CHAT_WAIT_NOTICE_MINUTES"])):
            chat.told_waiting = True   # the worker's notice, sooner if they write first
            turn.say.append(self.content.text(turn.lang, "chat.wait_notice", SMS,
                                              place=roster.place_in_line(chat)))
        return turn

    def _leave_line(self, roster: Roster, chat: Chat, state: dict, context: dict, now: datetime,
                    keep_place: bool) -> Turn:
        """Back to the menu; the representatives offered the texter hear it was withdrawn.
        With ``keep_place``, asking for a person again soon gets the same place in line."""
        turn = self.engine.home(state, SMS, context)
        minutes = self.config["PLACE_KEEP_MINUTES"]
        if keep_place:
            turn.state["place"] = {"since": chat.created_at.isoformat(),
                                   "until": (now + timedelta(minutes=minutes)).isoformat()}
        self._withdraw(roster, chat, turn, now)
        key = "chat.left_keeping_place" if keep_place else "chat.left"
        turn.say.insert(0, self.content.text(turn.lang, key, SMS, minutes=minutes))
        turn.events.append("left_line")
        return turn

    def _withdraw(self, roster: Roster, chat: Chat, turn: Turn, now: datetime) -> None:
        """A waiting texter no longer waits: what they wrote is forgotten, and whoever was
        offered them is told, so nobody texts ACCEPT for someone who has gone."""
        text = self.staff_text("rep.sms.withdrawn", code=chat.code)
        turn.outbox.extend((n, text) for n in map(roster.number_of, roster.offered(chat, now)) if n)
        roster.end(chat, now)

    def _offer_chat(self, roster: Roster, turn: Turn, chat: Chat, reps) -> None:
        language = self.content.languages[chat.lang].name
        text = self.staff_text("rep.sms.new", code=chat.code, language=language)
        turn.outbox.extend((n, text) for n in map(roster.number_of, reps) if n)

    def _offer_to_everyone(self, roster: Roster, turn: Turn, now: datetime) -> None:
        """Texters offered first to representatives who speak their language are offered to
        everyone on duty once LANGUAGE_FIRST_SECONDS have passed (checked on every text)."""
        since = now - timedelta(seconds=self.config["LANGUAGE_FIRST_SECONDS"])
        for chat in roster.db.execute(select(Chat).where(
                Chat.status == WAITING, Chat.offered_to_all.is_(False), Chat.created_at <= since)
                .with_for_update(skip_locked=True)).scalars():
            chat.offered_to_all = True
            others = [r for r in roster.on_duty(now) if chat.lang not in r.languages.split(",")]
            self._offer_chat(roster, turn, chat, others)

    def _in_chat(self, roster: Roster, chat: Chat, state: dict, body: str, context: dict,
                 now: datetime) -> Turn:
        """A texter talking with a representative: relayed, except carrier keywords, which
        keep working, and crisis words, which also get their answer straight away."""
        rep = roster.db.get(Representative, chat.rep_id) if chat.rep_id else None
        rep_number = roster.number_of(rep) if rep else None
        probe = self.engine.handle(state, Input("text", body), SMS, context)
        if probe.keyword == "stop":
            roster.end(chat, now)
            if rep_number:
                probe.outbox.append((rep_number, self.staff_text("rep.sms.texter_stopped", code=chat.code)))
            return probe
        if probe.keyword:
            return probe
        turn = probe if probe.crisis else Turn(state=state, listen=False)
        if rep_number:
            chat.texter_messages += 1
            chat.last_message_at, chat.idle_asked = now, False
            turn.outbox.append((rep_number, self.staff_text("rep.sms.relay", code=chat.code, body=body)))
        return turn

    def _from_rep(self, roster: Roster, rep: Representative, body: str, now: datetime) -> Turn:
        turn = Turn(state=self.engine.new_state(), listen=False)
        command, argument = parse_command(body)
        chat = roster.active_chat_of(rep)
        say = turn.say.append
        keyword = self.engine.carrier_keyword(body)
        if keyword == "stop":  # opted out of texts: never on duty until START
            rep.on_duty, rep.off_until = False, OPTED_OUT
            texter = roster.texter_number(chat) if chat is not None else None
            if texter:  # told, as after DONE, rather than left waiting for a reply
                turn.outbox.append((texter, self.content.text(chat.lang, "chat.ended", SMS)))
            roster.end_chats_of(rep, now)
            say(self.staff_text(self.engine.flow.texts["stop"]))
        elif keyword == "start":
            rep.off_until = None
            say(self.staff_text(self.engine.flow.texts["start"]))
        elif roster.opted_out(rep):
            pass  # after STOP nothing reaches their phone, so nothing is done for them
        elif command == "ON":
            roster.set_duty(rep, True, now)
            say(self.staff_text("rep.sms.on"))
        elif command == "OFF":
            roster.set_duty(rep, False, now)
            say(self.staff_text("rep.sms.off"))
        elif command == "STATUS":
            on_duty = roster.is_on_duty(rep, now)
            duty = self.staff_text("rep.sms.duty_on" if on_duty else "rep.sms.duty_off")
            say(self.staff_text("rep.sms.status", duty=duty, texters=roster.texters_waiting(),
                                callers=roster.callers_waiting(now)))
        elif command in ("ACCEPT", "NEXT"):
            if chat is not None:
                say(self.staff_text("rep.sms.busy", code=chat.code))
            elif command == "NEXT" or not argument:
                target = roster.oldest_waiting(rep)
                if target is None:
                    say(self.staff_text("rep.sms.next_none"))
                else:
                    self._connect(roster, target, rep, turn, now)
            else:
                target = roster.waiting_chat(argument)
                if target is None:
                    say(self.staff_text("rep.sms.unknown_code", code=argument))
                elif not roster.accept(target, rep, now) and target.rep_id != rep.id:
                    say(self.staff_text("rep.sms.taken", code=argument))
                else:
                    self._connect(roster, target, rep, turn, now, accepted=True)
        elif command == "DONE" and chat is not None:
            texter = roster.texter_number(chat)
            roster.end(chat, now)
            if texter:
                turn.outbox.append((texter, self.content.text(chat.lang, "chat.ended", SMS)))
            say(self.staff_text("rep.sms.done", code=chat.code, waiting=roster.texters_waiting()))
        elif command == "CHECKIN" and chat is not None:
            texter = roster.texter_number(chat)
            question = checkin.offer(self, roster.db, chat, now)
            roster.end(chat, now)
            if texter and question:
                turn.outbox += [(texter, self.content.text(chat.lang, "chat.ended", SMS)),
                                (texter, question)]
            say(self.staff_text("rep.sms.checkin_offered", code=chat.code))
        elif chat is not None:
            texter = roster.texter_number(chat)
            if texter:
                chat.rep_messages += 1
                chat.last_message_at, chat.idle_asked = now, False
                turn.outbox.append((texter, body))
        else:
            say(self.staff_text("rep.sms.help"))
        return turn

    def _connect(self, roster: Roster, chat: Chat, rep: Representative, turn: Turn, now: datetime,
                 accepted: bool = False) -> None:
        if not accepted:
            roster.accept(chat, rep, now)
        self.record(roster.db, SMS, ["answered"], now, int((now - chat.created_at).total_seconds()))
        turn.say.append(self.staff_text("rep.sms.accepted", code=chat.code))
        kept = self.kept.take(chat)
        rep_number = roster.number_of(rep)
        if kept and rep_number:
            turn.say.append(self.staff_text("rep.sms.kept", code=chat.code))
            turn.outbox.extend((rep_number, self.staff_text("rep.sms.relay", code=chat.code, body=body))
                               for body in kept)
        texter = roster.texter_number(chat)
        if texter:
            turn.outbox.append((texter, self.content.text(chat.lang, "chat.connected", SMS)))

    # -- calls ---------------------------------------------------------------------------
    def call(self, call_sid: str, caller: str, inp: Input, step: int | None = None,
             outcome=None, now: datetime | None = None, verstat: str = "") -> Turn | None:
        """One step of a call, keyed by CallSid; the caller is kept only as a hash.

        ``step`` is the turn the action URL was made for: a retried or stale request does
        not act twice, it hears where the caller is. ``outcome(db, roster, conv, now, alerts)``
        does what an action URL reports (a dial ended, a recording), may add SMS alerts, and
        says what happened next: an Input, or HANGUP when the caller has gone. Without a database the caller hears
        the national numbers, or the crisis answer to crisis speech (``None`` is returned only
        for a caller who has gone).
        ``verstat`` is Twilio's StirVerstat: whether the carrier vouched for the caller ID.
        """
        now = now or utcnow()
        alerts: list[tuple[str, str]] = []
        pending = None
        try:
            with self.transaction() as db:
                roster = self.roster(db)
                rep = roster.find(caller) if inp.kind == "start" else None
                if rep is not None:
                    return self._rep_call_in(roster, rep, verstat, now)
                conv = self.store.lock_conversation(db, VOICE, call_sid, now)
                state = conv.state
                if step is not None and state is not None and step != state.get("turns", 0):
                    inp = Input("start")
                elif outcome is not None:
                    inp = outcome(db, roster, conv, now, alerts)
                    if inp == HANGUP:
                        return None
                if caller and not conv.caller_hash:
                    conv.caller_hash = self.hash(caller)
                if state is None:
                    self.record(db, VOICE, ["contact"], now)
                context = self.context(roster, now, caller, VOICE)
                self.searches.voice_context(db, state, caller, context)
                turn = self.engine.handle(state, inp, VOICE, context)
                turn.state.pop("ringing", None)
                pending = self.searches.during(db, turn, VOICE, caller, now)
                if turn.action == "connect":
                    self._ring(roster, conv, turn, now)
                elif turn.action == "callback" and caller and conv.caller_hash:
                    _, pin = self.callbacks.save(db, VOICE, conv.caller_hash, caller, turn.lang, now)
                    if pin:
                        alerts += self.alert(roster, "rep.sms.callback", now, pin=pin,
                                             language=self.content.languages[turn.lang].name)
                if "unmet:staffed" in turn.events:
                    self.alert_unstaffed(roster, turn, VOICE, now)
                turn.outbox += alerts
                self.record(db, VOICE, turn.events, now)
                turn.state["turns"] = (state or {}).get("turns", 0) + 1
                conv.state, conv.updated_at = turn.state, now
            if pending:
                self.finish_search(pending, now)
            self.send_later(turn.outbox)
            turn.outbox = []
            return turn
        except Unavailable:
            if inp.kind == "speech" and self.engine.is_crisis(inp.value):
                return self.engine.handle(None, inp, VOICE, {"open": True})
            return self.offline_call()

    def _ring(self, roster: Roster, conv, turn: Turn, now: datetime) -> None:
        """Ring every free representative; a caller in another language than some of them
        rings those who speak it first, for LANGUAGE_FIRST_SECONDS, then everyone. With
        everyone busy, the caller waits in the queue."""
        free = roster.free_for_call(now)
        speakers = [(rep, n) for rep, n in free if turn.lang in rep.languages.split(",")]
        if speakers and len(speakers) < len(free) and not turn.state.get("rang_speakers"):
            turn.state["rang_speakers"] = True
            turn.ring = [(rep.id, n) for rep, n in speakers]
            turn.ring_seconds = self.config["LANGUAGE_FIRST_SECONDS"]
        elif free:
            turn.state["rang_speakers"] = turn.state["rang_everyone"] = True
            turn.ring = [(rep.id, n) for rep, n in free]
        else:
            turn.action = "enqueue"
            conv.waiting_since = now
        turn.state["ringing"] = [rep_id for rep_id, _ in turn.ring]

    def offline_call(self) -> Turn:
        """Both languages' apology with the national numbers, listened for again and again
        (the voice adapter loops it through ``/voice/fallback``) until the caller hangs up."""
        return Turn(state=self.engine.new_state(), action="offline",
                    say=[self.content.text(code, "offline", VOICE) for code in self.content.languages])

    def _rep_call_in(self, roster: Roster, rep: Representative, verstat: str, now: datetime) -> Turn:
        """Caller ID is easy to forge, so a representative's number only gets as far as the
        passcode. Every call-in is audited, with whether the carrier verified the caller ID."""
        verified = verstat.startswith("TN-Validation-Passed")
        audit(roster.db, None, f"rep {rep.id} call-in, caller ID {'verified' if verified else 'UNVERIFIED'}"
                               f" ({verstat or 'no StirVerstat'})", now)
        if rep.passcode_hash is None:
            return self._rep_hangup("rep.call.no_passcode")
        if self.lockout.locked(roster.db, rep.id, now):
            return self._rep_hangup("rep.call.locked")
        return self.passcode_prompt(0)

    def _rep_hangup(self, key: str) -> Turn:
        return Turn(state=self.engine.new_state(), action="hangup", say=[self.staff_text(key, VOICE)])

    def passcode_prompt(self, tries: int, wrong: bool = False) -> Turn:
        turn = Turn(state=dict(self.engine.new_state(), tries=tries), action="passcode")
        if wrong:
            turn.say.append(self.staff_text("rep.call.passcode_wrong", VOICE))
        turn.say.append(self.staff_text("rep.call.passcode", VOICE))
        return turn

    def _first_time(self, db, *step) -> bool:
        """A representative's action acts once per (action, CallSid, step, input): a signed
        request replayed later is answered with a goodbye, and changes nothing."""
        key = hashlib.sha256("|".join(map(str, step)).encode()).hexdigest()
        return self.store.first_receipt(db, key, utcnow())

    def rep_passcode(self, rep_number: str, rep_call_sid: str, passcode: str, tries: int) -> Turn:
        """A right passcode proves this call (by its CallSid) for the representative menu;
        wrong ones are counted across calls, like PINs, and audited."""
        now, locked = utcnow(), False
        try:
            with self.transaction() as db:
                roster = self.roster(db)
                rep = roster.find(rep_number)
                if (rep is None or not rep_call_sid
                        or not self._first_time(db, "passcode", rep_call_sid, tries, passcode)):
                    return self._rep_hangup("rep.call.goodbye")
                if self.lockout.locked(db, rep.id, now):
                    return self._rep_hangup("rep.call.locked")
                if roster.passcode_ok(rep, passcode.strip()):
                    audit(db, None, f"rep {rep.id} passcode right", now)
                    self.store.lock_conversation(db, REP_CALL, rep_call_sid, now).state = {"rep": rep.id}
                    return self._rep_call_menu(roster, now, rep_call_sid)
                audit(db, None, f"rep {rep.id} passcode wrong", now)
                locked = self.lockout.fail(db, rep.id, "passcode", now)
        except Unavailable:
            return self.offline_call()
        if locked:
            self.send_later(self.lock_alert(rep.id, now))
            return self._rep_hangup("rep.call.locked")
        if tries + 1 >= self.config["PIN_TRIES"]:
            return self._rep_hangup("rep.call.passcode_ended")
        return self.passcode_prompt(tries + 1, wrong=True)

    def lock_alert(self, rep_id: int | None, now: datetime) -> list[tuple[str, str]]:
        """Coordinators hear when wrong passcodes or PINs lock calling in: someone may be
        guessing."""
        who = self.staff_text("rep.sms.locked_one", rep=rep_id) if rep_id else self.staff_text("rep.sms.locked_all")
        text = self.staff_text("rep.sms.locked", who=who, time=self.local_time(now))
        if not self.coordinators:
            log.warning("calling in is locked after wrong passcodes or PINs; no coordinators to tell")
        return [(number, text) for number in self.coordinators]

    def _proven(self, roster: Roster, rep_number: str, rep_call_sid: str) -> Representative | None:
        """The representative on this call, if its passcode was right."""
        rep = roster.find(rep_number)
        if rep is None or not rep_call_sid:
            return None
        conv = self.store.find_conversation(roster.db, REP_CALL, rep_call_sid)
        return rep if conv is not None and (conv.state or {}).get("rep") == rep.id else None

    def _rep_call_menu(self, roster: Roster, now: datetime, rep_call_sid: str) -> Turn:
        """A representative calling the helpline hears how many are waiting, and can take
        the next one (1) or return a call by PIN (2). Each menu is a new step of their call
        (``turns``), so a key pressed on it acts once."""
        waiting = roster.callers_waiting(now)
        turn = Turn(state=self.engine.new_state(), action="rep_menu")
        conv = self.store.find_conversation(roster.db, REP_CALL, rep_call_sid)
        if conv is not None:
            conv.state = dict(conv.state or {}, menus=(conv.state or {}).get("menus", 0) + 1)
            turn.state["turns"] = conv.state["menus"]
        if waiting:
            turn.say.append(self.staff_text("rep.call.waiting", VOICE, count=waiting))
        else:
            turn.say.append(self.staff_text("rep.call.none", VOICE))
        turn.say.append(self.staff_text("rep.call.return", VOICE))
        return turn

    def rep_choice(self, rep_number: str, rep_call_sid: str, digits: str, step: int | None) -> Turn:
        """1 takes the longest-waiting caller from the queue (on duty only); 2 asks for a
        callback's PIN. Only on a call whose passcode was right."""
        goodbye = self._rep_hangup("rep.call.goodbye")
        now = utcnow()
        try:
            with self.transaction() as db:
                roster = self.roster(db)
                rep = self._proven(roster, rep_number, rep_call_sid)
                if rep is None or not self._first_time(db, "take", rep_call_sid, step, digits):
                    return goodbye
                if digits == "1" and not roster.is_on_duty(rep, now):
                    turn = self._rep_call_menu(roster, now, rep_call_sid)
                    turn.say.insert(0, self.staff_text("rep.call.off_duty", VOICE))
                    return turn
                if digits == "1" and roster.callers_waiting(now):
                    roster.mark_on_call(rep.id, rep_call_sid, now)
                    return Turn(state=self.engine.new_state(), action="take_queue")
                if digits == "2":
                    return self.pin_prompt(0, step)
                return self._rep_call_menu(roster, now, rep_call_sid) if digits else goodbye
        except Unavailable:
            return self.offline_call()

    def pin_prompt(self, tries: int, step: int | None, wrong: bool = False) -> Turn:
        turn = Turn(state=dict(self.engine.new_state(), tries=tries, turns=step), action="pin")
        if wrong:
            turn.say.append(self.staff_text("rep.call.pin_wrong", VOICE))
        turn.say.append(self.staff_text("rep.call.pin", VOICE))
        return turn

    def dialback(self, rep_number: str, rep_call_sid: str, pin: str, tries: int,
                 step: int | None = None) -> Turn:
        """A right PIN dials the caller (from the helpline's number) and bridges them; three
        wrong ones end the representative's call. Wrong PINs are audited and counted across
        calls: too many lock calling in (see :mod:`helpline.lockout`)."""
        now, locked = utcnow(), False
        try:
            with self.transaction() as db:
                rep = self._proven(self.roster(db), rep_number, rep_call_sid)
                if rep is None or not self._first_time(db, "pin", rep_call_sid, step, tries, pin):
                    return self._rep_hangup("rep.call.goodbye")
                if self.lockout.locked(db, rep.id, now):
                    return self._rep_hangup("rep.call.locked")
                found = self.callbacks.start(db, pin.strip(), rep_call_sid, now)
                if found is None:
                    audit(db, None, f"rep {rep.id} PIN wrong", now)
                    locked = self.lockout.fail(db, rep.id, "pin", now)
        except Unavailable:
            return self.offline_call()
        if locked:
            self.send_later(self.lock_alert(rep.id, now))
            return self._rep_hangup("rep.call.locked")
        if found is None:
            if tries + 1 >= self.config["PIN_TRIES"]:
                return Turn(state=self.engine.new_state(), action="hangup",
                            say=[self.staff_text("rep.call.pin_locked", VOICE)])
            return self.pin_prompt(tries + 1, step, wrong=True)
        return Turn(state=dict(self.engine.new_state(), callback=found.callback_id,
                               callback_lang=found.lang),
                    action="dialback", ring=[(found.callback_id, found.number)],
                    say=[self.staff_text("rep.call.dialing", VOICE)])

    def dialback_ended(self, callback_id: int, status: str, rep_call_sid: str) -> Turn:
        completed = status == "completed"
        try:
            with self.transaction() as db:
                self.callbacks.finish(db, callback_id, rep_call_sid, completed, utcnow())
                turn = self._rep_call_menu(self.roster(db), utcnow(), rep_call_sid)
        except Unavailable:
            return self.offline_call()
        key = "rep.call.dialback_done" if completed else "rep.call.dialback_failed"
        turn.say.insert(0, self.staff_text(key, VOICE))
        return turn

    def announce_texts(self, lang: str) -> tuple[str, list[str]]:
        """What the person called back hears first: who is calling."""
        lang = lang if lang in self.content.languages else self.content.default
        return lang, [self.content.text(lang, "callback.announce", VOICE)]

    def call_language(self, call_sid: str) -> str:
        """The language a call is in; the default when unknown or the database is away."""
        try:
            with self.transaction() as db:
                conv = self.store.find_conversation(db, VOICE, call_sid)
                lang = (conv.state or {}).get("lang") if conv else None
        except Unavailable:
            lang = None
        return lang if lang in self.content.languages else self.content.default

    def whisper_texts(self, caller_call_sid: str) -> list[str]:
        """What a representative hears on pick-up, with the caller's language if not ours."""
        texts = [self.staff_text("rep.whisper", VOICE)]
        lang = self.call_language(caller_call_sid)
        if lang != self.content.default:
            language = self.content.languages[lang].name
            texts.insert(0, self.staff_text("rep.whisper.language", VOICE, language=language))
        return texts

    def whisper_answer(self, rep_id: int, parent_call_sid: str, digits: str, leg_sid: str) -> bool:
        """A representative pressed a key on the whisper: 1 takes the call, if that call is
        ringing them now, and only once (a replayed answer marks nobody busy)."""
        if digits.strip() != "1" or not parent_call_sid or not leg_sid:
            return False
        try:
            with self.transaction() as db:
                conv = self.store.find_conversation(db, VOICE, parent_call_sid)
                ringing = (conv.state or {}).get("ringing", []) if conv is not None else []
                if rep_id not in ringing or not self._first_time(db, "whisper", leg_sid, rep_id,
                                                                 parent_call_sid, digits):
                    return False
                return self.roster(db).mark_on_call(rep_id, parent_call_sid, utcnow()) is not None
        except Unavailable:
            return True  # bridge the caller anyway: a person is better than a record

    def dial_finished(self, call_sid: str, status: str, step: int | None) -> Turn:
        """The <Dial> to representatives ended: a call somebody took ends politely; anything
        else leads to the voicemail / callback offer."""
        def outcome(db, roster, conv, now, alerts):
            taken = roster.release_call(call_sid) is not None
            done = taken and status == "completed"
            if not done and not (conv.state or {}).get("rang_everyone"):
                return Input("start")  # nobody who speaks the language answered: ring everyone
            self.record(db, VOICE, ["answered" if done else "missed"], now)
            return Input("done" if done else "failed")
        return self.call(call_sid, "", Input("failed"), step, outcome)

    def lifeline_ended(self, call_sid: str, status: str, step: int | None) -> Turn:
        """The call put through to the 988 Lifeline ended: ``then`` if it connected."""
        def outcome(db, roster, conv, now, alerts):
            return Input("done" if status == "completed" else "failed")
        return self.call(call_sid, "", Input("failed"), step, outcome)

    def queue_left(self, call_sid: str, result: str, step: int | None) -> Turn | None:
        def outcome(db, roster, conv, now, alerts):
            waited = int((now - conv.waiting_since).total_seconds()) if conv.waiting_since else None
            conv.waiting_since = None
            roster.release_call(call_sid)
            self.record(db, VOICE, ["answered" if result == "bridged" else "missed"], now, waited)
            if result == "hangup":
                return HANGUP
            return Input("done" if result == "bridged" else "failed")
        return self.call(call_sid, "", Input("failed"), step, outcome)

    def voicemail(self, call_sid: str, caller: str, url: str, sid: str, duration: int,
                  step: int | None) -> Turn:
        """Keep a recording's address and length (never the audio); an empty one is asked
        for again. Without a database the record is spooled, never lost."""
        def outcome(db, roster, conv, now, alerts):
            if not url or duration < 1:
                return Input("failed")
            if db.query(Voicemail).filter_by(call_sid=call_sid).first() is not None:
                return Input("done")
            lang = (conv.state or {}).get("lang", self.content.default)
            voicemail = Voicemail(call_sid=call_sid, caller_hash=conv.caller_hash, recording_url=url,
                                  recording_sid=sid or None, duration=duration, lang=lang,
                                  created_at=now)
            db.add(voicemail)
            db.flush()
            number = callable_number(caller, self.config["CALLBACK_REGIONS"])
            callback, pin = self.callbacks.save(db, VOICE, conv.caller_hash or self.hash(call_sid),
                                                number, lang, now, voicemail)
            if callback is None or pin:  # an open callback of this caller was alerted already
                alerts += self.alert(roster, "rep.sms.voicemail" if pin else "rep.sms.voicemail_nopin",
                                     now, pin=pin, seconds=duration,
                                     language=self.content.languages[lang].name)
            return Input("done")
        turn = self.call(call_sid, caller, Input("failed"), step, outcome)
        if turn.action == "offline" and url and duration >= 1:
            self.spool.add({"kind": "voicemail", "call_sid": call_sid, "url": url, "sid": sid,
                            "duration": duration, "lang": self.content.default,
                            "caller_hash": self.hash(caller) if caller else None})
        return turn

    def queue_wait_texts(self, call_sid: str, position: str) -> tuple[str, list[str]]:
        lang = self.call_language(call_sid)
        texts = [self.content.text(lang, "queue.position", VOICE, position=position or "1"),
                 self.content.text(lang, "queue.leave", VOICE)]
        return lang, texts

    def rep_call_ended(self, rep_call_sid: str) -> Turn:
        try:
            with self.transaction() as db:
                roster = self.roster(db)
                roster.release_call(rep_call_sid)
                return self._rep_call_menu(roster, utcnow(), rep_call_sid)
        except Unavailable:
            return self.offline_call()

