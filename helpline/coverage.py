"""The coverage report, for whoever plans the week's shifts: how many are on shift when, and
the gaps inside opening hours (``reps coverage`` and the staff console)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .hours import Hours, Window


@dataclass(frozen=True)
class DayCoverage:
    day: date
    runs: list[tuple[int, int, int]]  # (start minute, end minute, representatives on shift)
    gaps: list[tuple[int, int]]       # minutes inside opening hours with nobody on shift


def coverage(windows_by_rep: dict[int, list[Window]], hours: Hours, first: date,
             days: int = 7) -> list[DayCoverage]:
    """Who is on shift, minute by minute, for ``days`` days from ``first`` (helpline time)."""
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        counts = [0] * 1440
        for windows in windows_by_rep.values():
            counts = [c + on for c, on in zip(counts, _mask(windows, day.weekday()), strict=True)]
        opening = _mask(hours.windows, day.weekday()) if hours.windows else [True] * 1440
        gaps = _runs([int(is_open and c == 0) for is_open, c in zip(opening, counts, strict=True)])
        result.append(DayCoverage(day, _runs(counts), [(a, b) for a, b, gap in gaps if gap]))
    return result


def _mask(windows, weekday: int) -> list[bool]:
    """The minutes of one weekday that the windows cover, over-midnight ones included."""
    on = [False] * 1440
    for w in windows:
        start, end = _minute(w.start), _minute(w.end)
        if w.start <= w.end and w.weekday == weekday:
            on[start:end] = [True] * (end - start)
        elif w.start > w.end and w.weekday == weekday:
            on[start:] = [True] * (1440 - start)
        elif w.start > w.end and (w.weekday + 1) % 7 == weekday:
            on[:end] = [True] * end
    return on


def _minute(t) -> int:
    return 1440 if t.hour == 23 and t.minute == 59 and t.second == 59 else t.hour * 60 + t.minute


def _runs(values: list[int]) -> list[tuple[int, int, int]]:
    runs, start = [], 0
    for minute in range(1, len(values) + 1):
        if minute == len(values) or values[minute] != values[start]:
            runs.append((start, minute, values[start]))
            start = minute
    return runs


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
