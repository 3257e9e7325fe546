"""What is kept, and for how long (``flask --app helpline purge``).

Past the retention period: conversations, contacts that have not opted out, chats,
voicemails (and their audio at Twilio), callbacks and webhook receipts are deleted. Opt-outs are kept (a hash and a
flag) so a number that said STOP is never texted again. Statistics events name no person
and are kept.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .store import Callback, Chat, Contact, Conversation, Receipt, Voicemail

_AGE = re.compile(r"([0-9]{1,5})\s*([dh])")


def parse_age(text: str) -> timedelta:
    """``30d`` or ``12h``."""
    match = _AGE.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"'{text}' should look like 30d or 12h")
    amount, unit = int(match[1]), match[2]
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


def purge(db: Session, older_than: timedelta, now: datetime) -> tuple[dict[str, int], list[str]]:
    """Delete what is past retention; returns the counts and the Twilio recording SIDs of
    deleted voicemails, whose audio the caller then deletes at Twilio."""
    cutoff = now - older_than
    recordings = list(db.execute(select(Voicemail.recording_sid).where(
        Voicemail.created_at < cutoff, Voicemail.recording_sid.is_not(None))).scalars())
    # A texter's place in the menu is on their contact row, which an opt-out keeps.
    texters = update(Contact).where(Contact.updated_at < cutoff, Contact.state.is_not(None)).values(state=None)
    forgotten = db.execute(texters).rowcount
    statements = {
        "conversations": delete(Conversation).where(Conversation.updated_at < cutoff),
        "contacts": delete(Contact).where(Contact.updated_at < cutoff, Contact.opted_out.is_(False)),
        "chats": delete(Chat).where(Chat.created_at < cutoff),
        "voicemails": delete(Voicemail).where(Voicemail.created_at < cutoff),
        "callbacks": delete(Callback).where(Callback.created_at < cutoff),
        "receipts": delete(Receipt).where(Receipt.at < cutoff),
    }
    counts = {name: db.execute(statement).rowcount for name, statement in statements.items()}
    counts["conversations"] += forgotten
    return counts, recordings
