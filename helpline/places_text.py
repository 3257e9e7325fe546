"""Places near a ZIP code as a texter reads them and a caller hears them, from the
``search.*`` entries in content. A list of places is one reply, and it must arrive: names
from the listings are brought to plain GSM-7 letters and shortened until the whole reply
fits in the checker's SMS budget; only then is a place left off.
"""
from __future__ import annotations

import unicodedata

from .content import Content
from .engine import SMS, VOICE
from .locator import Place
from .segments import GSM7_BASIC, sms_segments

SMS_SEGMENTS = 4                 # the content checker's limit for one reply
NAME_LENGTHS = (48, 34, 24)      # tried in turn before the medications, then places, go
GSM_LIKE = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
            "\u2014": "-", "\u00a0": " "}


def gsm_text(value: str) -> str:
    """A listing's name or town in GSM-7 letters: a curly apostrophe or an accent from the
    data would make the whole reply UCS-2, less than half as long per segment."""
    out = []
    for c in value:
        c = GSM_LIKE.get(c, c)
        if c not in GSM7_BASIC:
            c = "".join(d for d in unicodedata.normalize("NFKD", c) if d in GSM7_BASIC)
        out.append(c)
    return " ".join("".join(out).split())


def fits(reply: str, rest: list[str]) -> bool:
    """Whether ``reply`` and what follows it in the same SMS fit the budget."""
    return sms_segments("\n".join([reply, *rest])).count <= SMS_SEGMENTS


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 3].rstrip(" ,.-") + "..."


def in_groups(phone: str) -> str:
    """A phone number read digit by digit in the usual groups: 2 1 2, 5 5 5, 0 1 0 0."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    groups = [digits[:3], digits[3:6], digits[6:]] if len(digits) == 10 else [digits]
    return ", ".join(" ".join(g) for g in groups if g)


class PlacesText:
    def __init__(self, content: Content):
        self.content = content

    def text(self, lang: str, key: str, channel: str = SMS, **values) -> str:
        return self.content.text(lang, key, channel, **values)

    def what(self, lang: str, filter_name: str, channel: str = SMS) -> str:
        return self.text(lang, f"search.filter.{filter_name}", channel)

    def medications(self, lang: str, place: Place) -> str:
        """What a texter reads about medications when the listing says (callers hear only
        name, town, distance and number: two places already take half a minute)."""
        if not place.medications:
            return ""
        names = ", ".join(self.text(lang, f"search.med.{m}") for m in place.medications)
        return self.text(lang, "search.offers", medications=names)

    def sms(self, lang: str, zip_code: str, filter_name: str, miles: int, places: list[Place],
            first: int, more: bool, spanish_note: bool, rest: list[str]) -> str:
        """The list a texter gets, numbered from ``first``; ``rest`` is what follows it in
        the same reply."""
        head = self.text(lang, "search.found", zip=zip_code, miles=miles,
                         what=self.what(lang, filter_name))
        tail = [self.text(lang, "search.no_spanish")] if spanish_note else []
        tail.append(" ".join([self.text(lang, "search.call_ahead")]
                             + ([self.text(lang, "search.more")] if more else [])))
        tail.append(self.text(lang, "search.link", zip=zip_code))
        shown = list(places)
        while True:
            for limit in NAME_LENGTHS:
                for offers in (True, False):
                    lines = [self.text(lang, "search.place", n=n, phone=p.phone,
                                       name=shorten(gsm_text(p.name), limit),
                                       town=shorten(gsm_text(p.town), limit // 2),
                                       distance=p.miles,
                                       offers=self.medications(lang, p) if offers else "")
                             for n, p in enumerate(shown, start=first)]
                    reply = "\n".join([head, *lines, *tail])
                    if len(shown) <= 1 or fits(reply, rest):
                        return reply
            shown = shown[:-1]

    def voice(self, lang: str, filter_name: str, miles: int, places: list[Place],
              spanish_note: bool) -> str:
        parts = [self.text(lang, "search.found", VOICE, miles=miles,
                           what=self.what(lang, filter_name, VOICE))]
        parts += [self.text(lang, "search.place", VOICE, n=n, name=p.name, town=p.town,
                            distance=p.miles, phone=in_groups(p.phone))
                  for n, p in enumerate(places, start=1)]
        if spanish_note:
            parts.append(self.text(lang, "search.no_spanish", VOICE))
        parts.append(self.text(lang, "search.call_ahead", VOICE))
        return " ".join(parts)
