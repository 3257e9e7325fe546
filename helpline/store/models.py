"""The tables: what the helpline keeps, one class each (purge's rules are in :mod:`helpline.retention`).

Phone numbers never reach these tables in clear: rows are keyed by a keyed hash
(see :mod:`helpline.security`); a number that must be dialled or texted again is encrypted.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC, the one form both SQLite and PostgreSQL hand back unchanged."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """A texter, per hashed number: opt-out and language (which outlive a conversation), the
    rate limit's window, whether a chat may be open, and their place in the menu, so that a
    text reads and writes this one row."""

    __tablename__ = "contacts"
    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str | None] = mapped_column(String(8))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # Rate limit: messages counted in a one-minute window, and whether the notice was sent.
    window_start: Mapped[datetime | None] = mapped_column(DateTime)
    window_count: Mapped[int] = mapped_column(Integer, default=0)
    limit_noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the texter asked for a person: a chat may be open (waiting or active), so
    # their texts look for it; cleared by the first text that finds none.
    chat_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The flow engine's state of their conversation by text: live until SESSION_IDLE_MINUTES
    # past updated_at, forgotten by the purge (NULL when there is none).
    state: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class Conversation(Base):
    """One call's place in the flow (key: the CallSid); a texter's is on their contact row."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Representative(Base):
    """A person who takes calls and texts on their own phone. The number is kept encrypted
    (it must be dialled) and hashed (to recognise their texts and calls)."""

    __tablename__ = "representatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_encrypted: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(80))
    # On duty when inside a shift or texted ON (on_duty), unless texted OFF during a shift
    # (off_until: the end of that shift). See Roster.is_on_duty.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    off_until: Mapped[datetime | None] = mapped_column(DateTime)
    languages: Mapped[str] = mapped_column(String(40), default="en", server_default="en")
    on_call: Mapped[str | None] = mapped_column(String(64))
    on_call_since: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # A keyed hash of the passcode asked for when they call in: caller ID alone is forgeable.
    passcode_hash: Mapped[str | None] = mapped_column(String(64))


class AuthFailure(Base):
    """A wrong passcode or dialback PIN, counted across calls (see :mod:`helpline.lockout`)."""

    __tablename__ = "rep_auth_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    rep_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10))


class Shift(Base):
    """A weekly shift in the helpline's time zone; end before start runs over midnight."""

    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("representatives.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))


class Chat(Base):
    """A texter relayed to a representative. The texter's number is kept encrypted only
    while the chat is open; the texts relayed are never kept, only counts and times. What
    the texter wrote while waiting is kept encrypted until accepted (:mod:`helpline.kept`)."""

    __tablename__ = "chats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    texter_hash: Mapped[str] = mapped_column(String(64), index=True)
    texter_encrypted: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), index=True)  # waiting, active, ended
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("representatives.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    texter_messages: Mapped[int] = mapped_column(Integer, default=0)
    rep_messages: Mapped[int] = mapped_column(Integer, default=0)
    told_waiting: Mapped[bool] = mapped_column(Boolean, default=False)
    # Offered to representatives who speak the texter's language first; everyone after.
    offered_to_all: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    kept_encrypted: Mapped[str | None] = mapped_column(Text)
    # The worker's timers (helpline.waiting): reminders sent, coordinators told, and for an
    # open chat the last message either way and whether the representative was asked.
    reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    idle_asked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class Voicemail(Base):
    __tablename__ = "voicemails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_hash: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str] = mapped_column(Text)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class Callback(Base):
    """A request to be called back (or a voicemail to return): the one record that keeps a
    caller's number, encrypted, and only until the call is returned. A representative
    returns it by PIN (kept hashed) without ever seeing the number."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)
    number_encrypted: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    voicemail_id: Mapped[int | None] = mapped_column(ForeignKey("voicemails.id", ondelete="SET NULL"))
    pin_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pin_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    dialing: Mapped[str | None] = mapped_column(String(64))  # the representative's CallSid
    dialing_at: Mapped[datetime | None] = mapped_column(DateTime)  # a dialback never closed expires


class Receipt(Base):
    """A webhook already acted on (MessageSid), so Twilio's retry of it acts once."""

    __tablename__ = "receipts"
    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Checkin(Base):
    """A check-in text a texter agreed to (helpline.checkin): their number, encrypted, only
    from the offer until the text is sent, STOP, or the offer lapses; then the row goes."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    texter_hash: Mapped[str] = mapped_column(String(64), index=True)
    texter_encrypted: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    offered_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Beat(Base):
    """When the worker last did a periodic job ("heartbeat", "purge"): no one's data."""

    __tablename__ = "worker_beats"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class Event(Base):
    """What happened, for the staff's statistics: a name, a channel, a time and sometimes a
    number of seconds. Never who."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40), index=True)
    value: Mapped[int | None] = mapped_column(Integer)
