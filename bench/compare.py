"""Tables of results. Before and after, side by side: ``python -m bench.compare BEFORE.json... -- AFTER.json...``
(files written by ``python -m bench.run --json``; several runs of one side are averaged).
Without ``--``, the files' mean alone.
Files from before the stateful baseline have no stateful figures: those cells say "-"."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from statistics import mean

FIELDS = ("rps", "p50_ms", "p99_ms", "error_count", "cpu_ms_per_request")


def averaged(paths: list[Path]) -> dict[tuple, dict]:
    """(database, sessions, endpoint, rate limit on) -> mean app figures, the baselines'
    req/s and CPU, and the ratios."""
    runs: dict[tuple, list[dict]] = {}
    for path in paths:
        for row in json.loads(Path(path).read_text())["results"]:
            key = (row["database"], row["sessions"], row["endpoint"], bool(row.get("rate_limit")))
            runs.setdefault(key, []).append(row)
    out = {}
    for key, rows in runs.items():
        figures = {f: mean(r["app"][f] for r in rows) for f in FIELDS}
        figures["baseline_rps"] = mean(r["baseline"]["rps"] for r in rows)
        figures["ratio"] = mean(r["ratio"] for r in rows)
        figures["errors"] = sum(r["app"]["error_count"] for r in rows)
        stateful = [r for r in rows if "stateful" in r]
        if stateful:
            figures["stateful_rps"] = mean(r["stateful"]["rps"] for r in stateful)
            figures["stateful_cpu"] = mean(r["stateful"]["cpu_ms_per_request"] for r in stateful)
            figures["stateful_ratio"] = mean(r["stateful_ratio"] for r in stateful)
        out[key] = figures
    return out


def _pair(before: dict, after: dict, name: str, form: str) -> str:
    def one(figures: dict) -> str:
        return format(figures[name], form) if name in figures else "-"
    return f"{one(before)} → {one(after)}"


def table(before: dict[tuple, dict], after: dict[tuple, dict]) -> str:
    lines = ["| database | stored sessions | endpoint | rate limit | app req/s | stateful req/s "
             "| app/stateful | app/static | p50 ms | p99 ms | app CPU ms/req | stateful CPU ms/req "
             "| errors |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in after:
        b, a = before.get(key), after[key]
        if b is None:
            continue
        database, sessions, endpoint, limited = key
        lines.append(
            f"| {database} | {sessions:,} | /{endpoint} | {'on' if limited else 'off'} "
            f"| {_pair(b, a, 'rps', '.0f')} | {_pair(b, a, 'stateful_rps', '.0f')} "
            f"| {_pair(b, a, 'stateful_ratio', '.2f')} | {_pair(b, a, 'ratio', '.2f')} "
            f"| {_pair(b, a, 'p50_ms', '.0f')} | {_pair(b, a, 'p99_ms', '.0f')} "
            f"| {_pair(b, a, 'cpu_ms_per_request', '.2f')} | {_pair(b, a, 'stateful_cpu', '.2f')} "
            f"| {b['errors']} → {a['errors']} |")
    return "\n".join(lines)


def one_side(figures: dict[tuple, dict]) -> str:
    lines = ["| database | stored sessions | endpoint | rate limit | req/s app / stateful / static "
             "| app/stateful | app/static | p50 ms | p99 ms | server CPU ms/req app / stateful | errors |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (database, sessions, endpoint, limited), f in figures.items():
        lines.append(
            f"| {database} | {sessions:,} | /{endpoint} | {'on' if limited else 'off'} "
            f"| {f['rps']:.0f} / {f.get('stateful_rps', 0):.0f} / {f['baseline_rps']:.0f} "
            f"| {f.get('stateful_ratio', 0):.2f} | {f['ratio']:.2f} | {f['p50_ms']:.0f} | {f['p99_ms']:.0f} "
            f"| {f['cpu_ms_per_request']:.2f} / {f.get('stateful_cpu', 0):.2f} | {f['errors']} |")
    return "\n".join(lines)


# -- the table of one run (bench/run.py) ---------------------------------------------------
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


def report(results: list[dict], memory: dict, private: dict, client: str, args, elapsed: float,
           loadavg: dict) -> str:
    lines = [f"app {tree_label(args.app_root)}; client {client}, concurrency {args.concurrency}, "
             f"{args.seconds:g}s per case, {elapsed:.0f}s in all; load average before "
             f"{' '.join(loadavg['before'])}, after {' '.join(loadavg['after'])}", "",
             "| database | stored sessions | endpoint | rate limit | req/s app / stateful / static "
             "| app/stateful | app/static | p50 ms app / stateful | p99 ms app / stateful / static "
             "| errors app / stateful | server CPU ms/req app / stateful / static |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        a, s, b = r["app"], r["stateful"], r["static"]
        lines.append(
            f"| {r['database']} | {r['sessions']:,} | /{r['endpoint']} | {r['rate_limit'] or 'off'} "
            f"| {a['rps']:.0f} / {s['rps']:.0f} / {b['rps']:.0f} | {r['stateful_ratio']:.2f} "
            f"| {r['ratio']:.2f} | {a['p50_ms']:.1f} / {s['p50_ms']:.1f} "
            f"| {a['p99_ms']:.1f} / {s['p99_ms']:.1f} / {b['p99_ms']:.1f} "
            f"| {a['error_count']} / {s['error_count']} "
            f"| {a['cpu_ms_per_request']:.2f} / {s['cpu_ms_per_request']:.2f} / "
            f"{b['cpu_ms_per_request']:.2f} |")
    for title, figures in (("peak memory per worker (VmHWM, MiB)", memory),
                           ("private memory per worker at the end (RssAnon, MiB)", private)):
        lines += ["", f"{title}:"]
        for name, per_worker in figures.items():
            lines.append(f"  {name}: " + ", ".join(f"{mb:.0f}" for mb in per_worker.values()))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    if "--" not in argv:
        print(one_side(averaged([Path(p) for p in argv])))
        return
    split = argv.index("--")
    print(table(averaged([Path(p) for p in argv[:split]]),
                averaged([Path(p) for p in argv[split + 1:]])))


if __name__ == "__main__":
    main(sys.argv[1:])
