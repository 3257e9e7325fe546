"""SQLite's writers, queued in order instead of sleeping and retrying (bench/README.md)."""
from __future__ import annotations

import fcntl
import logging
import os
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
                if fd != self.fd:
                    os.close(fd)
            self.mutex.release()

    def _lock_file(self, deadline: float) -> int | None:
        """The descriptor now holding the lock file, or None when waiting timed out (or the
        file cannot be opened: SQLite alone then keeps writers apart)."""
        try:
            if self.pid != os.getpid():  # opened once per process (gunicorn forks workers)
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self.fd
        except BlockingIOError:
            pass
        except OSError as exc:
            log.warning("SQLite writers are not queued: %s", exc)
            return None
        # Wait in the kernel's queue on a descriptor of its own, for at most the timeout; a
        # wait given up on lets go of the lock as soon as it gets it.
        fd = os.open(self.path, os.O_RDWR)
        got, guard, outcome = threading.Event(), threading.Lock(), []

        def wait():
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if outcome:
                    os.close(fd)
                else:
                    outcome.append(True)
            got.set()

        threading.Thread(target=wait, daemon=True).start()
        got.wait(max(0.0, deadline - time.monotonic()))
        with guard:
            if outcome:
                return fd
            outcome.append(False)
        return None
