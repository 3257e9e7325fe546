"""Opening hours: when a person can be reached at all (``HELPLINE_HOURS``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = ZoneInfo("UTC")

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PART = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


class HoursError(ValueError):
    pass


def _days(spec: str) -> set[int]:
    days = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise HoursError(f"unknown day in '{part}' (use {', '.join(DAYS)})")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days |= {d % 7 for d in range(a, b + 1 if b >= a else b + 8)}
    return days


def parse_time(value: str) -> time:
    hours, minutes = map(int, value.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    try:
        return time(hours, minutes)
    except ValueError:
        raise HoursError(f"'{value}' is not a time of day") from None


@dataclass(frozen=True)
class Window:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Hours:
    """Weekly windows in one time zone; no windows means always open. A window whose end
    is before its start runs over midnight into the next day."""

    windows: tuple[Window, ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str) -> Hours:
        """``"mon-fri 09:00-17:00; sat 10:00-14:00"`` in ``zone`` (e.g. America/New_York)."""
        try:
            tz = ZoneInfo(zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursError(f"unknown time zone '{zone}'") from None
        windows = []
        for part in filter(None, (p.strip().lower() for p in (spec or "").split(";"))):
            match = _PART.match(part)
            if not match:
                raise HoursError(f"'{part}' should look like 'mon-fri 09:00-17:00'")
            start, end = parse_time(match["start"]), parse_time(match["end"])
            windows += [Window(day, start, end) for day in sorted(_days(match["days"]))]
        return cls(tuple(windows), tz)

    def is_open(self, utc_naive: datetime) -> bool:
        return not self.windows or self.open_until(utc_naive) is not None

    def open_until(self, utc_naive: datetime) -> datetime | None:
        """The end (naive UTC) of the window open at this moment, or None when closed."""
        local = utc_naive.replace(tzinfo=UTC).astimezone(self.zone)
        day, now, today = local.weekday(), local.time(), local.date()
        ends = []
        for w in self.windows:
            if w.start <= w.end and w.weekday == day and w.start <= now < w.end:
                ends.append((today, w.end))
            elif w.start > w.end and w.weekday == day and now >= w.start:
                ends.append((today + timedelta(days=1), w.end))
            elif w.start > w.end and (w.weekday + 1) % 7 == day and now < w.end:
                ends.append((today, w.end))
        if not ends:
            return None
        date, end = max(ends)
        if end == time.max:
            date, end = date + timedelta(days=1), time(0, 0)
        return datetime.combine(date, end, self.zone).astimezone(UTC).replace(tzinfo=None)
