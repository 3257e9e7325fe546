"""For every webhook on SQLite: its writers queued in order instead of sleeping and retrying
(bench/README.md)."""
from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
from contextlib import contextmanager

log = logging.getLogger(__name__)


class WriterQueue:
    """SQLite has one writer at a time, and every transaction here is one (BEGIN IMMEDIATE).
    Left to SQLite, waiting writers sleep and retry, up to 100 ms at a time and in no order:
    under a surge some webhooks waited over a second. Here they queue instead, threads on a
    lock and processes on a lock file beside the database, each woken as soon as the writer
    before it is done. This only orders writers; SQLite's own lock still keeps them apart,
    and one that has queued for ``timeout`` seconds goes on to SQLite, which decides as before.
    """

    def __init__(self, path: str, timeout: float):
        self.path, self.timeout = path, timeout
        self.mutex = threading.Lock()  # one writer per process reaches the lock file
        self.inside = threading.local()
        self.fd, self.pid = -1, 0
        self.waiter: _Waiter | None = None

    @contextmanager
    def turn(self):
        if getattr(self.inside, "turn", False):  # a transaction within a transaction
            yield
            return
        deadline = time.monotonic() + self.timeout
        if not self.mutex.acquire(timeout=self.timeout):
            yield
            return
        fd = None
        try:
            fd = self._lock_file(deadline)
            self.inside.turn = True
            yield
        finally:
            self.inside.turn = False
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self.mutex.release()

    def _lock_file(self, deadline: float) -> int | None:
        """The descriptor now holding the lock file, or None when waiting timed out (or the
        file cannot be opened: SQLite alone then keeps writers apart)."""
        try:
            if self.pid != os.getpid():  # opened once per process (gunicorn forks workers)
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
                self.waiter = None
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self.fd
        except BlockingIOError:
            self.waiter = self.waiter or _Waiter(self.path)
            return self.waiter.wait(deadline)
        except OSError as exc:
            log.warning("SQLite writers are not queued: %s", exc)
            return None


class _Wait:
    """One writer's wait; whoever settles it first (the lock granted, or the deadline) wins."""

    def __init__(self):
        self.done, self.guard, self.granted = threading.Event(), threading.Lock(), None

    def settle(self, granted: bool) -> bool:
        with self.guard:
            if self.granted is None:
                self.granted = granted
                self.done.set()
            return self.granted is granted


class _Waiter:
    """A thread of the process's own that waits in the kernel's queue for the lock file, on a
    descriptor of its own, for the writer whose turn it is: a blocking ``flock`` has no
    timeout, and starting a thread for every wait cost a webhook more than its statements
    under load (bench/README.md). At most one writer per process waits at a time (the
    queue's mutex), so one thread serves them all; a wait given up on lets go of the lock as
    soon as it gets it."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR)
        self.waits: queue.SimpleQueue[_Wait] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="sqlite-writers", daemon=True).start()

    def wait(self, deadline: float) -> int | None:
        wait = _Wait()
        self.waits.put(wait)
        wait.done.wait(max(0.0, deadline - time.monotonic()))
        return None if wait.settle(False) else self.fd   # False: the deadline came first

    def _serve(self) -> None:
        while True:
            wait = self.waits.get()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            if not wait.settle(True):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
