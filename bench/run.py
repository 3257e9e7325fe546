"""Benchmark the real server against two floors: ``python -m bench.run`` (bench/README.md).

Starts the Procfile's ``web:`` command (gunicorn, the same flags, listening on 127.0.0.1
only) three times: with the helpline; with ``bench/baseline.py`` (the static baseline:
signature check and one static TwiML answer); and with ``bench/stateful_baseline.py`` (the
stateful baseline: the static one plus one transaction on the app's database that dedups the
webhook and upserts the sender's session row). For each database (SQLite, PostgreSQL) and
each store size (stored sessions seeded in bulk), it drives the three alternately with the
same kind of signed requests at the same concurrency, on ``/sms`` and on ``/voice``, and
once more on ``/sms`` with the app's per-number rate limit on, set above anything one number
sends. It prints requests/s, p50, p99, errors and server CPU per request for each, the ratios
app/stateful and app/static, and each worker's peak memory.
Everything runs on loopback and stops by itself; nothing is installed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import load, stateful_baseline
from .compare import report, tree_label
from .servers import (
    HASH_KEY,
    HOST,
    ROOT,
    TOKEN,
    Database,
    Server,
    app_env,
    baseline_env,
    free_port,
    postgres_reachable,
    preflight,
    say,
    seed,
    server_argv,
)

HERE = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SIDES = ("static", "stateful", "app")


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
    parser.add_argument("--no-rate-limit-case", dest="rate_limit_case", action="store_false",
                        help="skip the /sms case with the app's per-number limit on")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--max-rps", type=int, default=6000,
                        help="requests prepared per second of load (none is ever sent twice)")
    parser.add_argument("--ports", type=int, default=0,
                        help="the servers listen on this port and the next two (default: any free)")
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


def request_files(args, endpoints: list[str], ports: dict[str, int], workdir: Path) -> dict:
    """(side, endpoint, phase, limited) -> a file of signed requests for that side's port.
    The rate-limited case has MessageSids of its own: it runs on the same database after the
    first, where the same ones would be Twilio's retries."""
    files = {}
    for side, port in ports.items():
        for endpoint in endpoints:
            for limited in (False, True) if endpoint == "sms" else (False,):
                for phase, seconds, salt in (("warm", args.warmup, 1), ("run", args.seconds, 2)):
                    count = max(2000, int(args.max_rps * seconds))
                    files[side, endpoint, phase, limited] = load.write_requests(
                        workdir / f"{side}-{endpoint}-{phase}-{int(limited)}.txt",
                        load.build(endpoint, count, salt + 2 * limited), f"http://{HOST}:{port}", TOKEN)
    return files


def rate_limit_above_load(args) -> int:
    """A per-number limit no number of the load reaches: every number sends at most its
    share of the warm-up and measured requests (none is sent twice), all within a minute."""
    sent = sum(max(2000, int(args.max_rps * s)) for s in (args.warmup, args.seconds))
    return math.ceil(sent / load.NUMBERS) + 1


def measure(args, client: str, server: Server, files: dict, key: tuple, endpoint: str,
            profile_tag: str | None) -> dict:
    side = key[0]
    drive(client, server.port, files[key[:2] + ("warm",) + key[2:]], endpoint, args.warmup,
          args.concurrency, args.threads)
    procs = start_profile(server, args.seconds, args.profile, profile_tag) if profile_tag else []
    cpu = server.cpu_seconds()
    result = drive(client, server.port, files[key[:2] + ("run",) + key[2:]], endpoint, args.seconds,
                   args.concurrency, args.threads)
    cpu = server.cpu_seconds() - cpu
    if procs:
        finish_profile(procs, args.profile, profile_tag)
    if side != "static" and result.wrapped:
        result.errors["repeated"] = result.wrapped  # a retry for these servers: raise --max-rps
    figures = result.as_dict()
    figures["cpu_ms_per_request"] = round(1000 * cpu / max(1, result.requests), 3)
    say(f"  {endpoint:5} {side:8} {result.rps:7.0f} req/s  p50 {result.p50_ms:6.1f} ms  p99 "
        f"{result.p99_ms:6.1f} ms  errors {result.error_count}  server CPU "
        f"{figures['cpu_ms_per_request']:.2f} ms/request")
    return figures


