"""What operators type about representatives (a number, a shift, languages), checked.

The commands, the staff console and the settings share these checks; :class:`RosterError`
says what is wrong in words the person who typed it can act on.
"""
from __future__ import annotations

import re

from .hours import DAYS, Hours, HoursError
from .numbers import typed_number

# Matched whole (fullmatch): "$" would also accept a trailing newline, and \d any script's digits.
CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}")


class RosterError(ValueError):
    """What was typed cannot go on the roster; the message says why, for the person who typed it."""


def check_number(number: str, region: str = "US") -> str:
    """A typed number as E.164; without a leading + it is read in ``region``."""
    e164 = typed_number(number, region)
    if e164 is None:
        raise RosterError(f"'{number.strip()}' is not a phone number like +15551234567")
    return e164


def parse_shift(day: str, start: str, end: str) -> tuple[int, str, str]:
    """("mon", "22:00", "02:00") -> (0, "22:00", "02:00"), checked."""
    day = day.strip().lower()[:3]
    if day not in DAYS:
        raise RosterError(f"'{day}' is not a weekday ({', '.join(DAYS)})")
    for value in (start, end):
        if not CLOCK.fullmatch(value):
            raise RosterError(f"'{value}' is not a time like 09:00")
    try:
        Hours.parse(f"{day} {start}-{end}", "UTC")
    except HoursError as exc:
        raise RosterError(str(exc)) from None
    if start == end:
        raise RosterError("a shift needs a start and an end that differ")
    return DAYS.index(day), start, end


def parse_languages(text: str, known) -> str:
    codes = [c.strip().lower() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in known]
    if not codes or unknown:
        raise RosterError(f"languages must be among {', '.join(known)} (got '{text}')")
    return ",".join(dict.fromkeys(codes))
