"""Where a text or a call step goes: one locked transaction around one engine turn.

The SMS and voice webhooks and the simulator all call :class:`Helpline`, so what the
simulator shows is what a texter or caller gets.
"""
from __future__ import annotations

from .engine import SMS, VOICE, Engine, Input, Turn
from .security import hash_number
from .store import Store, utcnow


class Helpline:
    def __init__(self, engine: Engine, store: Store, config):
        self.engine = engine
        self.store = store
        self.config = config

    def hash(self, number: str) -> str:
        return hash_number(self.config["HELPLINE_HASH_KEY"], number)

    def text(self, number: str, body: str, now=None) -> Turn:
        """A message from a texter: their contact (opt-out, language) and conversation rows
        are locked together, so a second message waits for the first."""
        now = now or utcnow()
        number_hash = self.hash(number)
        with self.store.transaction() as db:
            contact = self.store.lock_contact(db, number_hash, now)
            conv = self.store.lock_conversation(db, SMS, number_hash, now)
            state = self.store.live_state(conv, now, self.config["SESSION_IDLE_MINUTES"])
            state = dict(state or self.engine.new_state(contact.lang), opted_out=contact.opted_out)
            turn = self.engine.handle(state, Input("text", body), SMS)
            conv.state, conv.updated_at = turn.state, now
            contact.lang, contact.opted_out = turn.state["lang"], turn.state["opted_out"]
            contact.updated_at = now
        return turn

    def call(self, call_sid: str, caller: str, inp: Input, now=None) -> Turn:
        """One step of a call, keyed by CallSid; the caller is kept only as a hash."""
        now = now or utcnow()
        with self.store.transaction() as db:
            conv = self.store.lock_conversation(db, VOICE, call_sid, now)
            if caller and not conv.caller_hash:
                conv.caller_hash = self.hash(caller)
            turn = self.engine.handle(conv.state, inp, VOICE)
            conv.state, conv.updated_at = turn.state, now
        return turn
