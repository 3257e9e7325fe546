"""The staff console: a few server-rendered pages for representatives and the people who run
the helpline (see the README's "Staff console"). ``init_app`` wires it into ``create_app``.
"""
from __future__ import annotations

from datetime import timedelta

from . import models  # noqa: F401  (the tables join helpline.store.Base before migrations run)


def init_app(app) -> None:
    """Session cookie flags and signer, CSRF for the console's forms only (Twilio's webhooks
    carry a signature instead) and the blueprint; :func:`helpline.cli.register` adds the
    ``staff`` commands."""
    from . import signin  # noqa: F401  (its routes join the blueprint)
    from .auth import SESSION_HOURS, CookieSessions
    from .views import bp, csrf

    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config.get("STAFF_COOKIE_SECURE", True),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,  # views.guard checks every POST under /staff
        WTF_CSRF_TIME_LIMIT=None,      # a token lives as long as the session it belongs to
    )
    app.session_interface = CookieSessions()
    csrf.init_app(app)
    app.register_blueprint(bp)
