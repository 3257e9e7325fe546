"""What a texter writes while waiting for a person: kept for the one who accepts.

A texter in distress writes their story while they wait; it must reach the person who
answers, so nobody has to ask them to start again. It is kept on the chat row, encrypted
with HELPLINE_ENCRYPTION_KEY as one token, only the newest KEEP_MESSAGES messages and
KEEP_CHARACTERS characters, and forgotten when a representative accepts (who gets it), when
the wait ends (:meth:`helpline.reps.Roster.end`) or when ``purge`` deletes the chat.
"""
from __future__ import annotations

import json

from .security import Vault
from .store import Chat

KEEP_MESSAGES = 5
KEEP_CHARACTERS = 1600


class Kept:
    def __init__(self, vault: Vault):
        self.vault = vault

    def read(self, chat: Chat) -> list[str]:
        if not chat.kept_encrypted:
            return []
        plain = self.vault.decrypt(chat.kept_encrypted)
        return json.loads(plain) if plain else []

    def add(self, chat: Chat, body: str) -> bool:
        """Keep one message; True when it is the first of this wait (to acknowledge it)."""
        first = chat.kept_encrypted is None
        messages = self.read(chat) + [body.strip()[:KEEP_CHARACTERS]]
        while len(messages) > KEEP_MESSAGES or sum(map(len, messages)) > KEEP_CHARACTERS:
            messages.pop(0)
        chat.kept_encrypted = self.vault.encrypt(json.dumps(messages))
        return first

    def take(self, chat: Chat) -> list[str]:
        """The messages, gone from the database once this transaction commits."""
        messages = self.read(chat)
        chat.kept_encrypted = None
        return messages
