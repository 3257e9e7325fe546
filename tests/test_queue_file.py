"""helpline.queue_file: tasks queued in the SQLite store without Huey are the tasks the
worker's Huey runs (now, or not before their time), what Huey queues itself stays in its
own format (a worker from before reads it), and a web process on the SQLite store never loads Huey, redis or
psycopg (with Redis, Huey is built at start-up as before)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from huey.registry import Message
from huey.serializer import Serializer

from .conftest import settings
from .content_copy import ROOT

SERVES = """
import json, sys
from helpline import create_app
app = create_app(json.loads(sys.argv[1]))
app.extensions["helpline"].queue.enqueue("chat.timers", 1)
print(*(name in sys.modules for name in ("huey", "redis", "psycopg")), "helpline" in app.extensions)
"""


def test_a_web_process_on_the_sqlite_store_never_loads_huey(tmp_path):
    config = settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/web.sqlite3", QUEUE_IMMEDIATE=False)
    out = subprocess.run([sys.executable, "-c", SERVES, json.dumps(config)], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={"FLASK_SKIP_DOTENV": "1", "PATH": ""}).stdout
    assert out.split() == ["False", "False", "False", "True"]


def test_a_task_queued_now_is_the_workers_task_with_its_arguments(make_app):
    queue = make_app(QUEUE_IMMEDIATE=False).extensions["helpline"].queue
    assert queue.file is not None
    assert queue.enqueue("sms.send", "sealed", "alert", None)
    task = queue.huey.dequeue()
    assert type(task) is queue.tasks["sms.send"].task_class
    assert task.args == ("sealed", "alert", None) and task.eta is None and task.retries == 0
    assert queue.huey.dequeue() is None


def test_a_task_queued_at_a_time_waits_for_it(make_app):
    helpline = make_app(QUEUE_IMMEDIATE=False).extensions["helpline"]
    queue, at = helpline.queue, helpline.clock.now() + timedelta(minutes=5)
    assert queue.enqueue("chat.timers", 7, at=at)
    assert queue.huey.pending_count() == 0 and queue.huey.scheduled_count() == 1
    assert queue.huey.read_schedule(at - timedelta(seconds=1)) == []
    [task] = queue.huey.read_schedule(at)
    assert type(task) is queue.tasks["chat.timers"].task_class
    assert task.args == (7,) and task.eta == at


def test_what_huey_queues_stays_in_its_own_format_and_is_run(make_app):
    queue = make_app(QUEUE_IMMEDIATE=False).extensions["helpline"].queue
    name = queue.huey._registry.task_to_string(queue.tasks["chat.timers"].task_class)
    message = Message("id-1", name, None, 0, 0, None, (3,), {})
    assert Serializer().deserialize(queue.huey.serializer.serialize(message)) == message
    queue.huey.storage.enqueue(Serializer().serialize(message))
    task = queue.huey.dequeue()
    assert type(task) is queue.tasks["chat.timers"].task_class and task.args == (3,)


def test_a_wrong_redis_url_still_stops_the_start_up(make_app):
    """Only the SQLite store is queued to without Huey; with Redis, Huey is built at once."""
    with pytest.raises(ValueError, match="scheme"):
        make_app(QUEUE_IMMEDIATE=False, REDIS_URL="reddis://127.0.0.1:6379/0")


def test_each_thread_keeps_its_connection_and_a_forked_process_opens_its_own(tmp_path, monkeypatch):
    import sqlite3
    import threading

    from helpline import queue_file

    store = queue_file.QueueFile(str(tmp_path / "queue.sqlite3"), "helpline")
    store.put("sms.send", ("a",))
    first = store.local.opened[1]
    store.put("sms.send", ("b",))
    assert store.local.opened[1] is first
    other = []
    thread = threading.Thread(target=lambda: (store.put("sms.send", ("c",)), other.append(store.local.opened[1])))
    thread.start()
    thread.join()
    assert other and other[0] is not first
    real = queue_file.os.getpid()
    monkeypatch.setattr(queue_file.os, "getpid", lambda: real + 1)
    store.put("sms.send", ("d",))
    assert store.local.opened[1] is not first
    with sqlite3.connect(tmp_path / "queue.sqlite3") as conn:
        assert conn.execute("select count(*) from task").fetchone()[0] == 4
