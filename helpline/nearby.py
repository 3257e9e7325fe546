"""For a texter or caller who gave a ZIP code: the places near them, found around the turn.

Inside the turn's transaction the cache is read (:mod:`helpline.treatment_search`); what it
lacks is asked of the locator after the commit, so no lock waits on the network, and cached
in a second short transaction. A texter's search the locator was too slow for is finished
by the worker (:func:`helpline.worker.search_later`).
"""
from __future__ import annotations

from datetime import datetime

from .engine import Turn
from .treatment_search import Pending
from .webhook import Scope, Unavailable, transaction


def during(s: Scope, turn: Turn, channel: str, number: str) -> None:
    pending = s.services.searches.during(s.db, turn, channel, number, s.now)
    if pending:
        s.after.append(lambda: s.services.searches.finish(pending, fetch(s.services, pending, s.now)))


def fetch(services, pending: Pending, now: datetime, wait: float | None = None) -> dict | None:
    """The locator's places, cached in a short transaction of their own (or not at all
    while the database is away)."""
    fetched = services.searches.fetch(pending, wait)
    if fetched:
        try:
            with transaction(services) as db:
                services.searches.save(db, pending, fetched, now)
        except Unavailable:
            pass
    return fetched
