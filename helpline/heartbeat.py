"""For /healthz and the staff console: the worker's last heartbeat (``worker.heartbeat``
writes it every minute), read by the web process without loading the worker's tasks."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .store import Beat

STALE = timedelta(minutes=2)


def health(db, now: datetime) -> dict:
    """The worker's last heartbeat: times only."""
    beat = db.execute(select(Beat.at).where(Beat.name == "heartbeat")).scalar_one_or_none()
    if beat is None:
        return {"last_heartbeat": None, "seconds_ago": None, "stale": True}
    return {"last_heartbeat": beat.isoformat() + "Z",
            "seconds_ago": max(0, int((now - beat).total_seconds())),
            "stale": now - beat > STALE}
