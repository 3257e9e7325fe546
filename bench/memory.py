"""What a helpline worker's resident memory is made of: ``python -m bench.memory``
(bench/README.md, "#17"). Each figure is VmRSS read in fresh interpreters: every big
dependency alone on top of gunicorn's worker and Flask, then a worker loaded step by step
(each step counting only what the steps before it had not loaded), up to ``create_app()``,
the benchmark's walk, and a first ZIP code looked up; last, a worker as it serves, with
nothing imported by hand: on a database migrated beforehand (as gunicorn's workers find it),
after the benchmark's walk and after a mixed one (a ZIP code by text and by phone, a chat, a
call a representative answers, a voicemail), the figure to hold against the benchmark's."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import load
from .hotpath import call, environs
from .servers import ENCRYPTION_KEY, HASH_KEY, TOKEN, app_config

FLOOR = "import gunicorn.app.wsgiapp, gunicorn.workers.gthread, flask"
PACKAGES = [
    ("sqlalchemy", "import sqlalchemy"),
    ("sqlalchemy.orm", "import sqlalchemy.orm"),
    ("alembic (its migration runtime)", "import alembic.command, alembic.config, alembic.runtime.migration, "
                                        "alembic.operations"),
    ("psycopg", "import psycopg"),
    ("twilio: validator + twiml", "import twilio.request_validator, twilio.twiml.voice_response, "
                                  "twilio.twiml.messaging_response"),
    ("twilio.rest (Client)", "import twilio.rest"),
    ("requests (twilio.rest's; the worker's)", "import requests"),
    ("urllib3 + certifi (the locator's)", "import urllib3, certifi"),
    ("cryptography (Fernet)", "import cryptography.fernet"),
    ("yaml", "import yaml"),
    ("phonenumbers (+ its metadata, once a number is parsed)",
     "import phonenumbers; phonenumbers.parse('+12025550100')"),
    ("zipcodes", "import zipcodes; zipcodes.matching('10001')"),
    ("rapidfuzz", "import rapidfuzz, rapidfuzz.fuzz, rapidfuzz.process"),
    ("huey", "import huey"),
    ("redis", "import redis"),
    ("sentry_sdk (+flask integration)", "import sentry_sdk, sentry_sdk.integrations.flask"),
    ("flask_wtf", "import flask_wtf"),
]
CHAIN = [
    ("gunicorn's worker + flask", FLOOR),
    ("sqlalchemy (Core: the stateful baseline has this much too)", "import sqlalchemy"),
    ("sqlalchemy.orm (the console, the CLI, representatives' paths)", "import sqlalchemy.orm"),
    ("sqlalchemy's sqlite dialect (ON CONFLICT; PostgreSQL's is loaded only there)",
     "import sqlalchemy.dialects.sqlite"),
    ("cryptography (Fernet)", "import cryptography.fernet"),
    ("urllib3 + certifi (the locator)", "import urllib3, certifi"),
    ("twilio: validator, twiml", PACKAGES[4][1]),
    ("yaml", "import yaml"),
    ("phonenumbers (+ its metadata, once a number is parsed)", PACKAGES[10][1]),
    ("rapidfuzz", PACKAGES[12][1]),
    ("flask_wtf (the console's forms)", "import flask_wtf"),
    ("the rest of `import helpline` (its own modules, click, dotenv, ...)",
     "import helpline, helpline.texter, helpline.caller, helpline.sms, helpline.voice"),
    ("create_app() on SQLite migrated beforehand, as a gunicorn worker finds it: settings, content, "
     "flows, crisis data", "import tempfile; from bench.memory import serving_app; "
     "WORK = tempfile.TemporaryDirectory(prefix='helpline-memory-'); "
     "APP = serving_app(WORK.name, 'http://127.0.0.1:9')"),
    ("700 texts and 80 call steps (the benchmark's walk)",
     "from bench.memory import memory_traffic; memory_traffic(APP)"),
    ("a first ZIP code looked up (helpline/data/zip_codes.txt read)",
     "from helpline.treatment_search import locate; locate('10001')"),
]
CHILD = """
import re, sys
from pathlib import Path
def rss():
    status = Path("/proc/self/status").read_text()
    kib = [int(re.search("^" + field + r":\\s+(\\d+) kB", status, re.M)[1]) for field in ("VmRSS", "RssAnon")]
    return " ".join(f"{k / 1024:.1f}" for k in kib)
scope = {}
exec(sys.argv[1], scope)
before = rss()
for code in sys.argv[2:]:
    exec(code, scope)
    now = rss()
    print(f"{before} {now}", flush=True)
    before = now
