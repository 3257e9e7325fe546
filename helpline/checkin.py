"""A check-in text the next day, only by consent.

A representative ends a chat with ``CHECKIN`` instead of ``DONE``: the texter gets the
usual goodbye and "Would it help if we texted you tomorrow to check in? Reply YES". On YES
(within OFFER_HOURS) one short check-in is sent the next day between 10:00 and 19:00 in
HELPLINE_TIMEZONE, at the time of day they said YES when that falls inside those hours.
STOP cancels it. The row holding their number, encrypted, is deleted when the text is
sent, on STOP, or when the offer lapses unanswered.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import delete, select

from .engine import SMS
from .hours import UTC
from .queue import Later
from .store import Chat, Checkin
from .textnorm import normalize

OFFER_HOURS = 24
EARLIEST, LATEST = time(10, 0), time(19, 0)


def offer(helpline, db, chat: Chat, now: datetime) -> str | None:
    """Keep the texter's number for the offer (call before the chat ends); the question
    for the texter, or None when there is no number to text."""
    if not chat.texter_encrypted:
        return None
    db.execute(delete(Checkin).where(Checkin.texter_hash == chat.texter_hash))
    db.add(Checkin(texter_hash=chat.texter_hash, texter_encrypted=chat.texter_encrypted,
                   lang=chat.lang, offered_at=now))
    return helpline.content.text(chat.lang, "checkin.offer", SMS)


def is_yes(helpline, body: str) -> bool:
    text = normalize(body)
    return any(text in helpline.content.words(code, "checkin_yes") for code in helpline.content.languages)


def accept(helpline, db, texter_hash: str, body: str, now: datetime) -> list[Later] | None:
    """A YES to a check-in offered within OFFER_HOURS: the check-in is set for tomorrow and
    queued; None when this text is not that answer (the database is asked only on a YES)."""
    if not is_yes(helpline, body):
        return None
    pending = db.execute(select(Checkin).where(
        Checkin.texter_hash == texter_hash, Checkin.due_at.is_(None),
        Checkin.offered_at > now - timedelta(hours=OFFER_HOURS))
        .with_for_update()).scalars().first()
    if pending is None:
        return None
    pending.due_at = tomorrow(now, helpline.hours.zone)
    db.flush()
    return [Later("checkin.send", (pending.id,), pending.due_at)]


def tomorrow(now: datetime, zone) -> datetime:
    """The same time of day tomorrow in the helpline's zone, kept within 10:00-19:00
    (naive UTC)."""
    local = now.replace(tzinfo=UTC).astimezone(zone)
    day = local.date() + timedelta(days=1)
    at = min(max(local.time().replace(second=0, microsecond=0), EARLIEST), LATEST)
    return datetime.combine(day, at, zone).astimezone(UTC).replace(tzinfo=None)


def cancel(db, texter_hash: str) -> None:
    """STOP: no check-in, and no number kept for one."""
    db.execute(delete(Checkin).where(Checkin.texter_hash == texter_hash))


def send_due(helpline, now: datetime, checkin_id: int | None = None) -> None:
    """Send the check-ins due by ``now`` (one, or all) and forget them; drop lapsed offers."""
    later = []
    with helpline.store.transaction() as db:
        query = select(Checkin).where(Checkin.due_at <= now).with_for_update()
        if checkin_id is not None:
            query = query.where(Checkin.id == checkin_id)
        for row in db.execute(query).scalars().all():
            number = helpline.vault.decrypt(row.texter_encrypted)
            if number:
                text = helpline.content.text(row.lang, "checkin.message", SMS)
                later += helpline.queue.texts([(number, text)], "checkin", row.texter_hash)
            db.delete(row)
        db.execute(delete(Checkin).where(
            Checkin.due_at.is_(None), Checkin.offered_at <= now - timedelta(hours=OFFER_HOURS)))
    helpline.queue.enqueue_all(later)
