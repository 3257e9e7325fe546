"""For every webhook: one short transaction, what runs after it commits, and the answer
while the database is away.

A webhook's work happens in one :func:`scope`: a store transaction (the rows it changes are
locked by the person module), the statistics events it counts, and what must wait for the
commit: work for the task queue, alerts sent by REST, a treatment search that asks the
locator. Nothing after the commit can undo the turn, and nothing in the transaction waits
on the network.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from .queue import Later
from .reps import Roster
from .store import core
from .store.database import CoreStatements

log = logging.getLogger(__name__)

# What says the database itself is away: the connection, the pool, a timeout.
DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


class Unavailable(Exception):
    """The database cannot be used right now; the person is answered from memory instead."""


class Rejected(Exception):
    """The database refused what this request asked for (a value too long, a broken rule):
    the request is wrong, the database is fine. The webhook answers 400."""


@contextmanager
def transaction(services) -> Iterator[Session]:
    """A store transaction, or :class:`Unavailable` at once while the database is known to
    be down (so a webhook answers in milliseconds, not after a connect timeout). Only a lost
    connection or a timeout marks it down; anything else the database refuses is this
    request's fault (:class:`Rejected`), and the next texter is answered as usual."""
    if time.monotonic() < services.down_until:
        raise Unavailable()
    try:
        with services.store.transaction() as db:
            services.spool.replay(db)
            yield db
    except DOWN as exc:
        wait = services.config["DB_RETRY_SECONDS"]
        services.down_until = time.monotonic() + wait
        log.error("database unavailable (%s); answering without it for %ss", type(exc).__name__, wait)
        raise Unavailable() from exc
    except SQLAlchemyError as exc:
        log.warning("a request the database refused (%s)", type(exc).__name__)
        raise Rejected() from exc


@dataclass
class Scope:
    """One webhook's transaction: its session, the time it runs at, and what it leaves for
    after the commit."""

    services: object
    db: Session
    now: datetime
    later: list[Later] = field(default_factory=list)       # queued after the commit
    alerts: list[tuple[str, str]] = field(default_factory=list)   # sent by REST after it
    after: list[Callable[[], None]] = field(default_factory=list)

    @cached_property
    def roster(self) -> Roster:
        return self.services.roster(self.db)

    @cached_property
    def core(self) -> CoreStatements | Session:
        """The hot path's Core statements, on the transaction's connection."""
        return core(self.db)

    def record(self, channel: str, names, value: int | None = None) -> None:
        self.services.record(self.core, channel, names, self.now, value)


@contextmanager
def scope(services, now: datetime | None = None) -> Iterator[Scope]:
    """:func:`transaction`, then (only once it committed) the scope's work for later."""
    with transaction(services) as db:
        current = Scope(services, db, now or services.clock.now())
        yield current
    for work in current.after:
        work()
    services.queue.enqueue_all(current.later)
    if current.alerts:
        services.queue.send_texts(current.alerts, "alert")
