"""For staff signing in and out of the console: the sign-in page with its attempt limits,
the browser that remembers its accounts, and signing out everywhere."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..store import utcnow
from . import auth
from .models import StaffUser
from .views import bp, transaction

BROWSER_COOKIE = "staff_browser"
BROWSER_DAYS = 90

SAFE_PATH = re.compile(r"/staff[A-Za-z0-9/_.~%?&=#-]*")


def _safe_next(target: str | None) -> str:
    """Only a path inside the console, never another site, never a control character."""
    target = target or ""
    parts = urlsplit(target)
    if (not SAFE_PATH.fullmatch(target) or parts.scheme or parts.netloc
            or not parts.path.startswith("/staff")):
        return url_for("staff.home")
    return target


def _browsers() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="staff-browser")


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _known_accounts() -> list[str]:
    """The accounts this browser signed in to before (a signed cookie): they pass the
    per-email and per-address limits that a guesser elsewhere may have filled."""
    try:
        known = _browsers().loads(request.cookies.get(BROWSER_COOKIE, ""),
                                  max_age=BROWSER_DAYS * 86400)
    except BadSignature:
        return []
    return [d for d in known if isinstance(d, str)] if isinstance(known, list) else []


def _remember_browser(response, email: str) -> None:
    known = [d for d in _known_accounts() if d != _email_digest(email)][-4:] + [_email_digest(email)]
    response.set_cookie(BROWSER_COOKIE, _browsers().dumps(known), max_age=timedelta(days=BROWSER_DAYS),
                        path="/staff", httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The attempt is counted and the limits checked in one short transaction; the password
    is checked outside it (scrypt is slow, and a transaction holds SQLite's writer lock)."""
    if request.method == "GET":
        if g.staff is not None:
            return redirect(url_for("staff.home"))
        return render_template("staff/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    ip = request.remote_addr or "?"
    now = utcnow()
    with transaction() as db:
        allowed = auth.begin_attempt(db, email, ip, _email_digest(email) in _known_accounts(), now)
        user_id, password_hash = auth.password_hash_of(db, email)
    user = None
    if allowed and auth.password_matches(password_hash, password) and user_id is not None:
        with transaction() as db:
            user = db.get(StaffUser, user_id)
            if user is None or not user.active or user.password_hash != password_hash:
                user = None  # removed or changed while the password was checked
            else:
                auth.clear_failures(db, email)
                user.last_login_at = now
                auth.audit(db, user, "sign in", now)
                auth.start_session(session, user, now)
    if user is None:
        error, status = ("wrong", 401) if allowed else ("limited", 429)
        return render_template("staff/login.html", error=error, email=email,
                               next=request.form.get("next", "")), status
    response = redirect(_safe_next(request.form.get("next")))
    _remember_browser(response, email)
    return response


@bp.post("/logout")
def logout():
    """Signing out ends this account's sessions everywhere, not only in this browser."""
    now = utcnow()
    with transaction() as db:
        user = db.get(StaffUser, g.staff.id)
        auth.end_sessions(user)
        auth.audit(db, user, "sign out", now)
    session.clear()
    return redirect(url_for("staff.login"))