def run(args, client: str, databases: list[str], endpoints: list[str], sizes: list[int],
        workdir: Path) -> int:
    ports = ({side: args.ports + i for i, side in enumerate(SIDES)} if args.ports
             else {side: free_port() for side in SIDES})
    limit = rate_limit_above_load(args)
    say(f"client {client}, concurrency {args.concurrency}, {args.seconds:g}s per case "
        f"(+{args.warmup:g}s warm-up), app tree {args.app_root}, work files in {workdir}; "
        f"rate-limited case: RATE_LIMIT_PER_MINUTE={limit}")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    files = request_files(args, endpoints, ports, workdir)

    def server(side: str, tag: str, env: dict, app: str | None = None) -> Server:
        root = args.app_root if side == "app" else ROOT
        return Server(f"{side} ({tag})", server_argv(ports[side], root, app), env, ports[side],
                      workdir / f"{side}-{tag}.log", root)

    results, memory, private = [], {}, {}

    def note_memory(srv: Server) -> None:
        memory[srv.name], private[srv.name] = srv.memory_mb(), srv.memory_mb("RssAnon")

    static = server("static", "all", baseline_env(ports["static"]), "bench.baseline:create_app()")
    started = time.monotonic()
    try:
        static.start()
        for kind in databases:
            for sessions in sizes:
                tag = f"{kind}-{sessions}"
                db = Database(kind, workdir, args.pg_url, str(sessions))
                db.create()
                say(f"{tag}: seeding {sessions} stored sessions (app and stateful baseline)")
                seed(db.url, sessions, args.app_root)
                stateful_baseline.seed(db.url, sessions, HASH_KEY)
                stateful = server("stateful", tag, baseline_env(ports["stateful"], db.url),
                                  "bench.stateful_baseline:create_app()")
                cases = [(e, 0) for e in endpoints]
                if args.rate_limit_case and "sms" in endpoints:
                    cases.append(("sms", limit))
                app, app_limit = None, None
                try:
                    stateful.start()
                    for endpoint, rate_limit in cases:
                        if app is None or app_limit != rate_limit:
                            if app is not None:
                                note_memory(app)
                                app.stop()
                            app = server("app", f"{tag}-limit{rate_limit}",
                                         app_env(ports["app"], db.url, workdir, rate_limit))
                            app.start()
                            app_limit = rate_limit
                            if not rate_limit:
                                preflight(ports["app"])
                        row = {"database": kind, "sessions": sessions, "endpoint": endpoint,
                               "rate_limit": rate_limit}
                        for side, srv in (("static", static), ("stateful", stateful), ("app", app)):
                            profile = (f"{tag}-{endpoint}-limit{rate_limit}"
                                       if args.profile and side == "app" else None)
                            row[side] = measure(args, client, srv, files,
                                                (side, endpoint, bool(rate_limit)), endpoint, profile)
                        row["baseline"] = row["static"]  # the name older result files use
                        row["ratio"] = round(row["app"]["rps"] / row["static"]["rps"], 3)
                        row["stateful_ratio"] = round(row["app"]["rps"] / row["stateful"]["rps"], 3)
                        results.append(row)
                    note_memory(app)
                    note_memory(stateful)
                finally:
                    if app is not None:
                        app.stop()
                    stateful.stop()
                    db.drop()
        note_memory(static)
    finally:
        static.stop()
    elapsed = time.monotonic() - started
    loadavg = {"before": load_before, "after": Path("/proc/loadavg").read_text().split()[:3]}

    print(report(results, memory, private, client, args, elapsed, loadavg))
    if args.json:
        args.json.write_text(json.dumps({"client": client, "concurrency": args.concurrency,
                                         "seconds": args.seconds, "app": tree_label(args.app_root),
                                         "loadavg": loadavg, "rate_limit": limit, "results": results,
                                         "peak_memory_mb": memory, "private_memory_mb": private}, indent=2))
    failed = any(r[side]["error_count"] for r in results for side in ("app", "stateful"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
