"""Before and after, side by side: ``python -m bench.compare BEFORE.json... -- AFTER.json...``
(files written by ``python -m bench.run --json``; several runs of one side are averaged)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from statistics import mean

FIELDS = ("rps", "p50_ms", "p99_ms", "error_count", "cpu_ms_per_request")


def averaged(paths: list[Path]) -> dict[tuple, dict]:
    """(database, sessions, endpoint) -> mean app figures, baseline req/s and ratio."""
    runs: dict[tuple, list[dict]] = {}
    for path in paths:
        for row in json.loads(Path(path).read_text())["results"]:
            runs.setdefault((row["database"], row["sessions"], row["endpoint"]), []).append(row)
    out = {}
    for key, rows in runs.items():
        figures = {f: mean(r["app"][f] for r in rows) for f in FIELDS}
        figures["baseline_rps"] = mean(r["baseline"]["rps"] for r in rows)
        figures["ratio"] = mean(r["ratio"] for r in rows)
        figures["errors"] = sum(r["app"]["error_count"] for r in rows)
        out[key] = figures
    return out


def table(before: dict[tuple, dict], after: dict[tuple, dict]) -> str:
    lines = ["| database | stored sessions | endpoint | req/s before → after | ratio to baseline "
             "| p50 ms | p99 ms | server CPU ms/request | errors |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for key in after:
        b, a = before.get(key), after[key]
        if b is None:
            continue
        database, sessions, endpoint = key
        lines.append(
            f"| {database} | {sessions:,} | /{endpoint} | {b['rps']:.0f} → {a['rps']:.0f} "
            f"| {b['ratio']:.2f} → {a['ratio']:.2f} | {b['p50_ms']:.0f} → {a['p50_ms']:.0f} "
            f"| {b['p99_ms']:.0f} → {a['p99_ms']:.0f} "
            f"| {b['cpu_ms_per_request']:.2f} → {a['cpu_ms_per_request']:.2f} "
            f"| {b['errors']} → {a['errors']} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if "--" not in argv:
        raise SystemExit(__doc__)
    split = argv.index("--")
    print(table(averaged([Path(p) for p in argv[:split]]),
                averaged([Path(p) for p in argv[split + 1:]])))


if __name__ == "__main__":
    main(sys.argv[1:])
