"""Benchmark the real server against the floor: ``python -m bench.run`` (bench/README.md).

Starts the Procfile's ``web:`` command (gunicorn, the same flags, listening on 127.0.0.1
only) twice: once with the helpline, once with ``bench/baseline.py`` (signature check and
one static TwiML answer). For each database (SQLite, PostgreSQL) and each store size (stored
sessions seeded in bulk), it drives both servers alternately with the same kind of signed
requests at the same concurrency, on ``/sms`` and on ``/voice``, and prints requests/s, p50,
p99, errors, the app/baseline throughput ratio and each worker's peak memory.
Everything runs on loopback and stops by itself; nothing is installed.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from . import load

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
TOKEN = "bench-auth-token-" + "0" * 16
HASH_KEY = "bench-hash-key-" + "1" * 32
ENCRYPTION_KEY = Fernet.generate_key().decode()
PREFLIGHT_NUMBER = "+12025559999"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


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

    def peak_memory_mb(self) -> dict[int, float]:
        """VmHWM (peak resident set) of each worker, in MiB."""
        peaks = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if match:
                peaks[pid] = int(match[1]) / 1024
        return peaks

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


def app_env(port: int, database_url: str, workdir: Path) -> dict:
    return dict(
        os.environ, PORT=str(port), TWILIO_AUTH_TOKEN=TOKEN, HELPLINE_HASH_KEY=HASH_KEY,
        HELPLINE_ENCRYPTION_KEY=ENCRYPTION_KEY, SECRET_KEY="bench-secret",
        HELPLINE_NUMBER=load.HELPLINE, HELPLINE_TIMEZONE="America/New_York",
        DATABASE_URL=database_url, HELPLINE_SPOOL_PATH=str(workdir / f"spool-{port}.jsonl"),
        # The per-number limit (20 a minute) would throttle a generator that reuses 500 numbers.
        RATE_LIMIT_PER_MINUTE="0", HELPLINE_DEV_MODE="0")


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


# -- load ---------------------------------------------------------------------------------
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
        answer = post("/sms", load.sms_params(PREFLIGHT_NUMBER, body, f"SMpreflight{i:022d}"))
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


def drive(client: str, port: int, requests_file: Path, endpoint: str, seconds: int,
          concurrency: int, threads: int) -> load.Result:
    if client == "wrk":
        env = dict(os.environ, BENCH_REQUESTS=str(requests_file), BENCH_THREADS=str(threads),
                   BENCH_EXPECT=load.EXPECT[endpoint])
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "15s",
             "-s", str(HERE / "wrk.lua"), f"http://{HOST}:{port}/"],
            env=env, capture_output=True, text=True, timeout=seconds + 120)
        if out.returncode:
            raise RuntimeError(f"wrk failed: {out.stderr}")
        return load.parse_wrk(out.stdout)
    lines = load.read_requests(requests_file)
    return load.python_client(HOST, port, lines, load.EXPECT[endpoint], concurrency, seconds)


def start_profile(server: Server, seconds: float, out: Path, tag: str) -> list[subprocess.Popen]:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not py_spy:
        raise SystemExit("--profile needs py-spy: pip install -r bench/requirements.txt")
    procs = []
    for pid in server.workers():
        procs.append(subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
             "--gil", "--nonblocking", "--format", "raw", "--output", str(out / f"{tag}-{pid}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def finish_profile(procs: list[subprocess.Popen], out: Path, tag: str) -> None:
    for proc in procs:
        proc.wait(timeout=60)
    text = "".join(p.read_text() for p in sorted(out.glob(f"{tag}-*.txt")))
    (out / f"{tag}.collapsed.txt").write_text(text)
    lines = [f"  profile {tag} (samples holding the GIL, all workers; inclusive %, self %):"]
    for name, inclusive, own in load.summarize_collapsed(text, top=30):
        lines.append(f"    {inclusive:5.1f} {own:5.1f}  {name}")
    summary = "\n".join(lines)
    (out / f"{tag}.summary.txt").write_text(summary + "\n")
    say(summary)


# -- the run ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per case")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--endpoints", default="sms,voice")
    parser.add_argument("--sessions", default="1000,100000", help="stored sessions, per case")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--max-rps", type=int, default=6000,
                        help="requests prepared per second of load (none is ever sent twice)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", type=Path, help="py-spy the app's workers into this folder")
    parser.add_argument("--app-root", type=Path, default=ROOT,
                        help="the helpline tree to serve (its Procfile, helpline/, content/); "
                             "e.g. a `git archive` of an older commit, to compare")
    args = parser.parse_args(argv)
    args.app_root = args.app_root.resolve()

    client = args.client
    if client in ("auto", "wrk") and not shutil.which("wrk"):
        if client == "wrk":
            raise SystemExit("wrk is not installed: apt-get install -y wrk")
        say("wrk is not installed (apt-get install -y wrk): using the Python client, which "
            "takes CPU from the servers on a small machine (compare the ratios)")
        client = "python"
    elif client == "auto":
        client = "wrk"
    databases = [d for d in args.databases.split(",") if d]
    if "postgresql" in databases and not postgres_reachable(args.pg_url):
        say(f"PostgreSQL is not reachable at {args.pg_url}: skipping it")
        databases.remove("postgresql")
    endpoints = [e for e in args.endpoints.split(",") if e]
    sizes = [int(s) for s in args.sessions.split(",") if s]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    workdir = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    try:
        return run(args, client, databases, endpoints, sizes, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, client: str, databases: list[str], endpoints: list[str], sizes: list[int],
        workdir: Path) -> int:
    app_port, base_port = free_port(), free_port()
    say(f"client {client}, concurrency {args.concurrency}, {args.seconds:g}s per case "
        f"(+{args.warmup:g}s warm-up), app tree {args.app_root}, work files in {workdir}")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    files: dict[tuple[str, str, str], Path] = {}
    for name, port in (("app", app_port), ("baseline", base_port)):
        for endpoint in endpoints:
            for phase, seconds, salt in (("warm", args.warmup, 1), ("run", args.seconds, 2)):
                count = max(2000, int(args.max_rps * seconds))
                files[name, endpoint, phase] = load.write_requests(
                    workdir / f"{name}-{endpoint}-{phase}.txt",
                    load.build(endpoint, count, salt), f"http://{HOST}:{port}", TOKEN)

    results, memory = [], {}
    baseline = Server("baseline", server_argv(base_port, args.app_root, "bench.baseline:create_app()"),
                      dict(os.environ, PORT=str(base_port), TWILIO_AUTH_TOKEN=TOKEN), base_port,
                      workdir / "baseline.log", ROOT)
    started = time.monotonic()
    try:
        baseline.start()
        for kind in databases:
            for sessions in sizes:
                tag = f"{kind}-{sessions}"
                db = Database(kind, workdir, args.pg_url, str(sessions))
                db.create()
                say(f"{tag}: seeding {sessions} stored sessions")
                seed(db.url, sessions, args.app_root)
                app = Server(f"app ({tag})", server_argv(app_port, args.app_root),
                             app_env(app_port, db.url, workdir), app_port,
                             workdir / f"app-{tag}.log", args.app_root)
                try:
                    app.start()
                    preflight(app_port)
                    for endpoint in endpoints:
                        row = {"database": kind, "sessions": sessions, "endpoint": endpoint}
                        for name, server in (("baseline", baseline), ("app", app)):
                            port = server.port
                            drive(client, port, files[name, endpoint, "warm"], endpoint,
                                  args.warmup, args.concurrency, args.threads)
                            procs = []
                            if args.profile and name == "app":
                                procs = start_profile(server, args.seconds, args.profile,
                                                      f"{tag}-{endpoint}")
                            cpu = server.cpu_seconds()
                            result = drive(client, port, files[name, endpoint, "run"], endpoint,
                                           args.seconds, args.concurrency, args.threads)
                            cpu = server.cpu_seconds() - cpu
                            if procs:
                                finish_profile(procs, args.profile, f"{tag}-{endpoint}")
                            if name == "app" and result.wrapped:
                                result.errors["repeated"] = result.wrapped  # raise --max-rps
                            row[name] = result.as_dict()
                            row[name]["cpu_ms_per_request"] = round(
                                1000 * cpu / max(1, result.requests), 2)
                            say(f"  {endpoint:5} {name:8} {result.rps:7.0f} req/s  p50 "
                                f"{result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                                f"errors {result.error_count}  server CPU "
                                f"{row[name]['cpu_ms_per_request']:.2f} ms/request")
                        row["ratio"] = round(row["app"]["rps"] / row["baseline"]["rps"], 3)
                        results.append(row)
                    memory[f"app {tag}"] = app.peak_memory_mb()
                finally:
                    app.stop()
                    db.drop()
        memory["baseline"] = baseline.peak_memory_mb()
    finally:
        baseline.stop()
    elapsed = time.monotonic() - started
    loadavg = {"before": load_before, "after": Path("/proc/loadavg").read_text().split()[:3]}

    print(report(results, memory, client, args, elapsed, loadavg))
    if args.json:
        args.json.write_text(json.dumps({"client": client, "concurrency": args.concurrency,
                                         "seconds": args.seconds, "app": tree_label(args.app_root),
                                         "loadavg": loadavg, "results": results,
                                         "peak_memory_mb": memory}, indent=2))
    failed = any(r["app"]["error_count"] for r in results)
    return 1 if failed else 0


def tree_label(app_root: Path) -> str:
    """The commit served (with "+changes" when the tree differs from it), or the folder."""
    try:
        commit = subprocess.run(["git", "-C", str(app_root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(app_root), "status", "--porcelain", "--",
                                "helpline", "content", "flows", "Procfile"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + (" +changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return str(app_root)


def report(results: list[dict], memory: dict, client: str, args, elapsed: float,
           loadavg: dict) -> str:
    lines = [f"app {tree_label(args.app_root)}; client {client}, concurrency {args.concurrency}, "
             f"{args.seconds:g}s per case, {elapsed:.0f}s in all; load average before "
             f"{' '.join(loadavg['before'])}, after {' '.join(loadavg['after'])}", "",
             "| database | stored sessions | endpoint | app req/s | baseline req/s | ratio "
             "| app p50 ms | app p99 ms | baseline p99 ms | app errors | app CPU ms/req "
             "| baseline CPU ms/req |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        a, b = r["app"], r["baseline"]
        lines.append(f"| {r['database']} | {r['sessions']:,} | /{r['endpoint']} | {a['rps']:.0f} "
                     f"| {b['rps']:.0f} | {r['ratio']:.2f} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} "
                     f"| {b['p99_ms']:.1f} | {a['error_count']} | {a['cpu_ms_per_request']:.2f} "
                     f"| {b['cpu_ms_per_request']:.2f} |")
    lines += ["", "peak memory per worker (VmHWM, MiB):"]
    for name, peaks in memory.items():
        lines.append(f"  {name}: " + ", ".join(f"{mb:.0f}" for mb in peaks.values()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
