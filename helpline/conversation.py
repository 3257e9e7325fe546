"""Where a text or a call step goes: one locked transaction around one engine turn, plus
what only the store knows (who is on duty, open chats, the queue).

The SMS and voice webhooks and the simulator all call :class:`Helpline`, so what the
simulator shows is what a texter, caller or representative gets.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .engine import SMS, VOICE, Engine, Input, Turn
from .hours import Hours
from .reps import ACTIVE, E164, WAITING, Roster, parse_command
from .security import Vault, hash_number
from .store import Callback, Chat, Event, Representative, Store, Voicemail, utcnow


class Helpline:
    def __init__(self, engine: Engine, store: Store, config):
        self.engine = engine
        self.content = engine.content
        self.store = store
        self.config = config
        self.vault = Vault(config["HELPLINE_ENCRYPTION_KEY"])
        self.hours = Hours.parse(config["HELPLINE_HOURS"], config["HELPLINE_TIMEZONE"])

    def hash(self, number: str) -> str:
        return hash_number(self.config["HELPLINE_HASH_KEY"], number)

    def roster(self, db) -> Roster:
        return Roster(db, self.hash, self.vault)

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

    def context(self, roster: Roster, now: datetime, number: str, channel: str) -> dict:
        """What the flow needs to know about the world: open, staffed, can we call back."""
        is_open = self.hours.is_open(now)
        context = {"open": is_open, "staffed": is_open and bool(roster.on_duty())}
        if number and E164.match(number):
            last4 = number[-4:]
            context.update(callback_ok=True,
                           last4=" ".join(last4) if channel == VOICE else last4)
        return context

    # -- texts ---------------------------------------------------------------------------
    def text(self, number: str, body: str, now: datetime | None = None) -> Turn:
        """A text from anyone: a representative's commands and replies, or a texter's
        message for the menu or for the representative they are chatting with."""
        now = now or utcnow()
        with self.store.transaction() as db:
            roster = self.roster(db)
            rep = roster.find(number)
            if rep is not None:
                return self._from_rep(roster, rep, body, now)
            number_hash = self.hash(number)
            contact = self.store.lock_contact(db, number_hash, now)
            conv = self.store.lock_conversation(db, SMS, number_hash, now)
            state = self.store.live_state(conv, now, self.config["SESSION_IDLE_MINUTES"])
            if state is None:
                self.record(db, SMS, ["contact"], now)
            state = dict(state or self.engine.new_state(contact.lang), opted_out=contact.opted_out)
            context = self.context(roster, now, number, SMS)
            chat = roster.open_chat_of_texter(number_hash)
            if chat is not None and chat.status == ACTIVE:
                turn = self._in_chat(roster, chat, state, body, context, now)
            else:
                turn = self.engine.handle(state, Input("text", body), SMS, context)
                self._after_texter_turn(db, roster, turn, chat, number, number_hash, now)
            self.record(db, SMS, turn.events, now)
            conv.state, conv.updated_at = turn.state, now
            contact.lang, contact.opted_out = turn.state["lang"], turn.state["opted_out"]
            contact.updated_at = now
        return turn

    def _after_texter_turn(self, db, roster: Roster, turn: Turn, chat: Chat | None, number: str,
                           number_hash: str, now: datetime) -> None:
        opened = turn.action == "connect" and chat is None
        if opened:
            chat = roster.open_chat(number_hash, number, turn.lang, now)
            language = self.content.languages[turn.lang].name
            for rep in roster.on_duty():
                rep_number = roster.number_of(rep)
                if rep_number:
                    turn.outbox.append((rep_number, self.staff_text(
                        "rep.sms.new", code=chat.code, language=language)))
        elif turn.action == "callback":
            self._save_callback(db, SMS, number_hash, number, turn.lang, now)
        if chat is None or chat.status != WAITING:
            return
        if "stop" in turn.events:
            roster.end(chat, now)
        elif (not opened and not chat.told_waiting
              and now - chat.created_at >= timedelta(minutes=self.config["CHAT_WAIT_NOTICE_MINUTES"])):
            chat.told_waiting = True
            turn.say.append(self.content.text(turn.lang, "chat.still_waiting", SMS))

    def _in_chat(self, roster: Roster, chat: Chat, state: dict, body: str, context: dict,
                 now: datetime) -> Turn:
        """A texter talking with a representative: relayed, except carrier keywords, which
        keep working, and crisis words, which also get their answer straight away."""
        rep = roster.db.get(Representative, chat.rep_id) if chat.rep_id else None
        rep_number = roster.number_of(rep) if rep else None
        probe = self.engine.handle(state, Input("text", body), SMS, context)
        keyword = next((e for e in probe.events if e in ("stop", "start", "help")), None)
        if keyword == "stop":
            roster.end(chat, now)
            if rep_number:
                probe.outbox.append((rep_number, self.staff_text("rep.sms.texter_stopped", code=chat.code)))
            return probe
        if keyword:
            return probe
        crisis = any(e.startswith("crisis:") for e in probe.events)
        turn = probe if crisis else Turn(state=state, listen=False)
        if rep_number:
            chat.texter_messages += 1
            turn.outbox.append((rep_number, self.staff_text("rep.sms.relay", code=chat.code, body=body)))
        return turn

    def _from_rep(self, roster: Roster, rep: Representative, body: str, now: datetime) -> Turn:
        turn = Turn(state=self.engine.new_state(), listen=False)
        command, argument = parse_command(body)
        chat = roster.active_chat_of(rep)
        say = turn.say.append
        if self.engine.carrier_keyword(body) == "stop":
            rep.on_duty = False
            roster.end_chats_of(rep, now)
            say(self.staff_text(self.engine.flow.texts["stop"]))
        elif command == "ON":
            rep.on_duty = True
            say(self.staff_text("rep.sms.on"))
        elif command == "OFF":
            rep.on_duty = False
            say(self.staff_text("rep.sms.off"))
        elif command == "STATUS":
            duty = self.staff_text("rep.sms.duty_on" if rep.on_duty else "rep.sms.duty_off")
            say(self.staff_text("rep.sms.status", duty=duty, texters=roster.texters_waiting(),
                                callers=roster.callers_waiting(now)))
        elif command in ("ACCEPT", "NEXT"):
            if chat is not None:
                say(self.staff_text("rep.sms.busy", code=chat.code))
            elif command == "NEXT":
                target = roster.oldest_waiting()
                if target is None:
                    say(self.staff_text("rep.sms.next_none"))
                else:
                    self._connect(roster, target, rep, turn, now)
            else:
                target = roster.waiting_chat(argument) if argument else None
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
        elif chat is not None:
            texter = roster.texter_number(chat)
            if texter:
                chat.rep_messages += 1
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
        texter = roster.texter_number(chat)
        if texter:
            turn.outbox.append((texter, self.content.text(chat.lang, "chat.connected", SMS)))

    # -- calls ---------------------------------------------------------------------------
    def call(self, call_sid: str, caller: str, inp: Input, now: datetime | None = None) -> Turn:
        """One step of a call, keyed by CallSid; the caller is kept only as a hash."""
        now = now or utcnow()
        with self.store.transaction() as db:
            roster = self.roster(db)
            if inp.kind == "start" and roster.find(caller) is not None:
                return self._rep_call_menu(roster, now)
            conv = self.store.lock_conversation(db, VOICE, call_sid, now)
            if caller and not conv.caller_hash:
                conv.caller_hash = self.hash(caller)
            if conv.state is None:
                self.record(db, VOICE, ["contact"], now)
            turn = self.engine.handle(conv.state, inp, VOICE, self.context(roster, now, caller, VOICE))
            if turn.action == "connect":
                turn.ring = [(rep.id, number) for rep, number in roster.free_for_call(now)]
                if not turn.ring:
                    turn.action = "enqueue"
                    conv.waiting_since = now
            elif turn.action == "callback" and caller and conv.caller_hash:
                self._save_callback(db, VOICE, conv.caller_hash, caller, turn.lang, now)
            self.record(db, VOICE, turn.events, now)
            conv.state, conv.updated_at = turn.state, now
        return turn

    def _rep_call_menu(self, roster: Roster, now: datetime) -> Turn:
        """A representative calling the helpline hears how many are waiting."""
        waiting = roster.callers_waiting(now)
        turn = Turn(state=self.engine.new_state(), action="rep_menu" if waiting else "hangup")
        turn.say.append(self.staff_text("rep.call.waiting" if waiting else "rep.call.none", VOICE,
                                        count=waiting))
        return turn

    def whisper_texts(self, caller_call_sid: str) -> list[str]:
        """What a representative hears on pick-up, with the caller's language if not ours."""
        texts = [self.staff_text("rep.whisper", VOICE)]
        with self.store.transaction() as db:
            conv = self.store.find_conversation(db, VOICE, caller_call_sid)
            lang = (conv.state or {}).get("lang") if conv else None
        if lang and lang != self.content.default and lang in self.content.languages:
            language = self.content.languages[lang].name
            texts.insert(0, self.staff_text("rep.whisper.language", VOICE, language=language))
        return texts

    def whisper_answer(self, rep_id: int, parent_call_sid: str, digits: str) -> bool:
        """A representative pressed a key on the whisper: 1 takes the call."""
        if digits.strip() != "1" or not parent_call_sid:
            return False
        with self.store.transaction() as db:
            return self.roster(db).mark_on_call(rep_id, parent_call_sid, utcnow()) is not None

    def dial_finished(self, call_sid: str, status: str) -> Turn:
        """The <Dial> to representatives ended: a call somebody took ends politely; anything
        else leads to the voicemail / callback offer."""
        with self.store.transaction() as db:
            taken = self.roster(db).release_call(call_sid) is not None
            outcome = "done" if taken and status == "completed" else "failed"
            self.record(db, VOICE, ["answered" if outcome == "done" else "missed"], utcnow())
        return self.call(call_sid, "", Input(outcome))

    def queue_left(self, call_sid: str, result: str) -> Turn | None:
        now = utcnow()
        with self.store.transaction() as db:
            conv = self.store.lock_conversation(db, VOICE, call_sid, now)
            waited = int((now - conv.waiting_since).total_seconds()) if conv.waiting_since else None
            conv.waiting_since = None
            self.roster(db).release_call(call_sid)
            self.record(db, VOICE, ["answered" if result == "bridged" else "missed"], now, waited)
        if result == "hangup":
            return None
        return self.call(call_sid, "", Input("done" if result == "bridged" else "failed"))

    def queue_wait_texts(self, call_sid: str, position: str) -> tuple[str, list[str]]:
        now = utcnow()
        with self.store.transaction() as db:
            conv = self.store.lock_conversation(db, VOICE, call_sid, now)
            conv.updated_at = now
            lang = (conv.state or {}).get("lang", self.content.default)
        texts = [self.content.text(lang, "queue.position", VOICE, position=position or "1"),
                 self.content.text(lang, "queue.leave", VOICE)]
        return lang, texts

    def take_next_caller(self, rep_number: str, rep_call_sid: str) -> bool:
        with self.store.transaction() as db:
            roster = self.roster(db)
            rep = roster.find(rep_number)
            if rep is None:
                return False
            roster.mark_on_call(rep.id, rep_call_sid, utcnow())
            return True

    def rep_call_ended(self, rep_number: str, rep_call_sid: str) -> Turn:
        with self.store.transaction() as db:
            roster = self.roster(db)
            roster.release_call(rep_call_sid)
            return self._rep_call_menu(roster, utcnow())

    def voicemail(self, call_sid: str, caller: str, url: str, sid: str, duration: int) -> Turn:
        """Keep a recording's address and length (never the audio); an empty one is retried."""
        if url and duration >= 1:
            now = utcnow()
            with self.store.transaction() as db:
                conv = self.store.lock_conversation(db, VOICE, call_sid, now)
                lang = (conv.state or {}).get("lang", self.content.default)
                if db.query(Voicemail).filter_by(call_sid=call_sid).first() is None:
                    db.add(Voicemail(call_sid=call_sid, caller_hash=conv.caller_hash, recording_url=url,
                                     recording_sid=sid or None, duration=duration, lang=lang,
                                     created_at=now))
            return self.call(call_sid, caller, Input("done"))
        return self.call(call_sid, caller, Input("failed"))

    def _save_callback(self, db, channel: str, caller_hash: str, number: str, lang: str,
                       now: datetime) -> None:
        pending = db.query(Callback).filter_by(caller_hash=caller_hash, done_at=None).first()
        if pending is None:
            db.add(Callback(channel=channel, caller_hash=caller_hash,
                            number_encrypted=self.vault.encrypt(number), lang=lang, created_at=now))
