"""Where one webhook's time and a worker's memory go, for whoever speeds up the hot path:
``python -m bench.hotpath`` (bench/README.md, "#17").

In-process, no HTTP server: the app (``helpline.create_app``) on a fresh SQLite file seeded
as the benchmark seeds it (``bench/seed.py``), then the benchmark's own signed requests
(``bench/load.py``: 500 numbers walking the menus by text and by phone) called through the
WSGI app with prebuilt environs, so Werkzeug, Flask, the signature check and the app all run
as under gunicorn, and only gunicorn's HTTP parsing is left out. For each kind of webhook it
prints the SQL statements one takes (SQLAlchemy's ``before_cursor_execute``), the CPU per
request without a profiler, and cProfile's split of that time: own time by module group, and
the inclusive time of the app's steps. (What a worker's memory is made of: ``bench/memory.py``.)
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from . import load
from .servers import ENCRYPTION_KEY, HASH_KEY, TOKEN, Database, app_config

DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# The app's steps, by (file ending, function name): their inclusive (cumulative) time.
STEPS = [
    ("helpline/security.py", "checked", "twilio_signed: signature check + forms + the view"),
    ("twilio/request_validator.py", "validate", "RequestValidator.validate"),
    ("helpline/forms.py", "check_twilio_request", "forms.check_twilio_request"),
    ("helpline/texter.py", "receive", "texter.receive"),
    ("helpline/texter.py", "_turn", "texter._turn (a texter's menu turn)"),
    ("helpline/caller.py", "_turn", "caller._turn (a call step)"),
    ("helpline/webhook.py", "scope", "webhook.scope (enter/exit: begin, commit, after-commit work)"),
    ("helpline/spool.py", "replay", "Spool.replay"),
    ("helpline/store/lookups.py", "first_receipt", "lookups.first_receipt"),
    ("helpline/store/lookups.py", "sender", "lookups.sender (who sent it, their rows, the offer check)"),
    ("helpline/store/lookups.py", "_lock", "lookups._lock (a contact or conversation row)"),
    ("helpline/store/rows.py", "save", "Row.save (one UPDATE)"),
    ("helpline/services.py", "roster", "Services.roster"),
    ("helpline/reps.py", "find", "Roster.find"),
    ("helpline/reps.py", "on_duty", "Roster.on_duty"),
    ("helpline/reps.py", "open_chat_of_texter", "Roster.open_chat_of_texter"),
    ("helpline/services.py", "context", "Services.context"),
    ("helpline/numbers.py", "callable_number", "numbers.callable_number (phonenumbers)"),
    ("helpline/checkin.py", "accept", "checkin.accept"),
    ("helpline/treatment_search.py", "during", "TreatmentSearch.during"),
    ("helpline/treatment_search.py", "voice_context", "TreatmentSearch.voice_context"),
    ("helpline/chats.py", "offer_to_everyone", "chats.offer_to_everyone"),
    ("helpline/services.py", "record", "Services.record (events)"),
    ("helpline/engine.py", "handle", "Engine.handle (the flow engine)"),
    ("helpline/matching.py", "is_crisis", "Matcher.is_crisis"),
    ("helpline/matching.py", "crisis_kinds", "Matcher.crisis_kinds (in the engine's turn)"),
    ("helpline/crisis.py", "kinds", "crisis recogniser (Vocabulary.kinds)"),
    ("helpline/matching.py", "carrier_keyword", "Matcher.carrier_keyword"),
    ("helpline/services.py", "hash", "Services.hash (HMAC of the number)"),
    ("helpline/hours.py", "is_open", "Hours.is_open"),
    ("werkzeug/formparser.py", "parse", "Werkzeug form parsing"),
    ("sqlalchemy/orm/session.py", "execute", "Session.execute (every query, autoflush included)"),
    ("sqlalchemy/engine/base.py", "_exec_single_context", "Connection._exec_single_context (statement + driver)"),
    ("sqlalchemy/orm/session.py", "flush", "Session.flush"),
    ("sqlalchemy/orm/session.py", "commit", "Session.commit (flush included)"),
    ("helpline/twiml.py", "sms", "twiml.sms (MessagingResponse)"),
    ("helpline/voice.py", "render", "voice.render (VoiceResponse)"),
    ("helpline/sms.py", "respond", "TwiML to text (str(response))"),
    ("flask/app.py", "wsgi_app", "Flask.wsgi_app (everything)"),
]


def group(filename: str, function: str) -> str:
    """The module group a function's own time is counted in."""
    if filename == "~":
        name = function.strip("<>")
        if "sqlite3" in name:
            return "sqlite3 (C: execute, commit)"
        if "_hashlib" in name or "hmac" in name or "digest" in name:
            return "hashing (C)"
        return "builtins: " + re.sub(r" of .*", "", re.sub(r"^(built-in )?method ", "", name))[:40]
    path = filename.replace("\\", "/")
    for marker, label in (("/sqlalchemy/orm/", "sqlalchemy.orm"), ("/sqlalchemy/engine/", "sqlalchemy.engine"),
                          ("/sqlalchemy/pool/", "sqlalchemy.pool"), ("/sqlalchemy/sql/", "sqlalchemy.sql"),
                          ("/sqlalchemy/dialects/", "sqlalchemy.dialects"), ("/sqlalchemy/", "sqlalchemy (other)"),
                          ("/werkzeug/", "werkzeug"), ("/flask/", "flask"), ("/twilio/twiml/", "twilio.twiml"),
                          ("/twilio/", "twilio (signature)"), ("/psycopg/", "psycopg"),
                          ("/phonenumbers/", "phonenumbers"), ("/rapidfuzz/", "rapidfuzz"),
                          ("/zoneinfo/", "zoneinfo"), ("/json/", "json"), ("/xml/", "xml")):
        if marker in path:
            return label
    match = re.search(r"/(helpline/.+)\.py$", path)
    if match:
        return match[1].replace("/", ".")
    return "stdlib/other: " + Path(path).stem


