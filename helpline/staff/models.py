"""The staff console's own tables: accounts, an audit log and failed sign-ins.

They share ``Base`` with :mod:`helpline.store`, so the schema (and its migrations) holds them
next to the helpline's tables. None of them ever holds a caller's or texter's number.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..store import Base


class StaffUser(Base):
    """A person who may sign in to the console. ``session_token`` is the SHA-256 of the token
    in the signed session cookie; changing it (sign-in, sign-out, ``staff remove``) ends
    every other session at once."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditLog(Base):
    """Who did what and when: "reveal callback 12", "done voicemail 3", "duty rep 2 on".
    Deliberately no foreign key, so a record outlives the account it names."""

    __tablename__ = "staff_audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80))


class LoginAttempt(Base):
    """A failed sign-in. Kept in the database so the limit holds across every worker and
    dyno, and pruned after a day."""

    __tablename__ = "staff_login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
