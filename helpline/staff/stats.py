"""How the line is used over the last days, from :class:`helpline.store.Event` rows alone
(names, channels, times, seconds waited: never who), and small bar charts drawn as SVG on
the server, so the page needs no charting script and works with scripts off.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store import Event

DAYS = 14
CHANNELS = ("sms", "voice")


@dataclass
class Stats:
    days: list[tuple[date, dict[str, int]]]
    choices: list[tuple[str, int]]
    contacts: int = 0
    handoffs: int = 0
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> answered/missed
    median_wait: dict[str, int | None] = field(default_factory=dict)   # channel -> seconds
    # Treatment searches by ZIP code: how many per state and per filter, nothing else.
    search_states: list[tuple[str, int]] = field(default_factory=list)
    search_filters: list[tuple[str, int]] = field(default_factory=list)

    @property
    def handoff_share(self) -> float | None:
        return self.handoffs / self.contacts if self.contacts else None


def collect(db: Session, now: datetime, tz: str, days: int = DAYS) -> Stats:
    """The last ``days`` days up to ``now`` (naive UTC), counted by the helpline's local day."""
    zone = ZoneInfo(tz)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), zone).astimezone(UTC).replace(tzinfo=None)
    recent = Event.at >= since

    per_day = {first + timedelta(days=i): dict.fromkeys(CHANNELS, 0) for i in range(days)}
    for at, channel in db.execute(select(Event.at, Event.channel)
                                  .where(recent, Event.name == "contact")):
        day = at.replace(tzinfo=UTC).astimezone(zone).date()
        if day in per_day and channel in CHANNELS:
            per_day[day][channel] += 1

    counts = Counter()
    for name, channel, n in db.execute(select(Event.name, Event.channel, func.count())
                                       .where(recent).group_by(Event.name, Event.channel)):
        counts[name, channel] += n
    choices, states, filters = Counter(), Counter(), Counter()
    for (name, _), n in counts.items():
        for prefix, counter in (("choice:", choices), ("search_state:", states),
                                ("search_filter:", filters)):
            if name.startswith(prefix):
                counter[name.removeprefix(prefix)] += n

    waits: dict[str, list[int]] = {c: [] for c in CHANNELS}
    for channel, value in db.execute(select(Event.channel, Event.value).where(
            recent, Event.name == "answered", Event.value.is_not(None))):
        waits.setdefault(channel, []).append(value)

    return Stats(
        days=sorted(per_day.items()),
        choices=sorted(choices.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        search_states=sorted(states.items(), key=lambda kv: (-kv[1], kv[0])),
        search_filters=sorted(filters.items(), key=lambda kv: (-kv[1], kv[0])),
        contacts=sum(n for (name, _), n in counts.items() if name == "contact"),
        handoffs=sum(n for (name, _), n in counts.items() if name == "handoff"),
        outcomes={c: {"answered": counts["answered", c], "missed": counts["missed", c]}
                  for c in CHANNELS},
        median_wait={c: int(statistics.median(v)) if v else None for c, v in waits.items()
                     if c in CHANNELS},
    )


# -- SVG ---------------------------------------------------------------------------------------
# Colours from a palette that stays apart for the common colour-vision deficiencies, each
# with at least 4.5:1 contrast on white; the numbers are also printed, never colour alone.
COLOURS = {"sms": "#1f5fa8", "voice": "#a34d00", "bar": "#1f5fa8"}
TEXT = "#1a1a1a"


def _svg(width: int, height: int, title: str, body: list[str], size: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart {size}"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _text(x: float, y: float, value, anchor: str = "start", size: int = 13) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{TEXT}" '
            f'text-anchor="{anchor}">{escape(str(value))}</text>')


# Each chart comes in a drawing for a desk and one for a phone (the stylesheet shows one), so its text
# stays about 13 pixels high on a desk and on a phone alike.
WIDTHS = {"desk": 760, "phone": 340}


def day_chart(stats: Stats, labels: dict[str, str], title: str, size: str = "desk") -> Markup:
    """Contacts per day: a pair of bars (one per channel) for every day, with a legend."""
    width, height, left, top, bottom = WIDTHS[size], 230, 26, 30, 26
    plot_h = height - top - bottom
    slot = (width - left) / max(len(stats.days), 1)
    bar = slot * 0.36
    peak = max([n for _, per in stats.days for n in per.values()] + [1])
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#767676"/>',
            _text(left - 5, top + 5, peak, "end", 12), _text(left - 5, top + plot_h, 0, "end", 12)]
    for i, (day, per) in enumerate(stats.days):
        x0 = left + i * slot + (slot - 2 * bar) / 2
        for j, channel in enumerate(CHANNELS):
            h = plot_h * per[channel] / peak
            body.append(f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                        f'height="{h:.1f}" fill="{COLOURS[channel]}"><title>{escape(day.isoformat())} '
                        f'{escape(labels[channel])}: {per[channel]}</title></rect>')
        body.append(_text(left + (i + 0.5) * slot, height - bottom + 17, day.day, "middle", 12))
    x = left
    for channel in CHANNELS:
        body.append(f'<rect x="{x}" y="4" width="13" height="13" fill="{COLOURS[channel]}"/>')
        body.append(_text(x + 18, 15, labels[channel]))
        x += 30 + 8 * len(labels[channel])
    return _svg(width, height, title, body, size)


def hbar_chart(rows: list[tuple[str, int]], title: str, size: str = "desk") -> Markup:
    """Horizontal bars, each with its label above and its count at the end."""
    width, row_h = WIDTHS[size], 40
    height = max(len(rows), 1) * row_h
    peak = max([n for _, n in rows] + [1])
    body = []
    for i, (label, n) in enumerate(rows):
        y = i * row_h
        w = (width - 48) * n / peak
        body.append(_text(0, y + 14, label))
        body.append(f'<rect x="0" y="{y + 19}" width="{w:.1f}" height="15" fill="{COLOURS["bar"]}"/>')
        body.append(_text(w + 6, y + 32, n))
    return _svg(width, height, title, body, size)
