"""For every process that queues work in the SQLite queue store (no ``REDIS_URL``): a task
written as the row Huey's consumer reads, without loading Huey.

Huey's storage module imports redis and psycopg whenever they are installed (about 16 MiB a
process), and queueing a task needs none of it: one ``INSERT`` into the ``task`` table (now)
or the ``schedule`` table (at a time) of Huey's ``SqliteStorage``, with the task as plain data
that :class:`helpline.queue_huey.TaskSerializer` turns into Huey's message in the worker (a
worker from before this module cannot read them: upgrade the worker with the web). The
tables are Huey's own (``huey/storage.py``, 3.5); ``tests/test_queue_file.py`` has the worker's
Huey run what this module wrote, so a Huey that changes them fails there first.
"""
from __future__ import annotations

import os
import pickle
import sqlite3
import threading
import uuid
from contextlib import closing
from datetime import datetime

# What Huey's SqliteStorage creates, word for word ("if not exists": whichever process
# starts first makes them, the other finds them).
TABLES = (
    "create table if not exists schedule (id integer not null primary key, queue text not null, "
    "data blob not null, timestamp real not null)",
    "create index if not exists schedule_queue_timestamp on schedule (queue, timestamp)",
    "create table if not exists task (id integer not null primary key, queue text not null, "
    "data blob not null, priority real not null default 0.0)",
    "create index if not exists task_queue_priority_id on task (queue, priority desc, id)",
)
MARK = "helpline.task"       # a task's data begins with it: (MARK, fields)
TASK_MODULE = "helpline.queue"  # Huey names a task "<module of its function>.<name>"


def dumps(fields: dict) -> bytes:
    """A task's fields (those of Huey's message that are set) as stored."""
    return pickle.dumps((MARK, fields), pickle.HIGHEST_PROTOCOL)


def fields_of(data) -> dict | None:
    """The fields :func:`dumps` stored, or None for anything else Huey keeps."""
    if isinstance(data, tuple) and len(data) == 2 and data[0] == MARK:
        return data[1]
    return None


class QueueFile:
    def __init__(self, path: str, name: str, timeout: float = 2):
        self.path, self.name, self.timeout = path, name, timeout
        self.local = threading.local()   # a connection per thread, opened at its first task
        with closing(self._connect()) as conn:
            conn.execute('pragma journal_mode="wal"')
            for ddl in TABLES:
                conn.execute(ddl)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, kept (a webhook that queues work does not open the file
        again), and never one a forked process inherited."""
        pid, conn = getattr(self.local, "opened", (0, None))
        if pid != os.getpid():
            conn = self._connect()
            self.local.opened = (os.getpid(), conn)
        return conn

    def put(self, name: str, args: tuple, at: datetime | None = None) -> None:
        """Queue the task ``name`` with ``args``: now, or at ``at`` (naive UTC)."""
        fields = {"id": str(uuid.uuid4()), "name": f"{TASK_MODULE}.{name}", "args": tuple(args), "kwargs": {}}
        if at is None:
            self._connection().execute("insert into task (queue, data, priority) values (?, ?, ?)",
                                       (self.name, dumps(fields), 0))
        else:
            # Huey keeps a time as naive UTC and stores its .timestamp(), as here.
            self._connection().execute("insert into schedule (queue, data, timestamp) values (?, ?, ?)",
                                       (self.name, dumps({**fields, "eta": at}), at.timestamp()))
