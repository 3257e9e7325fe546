"""The time the worker's timers read (naive UTC, as the store keeps it).

In production it is the wall clock. Tests set it and move it on, so a 45-minute wait is
tested in no time and without sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .store import utcnow


class Clock:
    def __init__(self):
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else utcnow()

    def set(self, at: datetime) -> None:
        self.fixed = at

    def advance(self, **delta) -> datetime:
        self.fixed = self.now() + timedelta(**delta)
        return self.fixed
