"""What a helpline worker's resident memory is made of: ``python -m bench.memory``
(bench/README.md, "#17"). Each figure is VmRSS read in fresh interpreters: every big
dependency alone on top of gunicorn's worker and Flask, then a worker loaded step by step
(each step counting only what the steps before it had not loaded), up to ``create_app()``,
the benchmark's walk, and a first ZIP code looked up."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import load
from .hotpath import call, environs, make_app

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
    ("requests", "import requests"),
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
    ("sqlalchemy + sqlalchemy.orm", "import sqlalchemy, sqlalchemy.orm"),
    ("sqlalchemy's postgresql dialect (the store imports it for ON CONFLICT)",
     "import sqlalchemy.dialects.postgresql, sqlalchemy.dialects.sqlite"),
    ("alembic's runtime (migrations at start-up)", PACKAGES[2][1]),
    ("psycopg", "import psycopg"),
    ("redis", "import redis"),
    ("huey (without redis and psycopg)", "import huey, huey.storage"),
    ("cryptography (Fernet)", "import cryptography.fernet"),
    ("requests", "import requests"),
    ("twilio: validator, twiml, rest", PACKAGES[4][1] + ", twilio.rest"),
    ("yaml, phonenumbers, rapidfuzz",
     "import yaml, phonenumbers, rapidfuzz.fuzz, rapidfuzz.process"),
    ("sentry_sdk, flask_wtf", "import sentry_sdk, sentry_sdk.integrations.flask, flask_wtf"),
    ("the rest of `import helpline` (its own modules, click, dotenv, ...)",
     "import helpline, helpline.texter, helpline.caller, helpline.sms, helpline.voice, helpline.worker, "
     "helpline.cli"),
    ("create_app() on SQLite: settings, content, flows, crisis data, migrations",
     "from bench.memory import memory_app; APP = memory_app()"),
    ("700 texts and 80 call steps (the benchmark's walk)",
     "from bench.memory import memory_traffic; memory_traffic(APP)"),
    ("a first ZIP code looked up (helpline/data/zip_codes.txt read)",
     "from helpline.treatment_search import locate; locate('10001')"),
]
CHILD = """
import re, sys
from pathlib import Path
def rss():
    return int(re.search(r"^VmRSS:\\s+(\\d+) kB", Path("/proc/self/status").read_text(), re.M)[1]) / 1024
scope = {}
exec(sys.argv[1], scope)
before = rss()
for code in sys.argv[2:]:
    exec(code, scope)
    now = rss()
    print(f"{before:.1f} {now:.1f}", flush=True)
    before = now
if "APP" in scope:
    big = ("sqlalchemy", "alembic", "psycopg", "twilio", "requests", "cryptography", "yaml", "phonenumbers",
           "zipcodes", "rapidfuzz", "huey", "redis", "sentry_sdk", "flask_wtf", "wtforms")
    print("loaded: " + ", ".join(p for p in big if p in sys.modules))
"""


def memory_app():
    return make_app(Path(tempfile.mkdtemp(prefix="helpline-memory-")), 1000, 0)


def memory_traffic(app) -> None:
    for _, environ in environs(load.build("sms", 700, salt=7)) + environs(load.build("voice", 80, salt=8)):
        call(app, environ)


def child(setup: str, *steps: str) -> list[str]:
    env = dict(os.environ, LOG_LEVEL="WARNING")
    out = subprocess.run([sys.executable, "-c", CHILD, setup, *steps], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True, timeout=300)
    return out.stdout.splitlines()


def main() -> int:
    """Resident memory (VmRSS) import by import, each figure from fresh interpreters."""
    print("each big dependency alone, with what it imports, on top of gunicorn's worker + flask "
          "(MiB, a fresh process each):")
    for label, code in PACKAGES:
        before, after = map(float, child(FLOOR, code)[0].split())
        print(f"  +{after - before:5.1f}  {label}")
    print("a worker's memory, step by step in one process (MiB; each step counts only what the ones "
          "before it did not load):")
    lines = child("", *(code for _, code in CHAIN))
    for (label, _), line in zip(CHAIN, lines, strict=False):
        before, after = map(float, line.split())
        print(f"  {after:6.1f}  +{after - before:5.1f}  {label}")
    print("  (a bare interpreter: " + child("", "pass")[0].split()[0] + " MiB)")
    loaded = child(FLOOR, CHAIN[-4][1], CHAIN[-3][1])[-1]
    print(f"  what a worker on SQLite has {loaded} (after create_app, nothing imported by hand)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
