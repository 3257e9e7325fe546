"""The servers and databases of a benchmark run (bench/run.py): the Procfile's ``web:``
command started on loopback with one app or another, stopped by its own pid, its CPU and
peak memory read from /proc; a fresh SQLite file or PostgreSQL schema per case, seeded; and
the preflight that checks the app answers the way the load generator expects."""
from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from . import load

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TOKEN = "bench-auth-token-" + "0" * 16
HASH_KEY = "bench-hash-key-" + "1" * 32
ENCRYPTION_KEY = Fernet.generate_key().decode()
PREFLIGHT_NUMBER = "+12025559999"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# -- servers ------------------------------------------------------------------------------
class Server:
    """One gunicorn master started from the Procfile's command; stopped by its own pid."""

    def __init__(self, name: str, argv: list[str], env: dict, port: int, log: Path, cwd: Path):
        self.name, self.argv, self.env, self.port, self.log = name, argv, env, port, log
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        say(f"  starting {self.name}: {' '.join(self.argv)}")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200 and len(self.workers()) >= 1:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout}s; see {self.log}")

    def workers(self) -> list[int]:
        """The master's children (gunicorn's workers)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def cpu_seconds(self) -> float:
        """User and system CPU used so far by the master and its workers."""
        total = 0
        for pid in [self.proc.pid] + self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def memory_mb(self, field: str = "VmHWM") -> dict[int, float]:
        """A field of each worker's /proc status, in MiB: ``VmHWM``, its peak resident set;
        ``RssAnon``, the part no other process shares (the libraries' code, resident too,
        is one copy in memory for all the workers that map it)."""
        figures = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
            if match:
                figures[pid] = int(match[1]) / 1024
        return figures

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        workers = self.workers()
        self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of master and workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in [self.proc.pid] + workers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=5)


def server_argv(port: int, app_root: Path, app: str | None = None) -> list[str]:
    """The Procfile's web command, on loopback, with gunicorn from this Python's venv."""
    env = dict(os.environ, PORT=str(port))
    argv = load.on_loopback(load.procfile_command(app_root / "Procfile", env))
    if app:
        argv = load.with_app(argv, app)
    executable = Path(sys.executable).parent / argv[0]
    if executable.exists():
        argv[0] = str(executable)
    return argv


def app_env(port: int, database_url: str, workdir: Path, rate_limit: int = 0) -> dict:
    """The app's settings. The per-number limit is off (0) unless given: at its default (20
    texts a minute) it would throttle a generator that reuses 500 numbers."""
    return dict(
        os.environ, PORT=str(port), TWILIO_AUTH_TOKEN=TOKEN, HELPLINE_HASH_KEY=HASH_KEY,
        HELPLINE_ENCRYPTION_KEY=ENCRYPTION_KEY, SECRET_KEY="bench-secret",
        HELPLINE_NUMBER=load.HELPLINE, HELPLINE_TIMEZONE="America/New_York",
        DATABASE_URL=database_url, HELPLINE_SPOOL_PATH=str(workdir / f"spool-{port}.jsonl"),
        RATE_LIMIT_PER_MINUTE=str(rate_limit), HELPLINE_DEV_MODE="0")


def app_config(workdir: Path, database_url: str, **settings) -> dict:
    """The app's settings for one built in this process (``bench.hotpath``, ``bench.memory``),
    as :func:`app_env` gives them to the served one."""
    return {
        "TWILIO_AUTH_TOKEN": TOKEN, "HELPLINE_HASH_KEY": HASH_KEY, "HELPLINE_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SECRET_KEY": "bench", "DATABASE_URL": database_url, "SPOOL_PATH": str(workdir / "spool.jsonl"),
        "QUEUE_PATH": str(workdir / "queue.sqlite3"), "HELPLINE_DEV_MODE": False,
        "HELPLINE_NUMBER": load.HELPLINE, "HELPLINE_TIMEZONE": "America/New_York", **settings}


def baseline_env(port: int, database_url: str = "") -> dict:
    """The static baseline needs the token; the stateful one the database and the hash key."""
    env = dict(os.environ, PORT=str(port), TWILIO_AUTH_TOKEN=TOKEN, HELPLINE_HASH_KEY=HASH_KEY)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


# -- databases ----------------------------------------------------------------------------
class Database:
    """A fresh database for one case: a SQLite file, or a PostgreSQL schema dropped after."""

    def __init__(self, kind: str, workdir: Path, pg_url: str, tag: str):
        self.kind, self.pg_url = kind, pg_url
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir}/bench-{tag}.sqlite3"
            self.path = workdir / f"bench-{tag}.sqlite3"
        else:
            self.schema = f"bench_{os.getpid()}_{tag}"
            self.url = f"{pg_url}?options=-csearch_path%3D{self.schema}"

    def _admin(self):
        from sqlalchemy import create_engine

        from helpline.config import database_url

        return create_engine(database_url(self.pg_url, ""), connect_args={"connect_timeout": 3})

    def create(self) -> None:
        if self.kind == "postgresql":
            from sqlalchemy import text

            engine = self._admin()
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            engine.dispose()

    def drop(self) -> None:
        if self.kind == "postgresql":
            from sqlalchemy import text

            engine = self._admin()
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            engine.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)


def postgres_reachable(pg_url: str) -> bool:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from helpline.config import database_url

    try:
        engine = create_engine(database_url(pg_url, ""), connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except SQLAlchemyError:
        return False


def seed(url: str, sessions: int, app_root: Path) -> None:
    """bench/seed.py in the app's own tree, so its models and migrations are the ones used."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(app_root), str(ROOT)]))
    subprocess.run([sys.executable, "-m", "bench.seed", url, str(sessions), HASH_KEY, ENCRYPTION_KEY],
                   cwd=app_root, env=env, check=True, timeout=600)


# -- before the load --------------------------------------------------------------------
def preflight(port: int) -> None:
    """One texter and one caller walked by following the app's own answers: every answer is
    200 with the expected TwiML, and each action URL is the one the generator precomputes."""
    validator = RequestValidator(TOKEN)
    base = f"http://{HOST}:{port}"

    def post(path: str, params: dict) -> str:
        data = urlencode(params).encode()
        req = urllib.request.Request(base + path, data=data, headers={
            "X-Twilio-Signature": validator.compute_signature(base + path, params)})
        with urllib.request.urlopen(req, timeout=15) as r:
            if r.status != 200:
                raise RuntimeError(f"preflight {path}: HTTP {r.status}")
            return r.read().decode()

    for i, body in enumerate(load.SMS_WALK):
        answer = post("/sms", load.sms_params(PREFLIGHT_NUMBER, body, f"SM{'e' * 10}{i:022x}"))
        if load.EXPECT["sms"] not in answer:
            raise RuntimeError(f"preflight: no <Message> for {body!r}: {answer[:300]}")
    sid = "CA" + "f" * 32
    path, params = "/voice", load.voice_params(PREFLIGHT_NUMBER, sid)
    for step, (name, value) in enumerate(load.VOICE_WALK, start=1):
        answer = post(path, params)
        match = re.search(r'<Gather [^>]*action="([^"]+)"', answer)
        if not match:
            raise RuntimeError(f"preflight: no <Gather> after {path}: {answer[:300]}")
        path = html.unescape(match[1])
        if path != f"/voice/step?s={step}":
            raise RuntimeError(f"preflight: the app's action URL is {path}, the generator "
                               f"would post /voice/step?s={step}: update bench/load.py")
        params = load.voice_params(PREFLIGHT_NUMBER, sid, **{name: value})
    post(path, params)
