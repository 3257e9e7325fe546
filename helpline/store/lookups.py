"""The look-ups every webhook makes: its conversation and contact rows, locked, and its receipt.

Each works inside the caller's transaction (``db``) and is offered as a method of
:class:`helpline.store.Store` too. A row that exists (every message but the first) takes one
statement, not two.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .models import Contact, Conversation, Receipt
from .rows import Row

# Built once: SQLAlchemy caches their compiled form.
_LOCK_CONVERSATION = (select(Conversation)
                      .where(Conversation.channel == bindparam("channel"),
                             Conversation.key == bindparam("key"))
                      .with_for_update())
_CONTACTS, _CONVERSATIONS = Contact.__table__, Conversation.__table__
# Core, for a texter's turn (helpline.store.rows): no ORM bookkeeping.
_LOCK_CONTACT = (select(_CONTACTS).where(_CONTACTS.c.number_hash == bindparam("number_hash"))
                 .with_for_update())
_LOCK_CONVERSATION_ROW = (select(_CONVERSATIONS)
                          .where(_CONVERSATIONS.c.channel == bindparam("channel"),
                                 _CONVERSATIONS.c.key == bindparam("key"))
                          .with_for_update())


def insert_for(db: Session):
    """The ``insert`` of the database's dialect: both have ``on_conflict_do_nothing``."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def lock_conversation(db: Session, channel: str, key: str, now: datetime) -> Conversation:
    """The conversation row, created if new, locked until the transaction ends."""
    params = {"channel": channel, "key": key}
    conv = db.execute(_LOCK_CONVERSATION, params).scalar_one_or_none()
    if conv is not None:
        return conv
    db.execute(insert_for(db)(Conversation)
               .values(channel=channel, key=key, state=None, created_at=now, updated_at=now)
               .on_conflict_do_nothing(index_elements=["channel", "key"]))
    return db.execute(_LOCK_CONVERSATION, params).scalar_one()


def find_conversation(db: Session, channel: str, key: str) -> Conversation | None:
    return db.execute(select(Conversation).where(
        Conversation.channel == channel, Conversation.key == key)).scalar_one_or_none()


def lock_contact(db: Session, number_hash: str, now: datetime) -> Row:
    """The contact row (Core), created if new, locked until the transaction ends."""
    params = {"number_hash": number_hash}
    row = db.execute(_LOCK_CONTACT, params).mappings().first()
    if row is None:
        db.execute(insert_for(db)(_CONTACTS)
                   .values(number_hash=number_hash, opted_out=False, updated_at=now, window_count=0,
                           limit_noticed=False, chat_open=False)
                   .on_conflict_do_nothing(index_elements=["number_hash"]))
        row = db.execute(_LOCK_CONTACT, params).mappings().one()
    return Row(_CONTACTS, row)


def lock_conversation_row(db: Session, channel: str, key: str, now: datetime, new: bool = False) -> Row:
    """:func:`lock_conversation` as a Core row, for a turn that reads and sets its columns.
    ``new``: the row is most likely new (a call starting), so the insert is tried first and
    returns it; one statement either way for the common case."""
    params = {"channel": channel, "key": key}
    row = None if new else db.execute(_LOCK_CONVERSATION_ROW, params).mappings().first()
    if row is None:
        insert = (insert_for(db)(_CONVERSATIONS)
                  .values(channel=channel, key=key, state=None, created_at=now, updated_at=now)
                  .on_conflict_do_nothing(index_elements=["channel", "key"]))
        row = (db.execute(insert.returning(*_CONVERSATIONS.c)).mappings().first()
               or db.execute(_LOCK_CONVERSATION_ROW, params).mappings().one())
    return Row(_CONVERSATIONS, row)


def first_receipt(db: Session, sid: str, now: datetime) -> bool:
    """True the first time a webhook id is seen; False for Twilio's retries of it."""
    receipts = Receipt.__table__  # Core: no ORM bookkeeping for a row nobody loads
    inserted = db.execute(insert_for(db)(receipts).values(sid=sid[:64], at=now)
                          .on_conflict_do_nothing(index_elements=["sid"])
                          .returning(receipts.c.sid)).first()
    return inserted is not None


def live_state(conv: Conversation | Row, now: datetime, idle_minutes: int) -> dict | None:
    """The saved state, or None when the conversation has been idle too long."""
    if conv.state is None or now - conv.updated_at > timedelta(minutes=idle_minutes):
        return None
    return conv.state
