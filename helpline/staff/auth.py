"""Staff accounts: passwords, sessions, the sign-in limit and the audit log.

Passwords are hashed with werkzeug's ``generate_password_hash``. A session is Flask's signed
cookie holding the account id, a session token and the sign-in time; every request
checks all three against the database, so sign-out and ``staff remove`` take effect at once
and no session lives longer than ``SESSION_HOURS`` even while the page keeps polling. The
database keeps only a hash of the token (a copy of it cannot make a cookie), so each
sign-in makes a new one: signing in ends the account's sessions elsewhere.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import AuditLog, LoginAttempt, StaffUser

# Sign-in limits. An email from one address may fail PAIR_FREE times, then waits twice as
# long after each further failure (up to PAIR_MAX_WAIT). An email (from anywhere) or an
# address (for any email) failing LIMIT times in LIMIT_WINDOW is refused to browsers that
# have not signed in to that account before, so a guesser cannot lock its owner out.
PAIR_FREE = 5
PAIR_FIRST_WAIT = timedelta(minutes=1)
PAIR_MAX_WAIT = timedelta(hours=1)
LIMIT = 20
LIMIT_WINDOW = timedelta(hours=1)
FAILURE_KEEP = timedelta(days=1)
LOCK_ID = 7_240_119  # PostgreSQL advisory lock: sign-in attempts are counted one at a time
SESSION_HOURS = 12
MIN_PASSWORD = 12


class AccountError(ValueError):
    pass


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, its signer made once per secret key rather than for
    every request: every webhook opens the session too, though only the console reads it."""

    _made: tuple = (None, None)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._made[0] != keys:
            self._made = (keys, super().get_signing_serializer(app))
        return self._made[1]


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"'{email}' is not an email address")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def add_user(db: Session, email: str, password: str, now: datetime) -> StaffUser:
    """A new account, or a disabled one enabled again with this password. An active
    account is refused: its password is changed only by removing and adding it."""
    email, password = normal_email(email), check_password(password)
    user = db.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
    if user is not None and user.active:
        raise AccountError(f"{email} already has an account")
    if user is None:
        user = StaffUser(email=email, created_at=now)
        db.add(user)
    user.password_hash = generate_password_hash(password)
    user.active = True
    end_sessions(user)
    db.flush()
    return user


def disable_user(db: Session, email: str) -> StaffUser | None:
    user = db.execute(select(StaffUser).where(StaffUser.email == normal_email(email))).scalar_one_or_none()
    if user is not None:
        user.active = False
        end_sessions(user)
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))


def password_hash_of(db: Session, email: str) -> tuple[int | None, str]:
    """The active account's id and password hash, or (None, a dummy hash): checking either
    costs the same time, so timing does not tell which emails have accounts."""
    user = db.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
    if user is None or not user.active:
        return None, _dummy_hash()
    return user.id, user.password_hash


def password_matches(password_hash: str, password: str) -> bool:
    """The slow part (scrypt), run outside any transaction so no webhook waits behind it."""
    return check_password_hash(password_hash, password)


def begin_attempt(db: Session, email: str, ip: str, known_browser: bool, now: datetime) -> bool:
    """Count this attempt as a failure now (it is cleared if the password is right), unless
    a limit refuses it: False then. Counting and recording happen under one lock, so parallel
    guesses cannot all pass the same count."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - FAILURE_KEEP))
    pair = list(db.execute(select(LoginAttempt.at).where(
        LoginAttempt.email == email, LoginAttempt.ip == ip).order_by(LoginAttempt.at.desc())).scalars())
    if len(pair) >= PAIR_FREE:
        wait = min(PAIR_FIRST_WAIT * 2 ** (len(pair) - PAIR_FREE), PAIR_MAX_WAIT)
        if now < pair[0] + wait:
            return False
    if not known_browser:
        since = now - LIMIT_WINDOW
        for column, value in ((LoginAttempt.email, email), (LoginAttempt.ip, ip)):
            count = db.execute(select(func.count()).select_from(LoginAttempt)
                               .where(column == value, LoginAttempt.at > since)).scalar_one()
            if count >= LIMIT:
                return False
    db.add(LoginAttempt(at=now, email=email[:254], ip=ip[:45]))
    return True


def clear_failures(db: Session, email: str) -> None:
    """A right password forgets this email's failures only: never a colleague's tried from
    the same address."""
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == email))


def session_user(db: Session, data, now: datetime) -> StaffUser | None:
    """The account a session cookie belongs to, if it is still valid."""
    try:
        user_id, token = int(data["staff"]), str(data["token"])
        since = datetime.fromisoformat(data["since"])
    except (KeyError, TypeError, ValueError):
        return None
    if now - since > timedelta(hours=SESSION_HOURS):
        return None
    user = db.get(StaffUser, user_id)
    if user is None or not user.active or not secrets.compare_digest(user.session_token,
                                                                       _token_hash(token)):
        return None
    return user


def start_session(session, user: StaffUser, now: datetime) -> None:
    session.clear()  # nothing from before sign-in carries over (session fixation)
    session.permanent = True
    token = secrets.token_hex(32)
    user.session_token = _token_hash(token)
    session.update(staff=user.id, token=token, since=now.isoformat())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def end_sessions(user: StaffUser) -> None:
    """A token nobody holds: every cookie of this account stops working."""
    user.session_token = _token_hash(secrets.token_hex(32))


def audit(db: Session, user: StaffUser | None, action: str, now: datetime) -> None:
    """One line of the audit log; never a phone number, only what was done to which row."""
    db.add(AuditLog(at=now, staff_id=user.id if user else None, action=action[:80]))
