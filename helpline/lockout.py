"""Wrong passcodes and dialback PINs, counted in the database across calls.

A per-call limit alone lets someone guess again on every new call. Here every wrong entry
is a row; a representative with too many in the last hour, or the helpline with too many
from everyone, is locked until the hour has passed.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .store import AuthFailure, Representative

WINDOW = timedelta(hours=1)
KEEP = timedelta(days=1)


class Lockout:
    def __init__(self, per_rep: int, overall: int):
        self.per_rep, self.overall = per_rep, overall

    def _counts(self, db: Session, rep_id: int | None, now: datetime) -> tuple[int, int]:
        recent = AuthFailure.at > now - WINDOW
        overall = db.execute(select(func.count()).select_from(AuthFailure).where(recent)).scalar_one()
        mine = db.execute(select(func.count()).select_from(AuthFailure).where(
            recent, AuthFailure.rep_id == rep_id)).scalar_one() if rep_id is not None else 0
        return mine, overall

    def locked(self, db: Session, rep_id: int | None, now: datetime) -> bool:
        mine, overall = self._counts(db, rep_id, now)
        return mine >= self.per_rep or overall >= self.overall

    def fail(self, db: Session, rep_id: int | None, kind: str, now: datetime) -> bool:
        """Count one wrong entry; True when this representative is now locked (call once
        the entry was found unlocked, so True is the moment to tell the coordinators). The
        representative's row is locked first, so parallel guesses are counted in turn."""
        if rep_id is not None:
            db.get(Representative, rep_id, with_for_update=True)
        db.execute(delete(AuthFailure).where(AuthFailure.at < now - KEEP))
        db.add(AuthFailure(at=now, rep_id=rep_id, kind=kind))
        db.flush()
        return self.locked(db, rep_id, now)
