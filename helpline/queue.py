"""The task queue: work done later, or again, by the worker process
(``flask --app helpline worker``, the Procfile's ``worker:``), on Huey.

The queue store is an SQLite file next to the app's data (``HELPLINE_QUEUE_PATH``, default
``instance/queue.sqlite3``) or, with ``REDIS_URL`` set, Redis, which several worker dynos
can share. On the SQLite store every process queues through :mod:`helpline.queue_file`,
and only what runs tasks (the worker, the queue in immediate mode) loads Huey
(:mod:`helpline.queue_huey`). A webhook never waits on the store: :meth:`Queue.enqueue`
logs what it cannot queue and returns, and the worker's minute sweep
(:mod:`helpline.worker`) finds from the database whatever timer was not queued.

Defining a task, in any module imported by :mod:`helpline.worker`::

    from .queue import task

    @task("treatment.search")
    def search(helpline, request_id: int) -> None:
        ...  # runs in the worker; open a transaction with helpline.store.transaction()

and queueing it, from a webhook once its transaction is over (``Scope.later``, :mod:`helpline.webhook`), or anywhere::

    helpline.queue.enqueue("treatment.search", request_id)          # as soon as possible
    helpline.queue.enqueue("chat.timers", chat_id, at=when)          # at a time (naive UTC)

Arguments rest in the queue store as they are: pass database ids, or seal what must not be
read there with ``helpline.vault`` (:func:`helpline.worker.send_sms` does). A task may run
twice (a retry, two workers, the sweep): it reads the database and acts only if its work
is still to be done. ``raise RetryTask(eta=...)`` runs it again later.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from . import queue_file

if TYPE_CHECKING:
    from huey import Huey, crontab

log = logging.getLogger(__name__)

TASKS: dict[str, Callable] = {}
PERIODIC: dict[str, tuple[crontab, Callable]] = {}


def task(name: str):
    """Register ``func(helpline, *args)`` as the task ``name``."""
    def register(func):
        TASKS[name] = func
        return func
    return register


def periodic(name: str, schedule: crontab):
    """Register ``func(helpline)`` to run on the worker's own schedule (UTC crontab)."""
    def register(func):
        PERIODIC[name] = (schedule, func)
        return func
    return register


@dataclass(frozen=True)
class Later:
    """Work a webhook leaves for the queue, queued once its transaction has committed."""

    name: str
    args: tuple = ()
    at: datetime | None = None


def aware(at: datetime) -> datetime:
    """Huey reads a naive time as local time; ours are naive UTC."""
    return at.replace(tzinfo=UTC)


class Queue:
    """Tasks queued, by the web process and the worker alike; Huey, its tasks and its
    consumer are built when first used: a web process on the SQLite store queues through
    :class:`~helpline.queue_file.QueueFile` and never loads Huey (nor the redis and psycopg
    its storage module imports)."""

    def __init__(self, helpline, config: dict):
        self.helpline, self.config = helpline, config
        self.vault, self.clock = helpline.vault, helpline.clock
        self.file = None if config["REDIS_URL"] or config["QUEUE_IMMEDIATE"] else \
            queue_file.QueueFile(config["QUEUE_PATH"], config["QUEUE_NAME"])
        if config["REDIS_URL"] and not config["QUEUE_IMMEDIATE"]:
            self.huey  # noqa: B018  (queued through Huey: a wrong REDIS_URL stops the start-up)

    @cached_property
    def _built(self) -> tuple[Huey, dict, list]:
        from . import worker  # noqa: F401  (defines the tasks)
        from .queue_huey import make_huey

        huey = make_huey(self.config, self.clock)
        tasks = {name: huey.task(name=name)(self._bind(self.helpline, func)) for name, func in TASKS.items()}
        periodic = [huey.periodic_task(schedule, name=name)(self._bind(self.helpline, func))
                    for name, (schedule, func) in PERIODIC.items()]
        return huey, tasks, periodic

    @property
    def huey(self) -> Huey:
        return self._built[0]

    @property
    def tasks(self) -> dict:
        return self._built[1]

    @property
    def periodic(self) -> list:
        return self._built[2]

    @staticmethod
    def _bind(helpline, func):
        def run(*args):
            return func(helpline, *args)
        return run

    def enqueue(self, name: str, *args, at: datetime | None = None) -> bool:
        """Queue a task; False (logged, nothing personal) when the store cannot be reached."""
        try:
            if self.file is not None:
                self.file.put(name, args, at)
            elif at is None:
                self.tasks[name](*args)
            else:
                self.tasks[name].schedule(args, eta=aware(at))
            return True
        except Exception as exc:  # the store's own errors: redis, sqlite3, huey
            log.error("task %s could not be queued (%s): the worker's sweep or a log "
                      "reader must pick it up", name, type(exc).__name__)
            return False

    def texts(self, messages, kind: str, texter_hash: str | None = None) -> list[Later]:
        """``(number, text)`` pairs as sends for the worker (``sms.send``). Number and text
        are sealed with HELPLINE_ENCRYPTION_KEY: the queue store never holds them readable.
        ``kind`` names them in logs; a ``texter_hash`` has the send check for an opt-out."""
        now = self.clock.now()
        return [Later("sms.send", (self.vault.encrypt(json.dumps(
            {"to": to, "body": text, "hash": texter_hash})), kind, now)) for to, text in messages]

    def send_texts(self, messages, kind: str, texter_hash: str | None = None) -> None:
        self.enqueue_all(self.texts(messages, kind, texter_hash))

    def enqueue_all(self, later: list[Later]) -> None:
        for item in later:
            self.enqueue(item.name, *item.args, at=item.at)

    def run_due(self, now: datetime, periodic: bool = True) -> int:
        """Run what the consumer would at ``now``: scheduled tasks whose time has come, then
        (``periodic``) every periodic task. For the queue in immediate mode (tests)."""
        ran = 0
        while due := self.huey.read_schedule(now):
            for item in due:
                self.huey.execute(item, now)
                ran += 1
        for wrapper in self.periodic if periodic else ():
            self.huey.execute(wrapper.s(), now)
            ran += 1
        return ran

    def consumer(self, threads: int):
        """SIGTERM (Heroku, honcho) lets the tasks under way finish; SIGINT stops at once."""
        return self.huey.create_consumer(workers=threads, worker_type="thread", periodic=True,
                                         max_delay=2.0, check_worker_health=True,
                                         graceful_signal="TERM")
