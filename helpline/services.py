"""For every module that serves someone: what is built once at start-up and shared.

The engine, the content, the store, the vault and the outside services are built here from
the app's settings, once; ``current_app.extensions["helpline"]`` is the one instance, and
the person modules (texter, caller, chats, rep_texts, rep_calls) take it as their first
argument, as the worker's tasks do.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .callbacks import Callbacks
from .clock import Clock
from .engine import SMS, VOICE, Engine
from .hours import UTC, Hours
from .kept import Kept
from .locator import Locator
from .lockout import Lockout
from .numbers import callable_number
from .places_text import PlacesText
from .queue import Queue
from .reps import Roster
from .security import Vault, hash_number
from .spool import Spool
from .store import Event, Store, utcnow
from .treatment_search import Pending, TreatmentSearch
from .twilio_api import TwilioApi

_RECORD = Event.__table__.insert()   # built once: its VALUES are the parameters given
SEARCH_AGAIN_AFTER = timedelta(seconds=5)  # a slow locator, asked again by the worker


class Services:
    def __init__(self, engine: Engine, store: Store, config):
        self.engine = engine
        self.content = engine.content
        self.store = store
        self.config = config
        self.vault = Vault(config["HELPLINE_ENCRYPTION_KEY"])
        self.hours = Hours.parse(config["HELPLINE_HOURS"], config["HELPLINE_TIMEZONE"])
        self.spool = Spool(config["SPOOL_PATH"])
        self.api = TwilioApi(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                             config["HELPLINE_NUMBER"], config["TWILIO_API_BASE"])
        self.callbacks = Callbacks(self.hash, self.vault, config["PIN_HOURS"])
        self.kept = Kept(self.vault)
        self.coordinators = [n.strip() for n in config["HELPLINE_COORDINATORS"].split(",") if n.strip()]
        self.lockout = Lockout(config["AUTH_FAILURES_PER_REP"], config["AUTH_FAILURES_PER_HOUR"])
        self.down_until = 0.0   # while the database is known to be away (helpline.webhook)
        self.clock = Clock()
        self.queue = Queue(self, config)
        # A texter's search the locator was too slow for goes to the worker, which texts
        # the list (helpline.worker.search_later).
        self.searches = TreatmentSearch(
            engine.flow, self.vault, self.hash, Locator(config["FINDTREATMENT_API_BASE"]),
            config["FINDTREATMENT_WAIT_SECONDS"], PlacesText(self.content),
            defer=self.search_later)

    def hash(self, number: str) -> str:
        return hash_number(self.config["HELPLINE_HASH_KEY"], number)

    def roster(self, db) -> Roster:
        return Roster(db, self.hash, self.vault, self.hours)

    def seed_representatives(self, numbers: str) -> None:
        """HELPLINE_REPRESENTATIVES: added on duty if new; existing ones keep their duty."""
        numbers = [n.strip() for n in numbers.split(",") if n.strip()]
        if numbers:
            with self.store.transaction() as db:
                roster = self.roster(db)
                for number in numbers:
                    roster.add(number, None, utcnow())

    @staticmethod
    def record(db, channel: str, names, now: datetime, value: int | None = None) -> None:
        """Counts for the statistics page: event names only, nothing about the person."""
        if names:   # Core: no ORM rows to flush; one name (the common case) is no executemany
            rows = [{"at": now, "channel": channel, "name": name[:40], "value": value} for name in names]
            db.execute(_RECORD, rows if len(rows) > 1 else rows[0])

    def staff_text(self, key: str, channel: str = SMS, **values) -> str:
        """Representatives read and hear the default language."""
        return self.content.text(self.content.default, key, channel, **values)

    def local_time(self, now: datetime) -> str:
        return now.replace(tzinfo=UTC).astimezone(self.hours.zone).strftime("%Y-%m-%d %H:%M")

    def context(self, roster: Roster, now: datetime, number: str, channel: str) -> Context:
        """What the flow needs to know about the world: open, staffed, can we call back.
        ``staffed`` reads the roster and ``callback_ok`` parses the number, so each is
        worked out only when the turn asks for it (most menu turns ask for neither)."""
        is_open = self.hours.is_open(now)

        def staffed() -> dict:
            return {"staffed": is_open and roster.anyone_on_duty(now)}

        def callback() -> dict:
            if not callable_number(number, self.config["CALLBACK_REGIONS"]):
                return {}
            last4 = number[-4:]
            return {"callback_ok": True, "last4": " ".join(last4) if channel == VOICE else last4}

        return Context({"open": is_open}, {"staffed": staffed, "callback_ok": callback, "last4": callback})

    def offline_texts(self, channel: str) -> tuple[tuple[str, str], ...]:
        """Every language's apology with the national numbers, for when the database is away."""
        return tuple((code, self.content.text(code, "offline", channel)) for code in self.content.languages)

    def search_later(self, pending: Pending) -> bool:
        """Queue a search for the worker (helpline.worker.search_later) a few seconds on;
        False when the queue cannot take it (the texter then gets the national helpline at
        once)."""
        now = self.clock.now()
        sealed = pending.seal(self.vault, self.hash(pending.number))
        return self.queue.enqueue("treatment.search", sealed, now, at=now + SEARCH_AGAIN_AFTER)


class Context(dict):
    """The flow's context, some of whose values are worked out the first time they are
    read: ``lazy`` maps a name to a function returning the values it settles (possibly
    none, or several names at once)."""

    def __init__(self, values: dict, lazy: dict[str, Callable[[], dict]]):
        super().__init__(values)
        self._lazy = lazy

    def _settle(self, key) -> None:
        work = self._lazy.get(key)
        if work is not None:
            for name in [name for name, other in self._lazy.items() if other is work]:
                del self._lazy[name]
            self.update(work())

    def __missing__(self, key):
        self._settle(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self._settle(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default
