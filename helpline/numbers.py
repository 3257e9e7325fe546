"""Phone numbers, read with the ``phonenumbers`` library rather than regular expressions.

Two questions: may a callback dial this number (a toll-fraud path if answered carelessly),
and what E.164 number did a person type (``555-123-4567`` in the helpline's region)?
"""
from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# What Twilio puts in From when the caller ID is withheld, blocked or unavailable.
WITHHELD = {"+266696687", "+7378742833", "+2562533", "+8656696", "anonymous", "restricted",
            "blocked", "unavailable", "unknown", "private", ""}
# Ordinary lines; never premium-rate, shared-cost, pagers, or a type nobody knows.
CALLABLE = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
            PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.VOIP}


def parse_regions(raw: str) -> tuple[str, ...]:
    """``US,CA`` -> ("US", "CA"); unknown region codes raise ValueError."""
    regions = tuple(dict.fromkeys(r.strip().upper() for r in raw.split(",") if r.strip()))
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if not regions or unknown:
        raise ValueError(f"not region codes like US or CA: {', '.join(unknown) or raw!r}")
    return regions


def callable_number(number: str, regions: tuple[str, ...]) -> str | None:
    """The E.164 number a callback may dial: a valid ordinary line in one of ``regions``.
    None for a withheld caller ID, another country, premium-rate and unknown types."""
    if (number or "").strip().lower() in WITHHELD:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except NumberParseException:
        return None
    if (not phonenumbers.is_valid_number(parsed)
            or phonenumbers.region_code_for_number(parsed) not in regions
            or phonenumbers.number_type(parsed) not in CALLABLE):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def typed_number(text: str, region: str) -> str | None:
    """What a person typed (``555-123-4567``, ``+1 (555) 123-4567``) as E.164, read in
    ``region`` unless it starts with +; None when it cannot be a phone number."""
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None  # too short or long, or a local number without its area code
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
