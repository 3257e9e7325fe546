"""For the worker, and any process that runs tasks: Huey built from the settings, reading
the helpline's clock and storing tasks as :mod:`helpline.queue_file` writes them.

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
    """A task as plain data (:mod:`helpline.queue_file`), which a process can queue in the
    SQLite store without loading Huey; whatever else Huey keeps, and a task queued in Huey's
    own format before, as Huey pickles it."""

    def _serialize(self, data):
        if isinstance(data, Message):
            return queue_file.dumps({k: v for k, v in data._asdict().items() if v is not None})
        return super()._serialize(data)

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


