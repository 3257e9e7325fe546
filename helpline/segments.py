"""For texters' phones and the content editors: what an SMS costs, in the segments a carrier
bills, and which characters make it cost more (UCS-2)."""
from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str
    count: int
    units: int
    ucs2_chars: tuple[str, ...]


def sms_segments(text: str) -> Segments:
    """Count what a carrier bills: GSM-7 160/153 septets, else UCS-2 70/67 UTF-16 units."""
    ucs2_chars = tuple(sorted({c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED}))
    if not ucs2_chars:
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        count = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("GSM-7", count, units, ())
    units = len(text.encode("utf-16-le")) // 2
    count = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("UCS-2", count, units, ucs2_chars)