# -- requests -----------------------------------------------------------------------------
def environs(requests: list[load.Request], base: str = "http://localhost") -> list[tuple[str, dict]]:
    """WSGI environs for signed requests, built before anything is timed."""
    from werkzeug.test import EnvironBuilder

    validator = RequestValidator(TOKEN)
    out = []
    for r in requests:
        body = urlencode(r.params).encode()
        path, _, query = r.path.partition("?")
        environ = EnvironBuilder(path=path, query_string=query, method="POST", base_url=base, data=body,
                                 content_type="application/x-www-form-urlencoded", headers={
                                     "X-Twilio-Signature": validator.compute_signature(base + r.path, r.params),
                                 }).get_environ()
        out.append((r.params.get("Body", r.path), environ))
    return out


def call(app, environ: dict) -> bytes:
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].getvalue())
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if not status[0].startswith("200"):
        raise RuntimeError(f"{environ['PATH_INFO']}: {status[0]}")
    return body


def make_app(workdir: Path, sessions: int, rate_limit: int, url: str = ""):
    """The app on ``url`` (default: a fresh SQLite file in ``workdir``), seeded first."""
    from bench.seed import seed
    from helpline import create_app

    url = url or f"sqlite:///{workdir}/hotpath.sqlite3"
    seed(url, sessions, HASH_KEY, ENCRYPTION_KEY)
    return create_app(app_config(workdir, url, RATE_LIMIT_PER_MINUTE=rate_limit),
                      instance_path=str(workdir / "instance"))


# -- the report ---------------------------------------------------------------------------
class Meter:
    """Runs requests in their order and measures those of one kind: the statements each
    takes, its CPU (no profiler), or a cProfile of it."""

    def __init__(self, app):
        self.app = app
        self.store = app.extensions["helpline"].store

    def statements(self, calls, kind) -> dict[str, list[list[str]]]:
        """label -> the statements of each request of the kind with that label."""
        current: list[str] = []

        def capture(statement, parameters, many):
            current.append(" ".join(statement.split())[:160] + (" [many]" if many else ""))

        seen: dict[str, list[list[str]]] = defaultdict(list)
        with self.store.watching(capture):
            for label, environ in calls:
                current.clear()
                call(self.app, environ)
                if kind(label):
                    seen[label].append(list(current))
        return seen

    def cpu_ms(self, calls, kind) -> float:
        spent, count = 0.0, 0
        for label, environ in calls:
            started = time.process_time()
            call(self.app, environ)
            if kind(label):
                spent, count = spent + time.process_time() - started, count + 1
        return 1000 * spent / max(1, count)

    def profile(self, calls, kind) -> tuple[pstats.Stats, int]:
        profiler, count = cProfile.Profile(), 0
        for label, environ in calls:
            if kind(label):
                profiler.enable()
                call(self.app, environ)
                profiler.disable()
                count += 1
            else:
                call(self.app, environ)
        return pstats.Stats(profiler), count


