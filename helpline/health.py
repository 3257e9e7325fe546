"""``GET /healthz`` for load balancers and uptime checks: 503 when the store is gone, and
the worker's last heartbeat (``stale`` after two minutes) without failing the web check:
the web app answers texters and callers with the worker down."""
from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

from .heartbeat import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    helpline = current_app.extensions["helpline"]
    try:
        with helpline.store.sessions() as db:  # a read: no SQLite write lock
            worker = health(db, helpline.clock.now())
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok", "worker": worker}, 200
