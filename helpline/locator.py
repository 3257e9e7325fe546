"""The one client of SAMHSA's FindTreatment.gov locator: a search near a point, parsed
defensively into :class:`Place` rows.

The locator is public (no key) and answers JSON; it can also answer HTTP 200 with plain
text, list one facility twice (as ``SA`` and ``MH``) and leave ``services`` null. Every
failure is a :class:`LocatorError` that names no person and no place: the caller of this
module answers with the national helpline instead. ``FINDTREATMENT_API_BASE`` points the
client elsewhere (a local stand-in in the tests and in ``simulate --locator-standin``).

It speaks HTTP through urllib3's connection pool (one keep-alive connection per host,
trusting certifi's certificates and honouring ``HTTPS_PROXY`` / ``NO_PROXY`` as requests
did), not requests: a web worker asks the locator on every ZIP code, and requests would
add about 4 MiB to each (bench/README.md, "#17").
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import urllib3

API_BASE = "https://findtreatment.gov"
PATH = "/locator/exportsAsJson/v2"
CONNECT_SECONDS = 2
READ_SECONDS = 4
METERS_PER_MILE = 1609.34
PAGE_SIZE = 20
USER_AGENT = "helpline/1.0 (SMS and voice helpline for people affected by opioid use)"

# What a person can ask for -> the service codes a place must offer. Codes of one kind
# (the medications) are asked for together, as the locator's own filters do.
FILTERS = {
    "medication": ("BU", "METH", "NU", "OTP"),
    "methadone": ("METH",),
    "buprenorphine": ("BU",),
    "naltrexone": ("NU",),
    "outpatient": ("OP",),
    "inpatient": ("RES",),
    "detox": ("DT",),
}
DEFAULT_FILTER = "medication"
MEDICATIONS = ("methadone", "buprenorphine", "naltrexone")
LISTED_LANGUAGES = {"spanish": "es"}   # language services as listed -> content language


class LocatorError(Exception):
    """The locator did not give a usable answer (down, slow, throttled, not JSON)."""


@dataclass(frozen=True)
class Place:
    name: str
    phone: str
    town: str
    state: str
    miles: float
    medications: tuple[str, ...] = ()   # of MEDICATIONS, when the listing says
    languages: tuple[str, ...] = ()     # content languages it lists services in

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> Place:
        return cls(**{**raw, "medications": tuple(raw.get("medications") or ()),
                      "languages": tuple(raw.get("languages") or ())})


class Locator:
    def __init__(self, base: str = ""):
        self.url = (base or API_BASE).rstrip("/") + PATH
        self.pool = _pool(self.url)

    def near(self, lat: float, lng: float, filter_name: str, miles: int,
             wait: float) -> list[Place]:
        """Places within ``miles`` of the point offering what ``filter_name`` asks for,
        nearest first, each facility once. ``wait``: seconds left for this call in all."""
        if wait <= 0:
            raise LocatorError("no time left")
        params = {"sAddr": f"{lat:.4f},{lng:.4f}",  # latitude first: reversed finds nothing
                  "limitType": 2, "limitValue": int(miles * METERS_PER_MILE), "sType": "SA",
                  "sCodes": ",".join(FILTERS[filter_name]), "pageSize": PAGE_SIZE, "page": 1,
                  "sort": 0}
        try:
            response = self.pool.request(
                "GET", self.url, fields=params,
                timeout=urllib3.Timeout(connect=min(CONNECT_SECONDS, wait), read=min(READ_SECONDS, wait)))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise LocatorError(type(exc).__name__) from None
        if response.status != 200:
            raise LocatorError(f"HTTP {response.status}")
        try:
            data = json.loads(response.data)
        except ValueError:
            raise LocatorError("not JSON") from None
        rows = data.get("rows") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise LocatorError("no rows in the answer")
        return merge(filter(None, map(parse_row, rows)))


def _pool(url: str) -> urllib3.PoolManager:
    """Never retried here (the worker asks again later); a redirect is followed, as a
    browser would."""
    options = dict(headers={"User-Agent": USER_AGENT}, ca_certs=certifi.where(),
                   retries=urllib3.Retry(total=3, connect=0, read=0, status=0, other=0, redirect=3))
    parts = urlsplit(url)
    proxy = getproxies().get(parts.scheme)
    if proxy and not proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


def parse_row(row) -> Place | None:
    """One listing, or None when it lacks a name or a distance."""
    if not isinstance(row, dict):
        return None
    name = _text(row.get("name1")) or _text(row.get("name2"))
    try:
        miles = float(row.get("miles"))
    except (TypeError, ValueError):
        return None
    if not name or not math.isfinite(miles) or miles < 0:
        return None
    services = row.get("services") if isinstance(row.get("services"), list) else []
    said = {(_text(s.get("f2")).upper(), _text(s.get("f3")).lower())
            for s in services if isinstance(s, dict)}
    medications = tuple(m for m in MEDICATIONS
                        if any(code == "OM" and m in text for code, text in said))
    return Place(name=name, phone=_text(row.get("phone")) or _text(row.get("intake1")),
                 town=_text(row.get("city")), state=_text(row.get("state")),
                 miles=round(miles, 1), medications=medications,
                 languages=tuple(code for name, code in LISTED_LANGUAGES.items()
                                 if any(c == "SL" and name in text for c, text in said)))


def merge(places) -> list[Place]:
    """One row per facility (the locator lists some twice, as SA and MH), nearest first."""
    kept: dict[tuple, Place] = {}
    for place in places:
        key = (place.name.lower(), place.town.lower(), "".join(c for c in place.phone if c.isdigit()))
        other = kept.get(key)
        if other is not None:
            place = Place(place.name, place.phone, place.town, place.state,
                          min(place.miles, other.miles),
                          tuple(m for m in MEDICATIONS
                                if m in place.medications or m in other.medications),
                          tuple(sorted(set(place.languages) | set(other.languages))))
        kept[key] = place
    return sorted(kept.values(), key=lambda p: p.miles)


def _text(value) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