def split(stats: pstats.Stats, count: int, ms: float) -> tuple[list, list]:
    """(group, % of own time, ms per request scaled to the unprofiled CPU) and
    (step, % inclusive, ms, calls per request)."""
    total = sum(v[2] for v in stats.stats.values())
    own: Counter = Counter()
    for (filename, _line, function), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        own[group(filename, function)] += tt
    groups = [(name, 100 * t / total, ms * t / total) for name, t in own.most_common()]
    steps = []
    for suffix, function, label in STEPS:
        cum = calls = 0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if name == function and filename.replace("\\", "/").endswith(suffix):
                cum, calls = cum + ct, calls + nc
        if calls:
            steps.append((label, 100 * cum / total, ms * cum / total, calls / count))
    return groups, steps


def report_kind(title: str, meter: Meter, thirds: list, kind, sample: str, top: int) -> None:
    """Three sets of requests never seen before: statements, CPU, profile."""
    seen = meter.statements(thirds[0], kind)
    counts = Counter(len(s) for runs in seen.values() for s in runs)
    print(f"\n## {title}")
    print("statements per request (count: requests): "
          + ", ".join(f"{n}: {k}" for n, k in sorted(counts.items())))
    for label, runs in sorted(seen.items()):
        print(f"  {label!r}: {'/'.join(map(str, sorted({len(s) for s in runs})))}")
    runs = seen.get(sample) or next(iter(seen.values()))
    print(f"the statements of one request {sample!r} (the last of {len(runs)}):")
    for i, statement in enumerate(runs[-1], 1):
        print(f"  {i:2}. {statement}")
    ms = meter.cpu_ms(thirds[1], kind)
    print(f"CPU per request, no profiler: {ms:.2f} ms")
    stats, count = meter.profile(thirds[2], kind)
    groups, steps = split(stats, count, ms)
    print(f"own time by module group (cProfile, scaled to {ms:.2f} ms): % and ms per request")
    for name, pct, m in groups[:top]:
        print(f"  {pct:5.1f} %  {m:6.3f} ms  {name}")
    print("inclusive time of the app's steps: %, ms per request, calls per request")
    for label, pct, m, n in steps:
        print(f"  {pct:5.1f} %  {m:6.3f} ms  x{n:4.2f}  {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotpath", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=8000,
                        help="per kind of webhook (8,000 texts walk the whole 16-text path of 500 numbers)")
    parser.add_argument("--rate-limit", type=int, default=0, help="RATE_LIMIT_PER_MINUTE (0: off)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--postgresql", metavar="URL", nargs="?", const=DEFAULT_PG,
                        help=f"on PostgreSQL instead, in a schema of its own (default URL: {DEFAULT_PG})")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="helpline-hotpath-") as tmp:
        db = Database("postgresql", Path(tmp), args.postgresql, "hotpath") if args.postgresql else None
        if db:
            db.create()
        try:
            app = make_app(Path(tmp), args.sessions, args.rate_limit, db.url if db else "")
            try:
                run_kinds(app, args)
            finally:
                app.extensions["helpline"].store.engine.dispose()
        finally:
            if db:
                db.drop()
    return 0


def run_kinds(app, args) -> None:
    meter = Meter(app)
    n = args.requests
    sms = environs(load.build("sms", 500 + 3 * n, salt=5))
    for _, environ in sms[:500]:  # every number's first text ("hi") makes its session
        call(app, environ)
    sms_thirds = [sms[500 + i * n:500 + (i + 1) * n] for i in range(3)]
    report_kind(f"/sms, texters walking the menus ({n} requests each)", meter, sms_thirds,
                lambda label: True, "menu", args.top)
    # Calls in their order (a new call, then its steps), each third with CallSids of its own.
    steps = len(load.VOICE_WALK) + 1
    per_third = 500 * steps * max(1, n // (500 * (steps - 1)))
    voice = environs(load.build("voice", 3 * per_third, salt=6))
    voice_thirds = [voice[i * per_third:(i + 1) * per_third] for i in range(3)]
    report_kind(f"/voice/step, a key or speech ({per_third * (steps - 1) // steps} requests each)", meter,
                voice_thirds, lambda label: label != "/voice", "/voice/step?s=1", args.top)
    voice = environs(load.build("voice", 3 * per_third, salt=9))
    voice_thirds = [voice[i * per_third:(i + 1) * per_third] for i in range(3)]
    report_kind(f"/voice, a new call ({per_third // steps} requests each)", meter, voice_thirds,
                lambda label: label == "/voice", "/voice", args.top)


if __name__ == "__main__":
    sys.exit(main())
