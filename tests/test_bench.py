"""The benchmark's own code on tiny inputs (nothing timed), and what the benchmark relies on
in the app: no file is read on a webhook's path, and SQLite writers queue in order."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from bench import load
from helpline.store import WriterQueue

ROOT = Path(__file__).resolve().parent.parent


def test_sms_requests_walk_every_number_in_rounds_with_unique_sids():
    numbers = load.phone_numbers(3)
    assert numbers == ["+12025550000", "+12025550001", "+12025550002"]
    requests = load.build("sms", 8, salt=7, numbers=numbers)
    assert [r.params["From"] for r in requests] == numbers * 2 + numbers[:2]
    assert [r.params["Body"] for r in requests[:6]] == [load.SMS_WALK[0]] * 3 + [load.SMS_WALK[1]] * 3
    sids = [r.params["MessageSid"] for r in requests]
    assert len(set(sids)) == len(sids) and all(len(s) == 34 for s in sids)
    assert {r.path for r in requests} == {"/sms"}


def test_voice_requests_post_each_calls_action_url_in_order():
    numbers = load.phone_numbers(2)
    steps = len(load.VOICE_WALK) + 1
    requests = load.build("voice", steps * 2 + 2, numbers=numbers)
    first_call = [r for r in requests if r.params["CallSid"] == requests[0].params["CallSid"]]
    assert [r.path for r in first_call] == ["/voice"] + [f"/voice/step?s={n}" for n in range(1, steps)]
    speech = [r for r in first_call if "SpeechResult" in r.params]
    assert len(speech) == 1 and speech[0].params["Confidence"]
    assert requests[-1].params["CallSid"] not in {r.params["CallSid"] for r in requests[:steps * 2]}


def test_request_lines_carry_a_valid_signature(tmp_path):
    requests = load.build("voice", 3)
    path = load.write_requests(tmp_path / "r.txt", requests, "http://127.0.0.1:8000", "tok")
    lines = load.read_requests(path)
    assert len(lines) == 3
    validator = RequestValidator("tok")
    for (target, signature, body), request in zip(lines, requests, strict=True):
        params = dict(parse_qsl(body, keep_blank_values=True))
        assert target == request.path and params == request.params
        assert validator.validate("http://127.0.0.1:8000" + target, params, signature)


def test_wrk_output_is_parsed():
    output = ("Running 10s test @ http://127.0.0.1:1/\n"
              'BENCH_JSON {"requests": 5000, "duration_us": 10000000, "p50_us": 12500, '
              '"p99_us": 48000, "max_us": 90000, "connect": 0, "read": 0, "write": 0, '
              '"status": 2, "timeout": 0, "bad": 1, "wrapped": 0}\n')
    result = load.parse_wrk(output)
    assert result.rps == 500 and result.p50_ms == 12.5 and result.p99_ms == 48
    assert result.errors == {"status": 2, "bad": 1} and result.error_count == 3
    with pytest.raises(ValueError):
        load.parse_wrk("no summary")


def test_percentile_and_profile_summary():
    assert load.percentile([], 99) == 0
    assert load.percentile(list(range(1, 101)), 50) == 50
    assert load.percentile(list(range(1, 101)), 99) == 99
    collapsed = "a (x.py:1);b (y.py:2) 3\na (x.py:1);c (z.py:5) 1\n"
    assert load.summarize_collapsed(collapsed) == [
        ("a (x.py)", 100.0, 0.0), ("b (y.py)", 75.0, 75.0), ("c (z.py)", 25.0, 25.0)]


def test_server_command_comes_from_the_procfile_on_loopback(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text('release: x\nweb: gunicorn --workers ${WEB_CONCURRENCY:-2} '
                        '--bind 0.0.0.0:${PORT:-5000} "helpline:create_app()"\n')
    argv = load.procfile_command(procfile, {"PORT": "8123"})
    assert argv == ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:8123", "helpline:create_app()"]
    assert load.on_loopback(argv)[4] == "127.0.0.1:8123"
    assert load.with_app(argv, "bench.baseline:create_app()")[-1] == "bench.baseline:create_app()"
    real = load.procfile_command(ROOT / "Procfile", {"PORT": "1"})
    assert real[0] == "gunicorn" and real[-1] == "helpline:create_app()"


def test_baseline_checks_the_signature(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    from bench.baseline import create_app

    client = create_app().test_client()
    params = load.sms_params("+12025550000", "hi", "SM" + "0" * 32)
    signature = RequestValidator("tok").compute_signature("http://localhost/sms", params)
    assert client.post("/sms", data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.post("/sms", data=params, headers={"X-Twilio-Signature": "bad"}).status_code == 403


# -- what the benchmark relies on in the app -------------------------------------------------
_watching: list[str] = []


def _audit(event: str, args) -> None:
    if _watching and event in ("open", "os.listdir", "os.scandir", "sqlite3.connect"):
        _watching.append(f"{event} {args[0] if args else ''}")


sys.addaudithook(_audit)


def test_no_file_is_opened_on_a_webhooks_path(twilio):
    """Start-up loaded content and flows; a text or a call step after the first opens nothing
    (and the database connection is reused from the pool)."""
    for body in ("hi", "1", "more"):
        twilio.text(body)
    twilio.call("/voice")
    _watching.append("start")
    try:
        for body in ("menu", "3", "2", "back", "sources", "espanol", "english"):
            twilio.text(body)
        twilio.call("/voice")
        twilio.call("/voice/step", Digits="1")
        twilio.call("/voice/step", SpeechResult="treatment", Confidence="0.9")
    finally:
        opened = _watching[1:]
        _watching.clear()
    assert opened == []


def test_sqlite_writers_queue_across_processes_and_threads(tmp_path):
    lock = str(tmp_path / "db.sqlite3.lock")
    first, second = WriterQueue(lock, 5), WriterQueue(lock, 5)  # as two processes would
    order: list[str] = []
    inside = threading.Event()

    def hold():
        with first.turn():
            inside.set()
            time.sleep(0.2)
            order.append("first done")

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(5)
    with second.turn():
        order.append("second in")
        with second.turn():  # a transaction within a transaction does not wait for itself
            order.append("nested in")
    holder.join()
    assert order == ["first done", "second in", "nested in"]


def test_a_writer_that_queued_too_long_goes_on_to_sqlite(tmp_path):
    lock = str(tmp_path / "db.sqlite3.lock")
    stuck, waiting = WriterQueue(lock, 5), WriterQueue(lock, 0.2)
    release = threading.Event()
    inside = threading.Event()

    def hold():
        with stuck.turn():
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(5)
    started = time.monotonic()
    with waiting.turn():
        waited = time.monotonic() - started
    release.set()
    holder.join()
    assert 0.15 < waited < 2
    started = time.monotonic()
    with waiting.turn():  # the abandoned wait let go of the lock once it had it
        pass
    assert time.monotonic() - started < 1


def test_a_process_waits_for_the_lock_file_with_one_thread_however_often_it_waits(tmp_path, monkeypatch):
    """Starting a thread for every wait cost a webhook more than its statements under load."""
    from helpline.store import sqlite_writers

    started = []
    start = threading.Thread.start
    monkeypatch.setattr(sqlite_writers.threading.Thread, "start",
                        lambda thread: (started.append(thread.name), start(thread)))
    lock = str(tmp_path / "db.sqlite3.lock")
    other, waiting = WriterQueue(lock, 5), WriterQueue(lock, 5)  # as two processes would
    for _ in range(5):
        inside, release = threading.Event(), threading.Event()

        def hold(inside, release):
            with other.turn():
                inside.set()
                release.wait(5)

        holder = threading.Thread(target=hold, args=(inside, release))
        holder.start()
        inside.wait(5)
        threading.Timer(0.05, release.set).start()
        with waiting.turn():
            assert release.is_set()     # it did wait for the other process
        holder.join()
    assert started.count("sqlite-writers") == 1
    assert len(started) == 1 + 5 * 2    # and the test's own holders and timers


def test_a_webhooks_lookups_use_indexes_as_the_store_grows(tmp_path):
    """Every statement of a text and of a call step, planned by SQLite: tables that grow with
    the number of people (conversations, contacts, receipts, chats, events, callbacks,
    voicemails) are searched by index, never scanned, so latency does not grow with them."""
    from helpline import create_app
    from tests.conftest import Twilio, settings

    app = create_app(settings(tmp_path))
    twilio = Twilio(app.test_client())
    twilio.text("hi")
    twilio.call("/voice")
    store = app.extensions["helpline"].store
    seen: list[tuple[str, object]] = []

    def capture(statement, parameters, many):
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, parameters))

    with store.watching(capture):
        for body in ("1", "more", "menu", "0"):
            twilio.text(body)
        twilio.call("/voice/step", Digits="1")
    assert len(seen) > 10
    growing = ("conversations", "contacts", "receipts", "chats", "events", "callbacks", "voicemails")
    scans = []
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, parameters in seen:
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall():
                detail = row[-1]
                if detail.startswith("SCAN") and detail.split()[1] in growing:
                    scans.append((detail, statement.split("\n")[0][:120]))
    store.engine.dispose()
    assert scans == []


def test_compare_averages_runs_and_lines_them_up(tmp_path):
    from bench import compare

    def run(path, rps, p99, stateful_rps=None):
        app = {"rps": rps, "p50_ms": 10, "p99_ms": p99, "error_count": 0, "cpu_ms_per_request": 2}
        row = {"database": "sqlite", "sessions": 1000, "endpoint": "sms", "app": app,
               "baseline": {"rps": 1000}, "ratio": rps / 1000}
        rows = [row]
        if stateful_rps:
            row.update(rate_limit=0, stateful={"rps": stateful_rps, "cpu_ms_per_request": 0.5},
                       stateful_ratio=rps / stateful_rps)
            rows.append(dict(row, rate_limit=145))
        path.write_text(__import__("json").dumps({"results": rows}))
        return path

    before = compare.averaged([run(tmp_path / "b1.json", 100, 900), run(tmp_path / "b2.json", 300, 700)])
    after = compare.averaged([run(tmp_path / "a.json", 500, 40, stateful_rps=625)])
    assert before[("sqlite", 1000, "sms", False)]["rps"] == 200
    table = compare.table(before, after)
    assert ("| sqlite | 1,000 | /sms | off | 200 → 500 | - → 625 | - → 0.80 | 0.20 → 0.50 | 10 → 10 "
            "| 800 → 40 | 2.00 → 2.00 | - → 0.50 | 0 → 0 |") in table
    assert "| on |" not in table  # no rate-limited case before: nothing to compare it with
    assert len(compare.averaged([tmp_path / "a.json"])) == 2
    assert "| sqlite | 1,000 | /sms | off | 500 / 625 / 1000 | 0.80 | 0.50 | 10 | 40 | 2.00 / 0.50 | 0 |" in (
        compare.one_side(after))


def test_stateful_baseline_acts_once_per_webhook_and_keeps_one_row_per_number(monkeypatch, database_url):
    """On SQLite and PostgreSQL: a retried MessageSid (or call step) is answered but not acted
    on again, and each number has one session row whatever it sends."""
    from sqlalchemy import select

    from bench import stateful_baseline

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HELPLINE_HASH_KEY", "k" * 32)
    app = stateful_baseline.create_app()
    webhook = app.extensions["stateful_baseline"]
    client, validator = app.test_client(), RequestValidator("tok")

    def post(path, params):
        signature = validator.compute_signature("http://localhost" + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)

    first, second = "+12025550000", "+12025550001"
    assert "<Message>" in post("/sms", load.sms_params(first, "hi", "SM" + "1" * 32))
    assert "<Message>" not in post("/sms", load.sms_params(first, "hi", "SM" + "1" * 32))  # Twilio's retry
    assert "<Message>" in post("/sms", load.sms_params(first, "1", "SM" + "2" * 32))
    assert "<Message>" in post("/sms", load.sms_params(second, "hi", "SM" + "3" * 32))
    call = "CA" + "a" * 32
    assert "<Gather" in post("/voice", load.voice_params(first, call))
    assert "<Gather" in post("/voice/step?s=1", load.voice_params(first, call, Digits="1"))
    assert "<Gather" not in post("/voice/step?s=1", load.voice_params(first, call, Digits="1"))
    signature = validator.compute_signature("http://localhost/sms", {"From": first})
    assert client.post("/sms", data={"From": first}, headers={"X-Twilio-Signature": "bad"}).status_code == 403
    assert client.post("/sms", data={"From": first}, headers={"X-Twilio-Signature": signature}).status_code == 400

    sessions, key = stateful_baseline.sessions, webhook.key
    with webhook.engine.connect() as conn:
        rows = conn.execute(select(sessions.c.channel, sessions.c.number_hash, sessions.c.turns,
                                   sessions.c.state)).all()
        receipts = conn.execute(select(stateful_baseline.receipts.c.sid)).scalars().all()
    webhook.engine.dispose()
    assert sorted((r.channel, r.number_hash, r.turns) for r in rows) == sorted([
        ("sms", stateful_baseline.keyed_hash(key, first), 2),
        ("sms", stateful_baseline.keyed_hash(key, second), 1),
        ("voice", stateful_baseline.keyed_hash(key, first), 2)])
    assert all(r.state == stateful_baseline.STATE for r in rows)
    assert len(receipts) == 5 and f"{call}/1" in receipts


def test_stateful_baseline_seeds_its_own_tables(tmp_path):
    from sqlalchemy import func, select

    from bench import stateful_baseline

    url = f"sqlite:///{tmp_path}/seed.sqlite3"
    stateful_baseline.seed(url, 12, "k" * 32)
    engine = stateful_baseline.engine_for(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(stateful_baseline.sessions)).scalar_one()
    engine.dispose()
    assert count == 12


def test_the_rate_limit_stays_above_what_one_number_sends():
    from types import SimpleNamespace

    from bench import run

    args = SimpleNamespace(warmup=2, seconds=10, max_rps=6000)
    limit = run.rate_limit_above_load(args)
    sent = load.build("sms", 6000 * 2, salt=3) + load.build("sms", 6000 * 10, salt=4)
    per_number: dict[str, int] = {}
    for request in sent:
        per_number[request.params["From"]] = per_number.get(request.params["From"], 0) + 1
    assert max(per_number.values()) < limit


def test_hotpath_counts_a_webhooks_statements_and_groups_its_time(tmp_path):
    from bench import hotpath

    app = hotpath.make_app(tmp_path, 10, 0)
    try:
        meter = hotpath.Meter(app)
        calls = hotpath.environs(load.build("sms", 2, numbers=load.phone_numbers(1)))
        assert [label for label, _ in calls] == ["hi", "1"]
        seen = meter.statements(calls, lambda label: label == "1")
        assert list(seen) == ["1"] and any("INSERT INTO receipts" in s for s in seen["1"][0])
        assert meter.cpu_ms(hotpath.environs(load.build("sms", 1, salt=1, numbers=load.phone_numbers(1))),
                            lambda label: True) > 0
    finally:
        app.extensions["helpline"].store.engine.dispose()
    assert hotpath.group("/x/site-packages/sqlalchemy/orm/session.py", "flush") == "sqlalchemy.orm"
    assert hotpath.group("/work/helpline/reps.py", "find") == "helpline.reps"
    assert hotpath.group("~", "<method 'execute' of 'sqlite3.Cursor' objects>") == "sqlite3 (C: execute, commit)"