if "APP" in scope:
    print(re.search(r"^VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text(), re.M)[1])
    big = ("sqlalchemy", "alembic", "psycopg", "twilio", "requests", "urllib3", "cryptography", "yaml", "phonenumbers",
           "zipcodes", "rapidfuzz", "huey", "redis", "sentry_sdk", "flask_wtf", "wtforms")
    print("loaded: " + ", ".join(p for p in big if p in sys.modules))
"""


def memory_traffic(app) -> None:
    for _, environ in environs(load.build("sms", 700, salt=7)) + environs(load.build("voice", 80, salt=8)):
        call(app, environ)


REP = "+15555550901"
# Each line as the simulator reads it (helpline.simulate): a texter's texts, a
# representative's as "+NUMBER: text"; a caller's keys, "say: ..." and "answer".
MIXED_TEXTS = ["hi", "1", "more", "menu", "3", "find", "10001", "menu", "0", f"{REP}: ACCEPT",
               "thank you", f"{REP}: glad you wrote", f"{REP}: DONE", "menu"]
MIXED_CALLS = [["1", "9", "3", "say: find", "say: 1 0 0 0 1", "2", "0", "answer"],
               ["0", "1", "say: please call me back tomorrow morning"]]


def serving_app(workdir: str, locator: str):
    """The app as a gunicorn worker builds it: the database seeded and migrated by another
    process (so this one, like a worker, finds the schema at head and loads no Alembic)."""
    from helpline import create_app

    work = Path(workdir)
    url = f"sqlite:///{work}/memory.sqlite3"
    subprocess.run([sys.executable, "-m", "bench.seed", url, "1000", HASH_KEY, ENCRYPTION_KEY], check=True,
                   capture_output=True, cwd=Path(__file__).resolve().parent.parent, timeout=300)
    return create_app(app_config(work, url, HELPLINE_REPRESENTATIVES=REP, RATE_LIMIT_PER_MINUTE=0,
                                 FINDTREATMENT_API_BASE=locator), instance_path=str(work / "instance"))


def mixed_traffic(app) -> None:
    """What a day brings besides menus, through the real webhooks: places near a ZIP code by
    text and by phone (the locator stand-in answers), a chat with a representative, a call a
    representative answers, a representative going off duty, a voicemail."""
    from helpline.simulate import Caller, Texter, Twilio

    twilio = Twilio(app, TOKEN)
    texter = Texter(twilio, "+12025550142", lambda line: None)
    for line in MIXED_TEXTS:
        texter.send(line)
    for number, lines in zip(("+12025550143", "+12025550144"), MIXED_CALLS, strict=True):
        caller = Caller(twilio, number, lambda line: None)
        caller.begin()
        for line in lines:
            caller.send(line)
        caller.finish()
        texter.send(f"{REP}: OFF")   # the voicemail's call finds nobody on duty


def child(setup: str, *steps: str) -> list[str]:
    env = dict(os.environ, LOG_LEVEL="WARNING")
    out = subprocess.run([sys.executable, "-c", CHILD, setup, *steps], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True, timeout=300)
    return out.stdout.splitlines()


def main() -> int:
    """Resident memory (VmRSS) import by import, each figure from fresh interpreters, and in
    brackets the private part of it (RssAnon): what each more worker adds to a dyno's memory,
    where the libraries' code is shared."""
    print("each big dependency alone, with what it imports, on top of gunicorn's worker + flask "
          "(MiB, a fresh process each; [private]):")
    for label, code in PACKAGES:
        print(f"  {_grew(child(FLOOR, code)[0])}  {label}")
    print("a worker's memory, step by step in one process (MiB; each step counts only what the ones "
          "before it did not load):")
    lines = child("", *(code for _, code in CHAIN))
    for (label, _), line in zip(CHAIN, lines, strict=False):
        print(f"  {_now(line)}  {_grew(line)}  {label}")
    print("  (a bare interpreter: " + child("", "pass")[0].split()[0] + " MiB)")
    print("a worker as it serves on SQLite, nothing imported by hand (MiB resident [private]):")
    with tempfile.TemporaryDirectory(prefix="helpline-memory-") as work, locator() as url:
        lines = child(FLOOR, f"from bench.memory import serving_app; APP = serving_app({work!r}, {url!r})",
                      CHAIN[-2][1], "from bench.memory import mixed_traffic; mixed_traffic(APP)")
    steps = ("import helpline, create_app()", "after the benchmark's walk (its VmHWM under gunicorn is this figure's)",
             "after a mixed walk: ZIP codes, a chat, calls, a voicemail (a worker in service)")
    for label, line in zip(steps, lines, strict=False):
        print(f"  {_now(line)}  {_grew(line)}  {label}")
    print(f"  {int(lines[-2]) / 1024:6.1f}  peak (VmHWM)\n  {lines[-1]}")
    return 0


def _now(line: str) -> str:
    _, _, rss, anon = map(float, line.split())
    return f"{rss:6.1f} [{anon:5.1f}]"


def _grew(line: str) -> str:
    rss_before, anon_before, rss, anon = map(float, line.split())
    return f"+{rss - rss_before:5.1f} [+{anon - anon_before:4.1f}]"


@contextmanager
def locator():
    """The tests' stand-in for FindTreatment.gov, in this process (not the measured one)."""
    from tests.locator_standin import LocatorStandIn

    standin = LocatorStandIn()
    try:
        yield standin.url
    finally:
        standin.close()


if __name__ == "__main__":
    sys.exit(main())
