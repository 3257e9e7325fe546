"""The real thing: `flask --app helpline worker` in a process of its own, on a real queue
store (an SQLite file; Redis when one answers), escalating a waiting texter with no text
from anyone."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpline.store import Chat

from .conftest import TEXTER, Twilio, settings

ROOT = Path(__file__).resolve().parent.parent
REP, COORDINATOR = "+15555550901", "+15555550999"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sqlite-file", "redis"])
def queue_store(request, tmp_path):
    if request.param == "sqlite-file":
        yield {"QUEUE_PATH": str(tmp_path / "queue.sqlite3"), "REDIS_URL": ""}
        return
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (.ci/run starts it)")
    name = f"helpline-test-{uuid.uuid4().hex[:12]}"
    yield {"QUEUE_PATH": "", "REDIS_URL": REDIS_URL, "QUEUE_NAME": name}
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


ENV_NAMES = {"QUEUE_PATH": "HELPLINE_QUEUE_PATH", "QUEUE_NAME": "HELPLINE_QUEUE_NAME",
             "SPOOL_PATH": "HELPLINE_SPOOL_PATH"}


def wait_until(condition, seconds: float = 45.0):
    """Poll until ``condition()`` is true; the bound only stops a broken test hanging."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not true within {seconds} s")


def test_a_worker_process_escalates_a_waiting_texter_with_no_new_text(
        tmp_path, database_url, queue_store, standin):
    config = settings(tmp_path, DATABASE_URL=database_url, HELPLINE_REPRESENTATIVES=REP,
                      HELPLINE_COORDINATORS=COORDINATOR, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                      TWILIO_API_BASE=standin.url, LANGUAGE_FIRST_SECONDS=0,
                      QUEUE_IMMEDIATE=False, **queue_store)
    from helpline import create_app

    app = create_app(config)
    helpline = app.extensions["helpline"]
    twilio = Twilio(app.test_client())
    twilio.sms("hi")
    twilio.sms("0")
    with helpline.store.transaction() as db:  # as if the texter had asked 16 minutes ago
        chat = db.execute(select(Chat)).scalar_one()
        chat.created_at -= timedelta(minutes=16)
    assert standin.requests == []             # nothing has been sent: no worker yet

    env = {**os.environ, "LOG_LEVEL": "INFO", "LANGUAGE_FIRST_SECONDS": "0"}
    env.pop("HELPLINE_DEV_MODE", None)
    for name, value in config.items():
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            env[ENV_NAMES.get(name, name)] = str(value)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "helpline", "worker",
                               "--threads", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def escalated():
            with helpline.store.transaction() as db:
                return db.execute(select(Chat.escalated)).scalar_one()
        wait_until(escalated)
        wait_until(lambda: any(r["form"]["To"] == COORDINATOR for r in standin.requests))
        to_coordinator = [r["form"]["Body"] for r in standin.requests if r["form"]["To"] == COORDINATOR]
        assert "has waited 16 min and no one has accepted" in to_coordinator[0]
        wait_until(lambda: any(r["form"]["To"] == TEXTER for r in standin.requests))
        assert "number 1 in line" in next(r["form"]["Body"] for r in standin.requests
                                          if r["form"]["To"] == TEXTER)
        worker_health = wait_until(lambda: twilio.client.get("/healthz").get_json()["worker"]
                                   if twilio.client.get("/healthz").get_json()["worker"]["last_heartbeat"]
                                   else None)
        assert worker_health["stale"] is False
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        helpline.store.engine.dispose()
        print(output)  # shown when the test fails
    assert TEXTER[2:] not in output and COORDINATOR[2:] not in output and REP[2:] not in output
