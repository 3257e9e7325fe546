"""The look-ups every webhook makes: a texter's contact row or a call's conversation row,
locked, and its receipt.

Each works inside the caller's transaction (``db``: its session, or on the hot path
``store.core(db)``, its Core statements) and is offered as a method of
:class:`helpline.store.Store` too. A row that exists (every message but the first) takes one
statement, not two; a text's sender, their contact row (which holds their place in the menu)
and whether a chat is due to be offered to everyone take one together (:func:`sender`). The
hot path's rows are Core rows (:mod:`helpline.store.rows`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.orm import Session

from .models import Chat, Contact, Conversation, Receipt, Representative
from .rows import Row

# Built once: SQLAlchemy caches their compiled form.
_CONTACTS, _CONVERSATIONS = Contact.__table__, Conversation.__table__
# Core, for a texter's turn (helpline.store.rows): no ORM bookkeeping.
_LOCK_CONTACT = (select(_CONTACTS).where(_CONTACTS.c.number_hash == bindparam("number_hash"))
                 .with_for_update())
_LOCK_CONVERSATION_ROW = (select(_CONVERSATIONS)
                          .where(_CONVERSATIONS.c.channel == bindparam("channel"),
                                 _CONVERSATIONS.c.key == bindparam("key"))
                          .with_for_update())
_REPS, _CHATS, _RECEIPTS = Representative.__table__, Chat.__table__, Receipt.__table__
# Whose number texted (a representative's?), and whether a waiting chat, offered first to
# those who speak its language, is due to be offered to everyone ("waiting": helpline.reps.WAITING).
_REP_ID = select(_REPS.c.id).where(_REPS.c.number_hash == bindparam("number_hash")).scalar_subquery()
_OFFER_DUE = exists().where(_CHATS.c.status == "waiting", _CHATS.c.offered_to_all.is_(False),
                            _CHATS.c.created_at <= bindparam("since"))
_SENDER = select(_REP_ID.label("rep_id"), _OFFER_DUE.label("offer_due"))
# The same, with the texter's contact row, locked: one statement for every text but a
# texter's first.
_TEXTER = (select(_CONTACTS, _REP_ID.label("rep_id"), _OFFER_DUE.label("offer_due"))
           .where(_CONTACTS.c.number_hash == bindparam("number_hash"))
           .with_for_update())


@dataclass
class Sender:
    """Who texted: a representative's id, or None; whether a waiting chat is due to be
    offered to everyone; and a texter's contact row (Core, locked), or None when it is
    still to be made."""

    rep_id: int | None
    offer_due: bool
    contact: Row | None = None


def sender(db: Session, number_hash: str, since: datetime) -> Sender:
    """``since``: a waiting chat created before then is due to be offered to everyone."""
    params = {"number_hash": number_hash, "since": since}
    row = db.execute(_TEXTER, params).mappings().first()
    if row is None:
        rep_id, offer_due = db.execute(_SENDER, params).one()
        return Sender(rep_id, bool(offer_due))
    contact = Row(_CONTACTS, {column.name: row[column.name] for column in _CONTACTS.c})
    return Sender(row["rep_id"], bool(row["offer_due"]), contact)


def insert_for(db: Session):
    """The ``insert`` of the database's dialect: both have ``on_conflict_do_nothing``."""
    return _insert_of(db.get_bind().dialect.name)


@cache
def _insert_of(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@cache
def _insert_new(dialect: str, table: Table, key: tuple[str, ...], returning: tuple[str, ...] = ()):
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING`` (the given columns, or all),
    built once per dialect: its VALUES are the parameters it is executed with, so
    SQLAlchemy's compiled cache serves every call. (Building it per call cost more than
    running it.)"""
    columns = [table.c[name] for name in returning] if returning else table.c
    return _insert_of(dialect)(table).on_conflict_do_nothing(index_elements=list(key)).returning(*columns)


def find_conversation(db: Session, channel: str, key: str) -> Conversation | None:
    return db.execute(select(Conversation).where(
        Conversation.channel == channel, Conversation.key == key)).scalar_one_or_none()


def lock_contact(db: Session, number_hash: str, now: datetime, new: bool = False) -> Row:
    """The contact row (Core), created if new, locked until the transaction ends."""
    return _lock(db, _CONTACTS, _LOCK_CONTACT, {"number_hash": number_hash}, new,
                 dict(opted_out=False, updated_at=now, window_count=0, limit_noticed=False, chat_open=False,
                      state=None))


def lock_conversation_row(db: Session, channel: str, key: str, now: datetime, new: bool = False) -> Row:
    """The conversation row (Core), created if new, locked until the transaction ends."""
    return _lock(db, _CONVERSATIONS, _LOCK_CONVERSATION_ROW, {"channel": channel, "key": key}, new,
                 dict(state=None, created_at=now, updated_at=now))


def _lock(db: Session, table, lock, key: dict, new: bool, values: dict) -> Row:
    """The row, locked; made if missing. ``new``: most likely missing (a call starting, a
    first text), so the insert is tried first and returns the row: one statement either way
    for the common case."""
    row = None if new else db.execute(lock, key).mappings().first()
    if row is None:
        insert = _insert_new(db.get_bind().dialect.name, table, tuple(key))
        row = (db.execute(insert, {**key, **values}).mappings().first()
               or db.execute(lock, key).mappings().one())
    return Row(table, row)


def first_receipt(db: Session, sid: str, now: datetime) -> bool:
    """True the first time a webhook id is seen; False for Twilio's retries of it."""
    # Core: no ORM bookkeeping for a row nobody loads
    insert = _insert_new(db.get_bind().dialect.name, _RECEIPTS, ("sid",), ("sid",))
    return db.execute(insert, {"sid": sid[:64], "at": now}).first() is not None


def live_state(row: Contact | Conversation | Row, now: datetime, idle_minutes: int) -> dict | None:
    """The saved state (of a texter's contact or a call's conversation), or None when the
    conversation has been idle too long."""
    if row.state is None or now - row.updated_at > timedelta(minutes=idle_minutes):
        return None
    return row.state
