"""For the worker, and any process that runs tasks: Huey built from the settings, reading
the helpline's clock and the tasks :mod:`helpline.queue_file` writes.

Only what runs tasks loads this module (the worker, the queue in immediate mode, a Redis
store): Huey's storage module imports redis and psycopg whenever they are installed.
"""
from __future__ import annotations

from huey import Huey
from huey.exceptions import RetryTask  # noqa: F401  (re-exported for tasks)
from huey.registry import Message
from huey.serializer import Serializer
from huey.storage import RedisStorage, SqliteStorage

from . import queue_file


class ClockedHuey(Huey):
    """Huey reading the helpline's clock, so that a test's clock decides which timers are
    due in immediate mode; in production the clock is the wall clock, as Huey's own."""

    def __init__(self, clock, *args, **kwargs):
        self.clock = clock
        super().__init__(*args, **kwargs)

    def _get_timestamp(self):
        return self.clock.now()


class TaskSerializer(Serializer):
    """Huey's own format, plus reading the tasks :mod:`helpline.queue_file` writes (plain
    data a process can queue in the SQLite store without loading Huey). What Huey writes
    stays in its format, so a worker from before reads all of it."""

    def _deserialize(self, data):
        data = super()._deserialize(data)
        fields = queue_file.fields_of(data)
        return data if fields is None else Message(**fields)


def make_huey(config: dict, clock) -> Huey:
    name = config["QUEUE_NAME"]
    common = {"results": False, "utc": True, "immediate": config["QUEUE_IMMEDIATE"],
              "serializer": TaskSerializer()}
    if config["REDIS_URL"]:
        from redis import ConnectionPool

        tls = {} if config["REDIS_TLS_VERIFY"] or not config["REDIS_URL"].startswith("rediss:") \
            else {"ssl_cert_reqs": "none"}  # Heroku Redis: TLS with a self-signed certificate
        pool = ConnectionPool.from_url(config["REDIS_URL"], socket_connect_timeout=2,
                                       socket_timeout=5, **tls)
        return ClockedHuey(clock, name, storage_class=RedisStorage, connection_pool=pool, **common)
    return ClockedHuey(clock, name, storage_class=SqliteStorage, filename=config["QUEUE_PATH"],
                       timeout=2, **common)
