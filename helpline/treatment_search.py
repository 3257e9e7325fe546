"""Treatment near a ZIP code: what the service layer does around the engine's ``search``
turns (the engine only recognises the ZIP code and what to look for).

A turn in two parts, so no database lock is held while the locator is asked:
:meth:`TreatmentSearch.during` runs inside the turn's transaction (the ZIP code checked
offline, statistics, the cache read) and answers from the cache when it can; otherwise it
returns a :class:`Pending` search, which the caller finishes after the commit with
:meth:`fetch` (at most ``FINDTREATMENT_WAIT_SECONDS``), :meth:`save` (a second short
transaction) and :meth:`finish`. A locator that is slow, down or garbled gets the person the
national helpline's number and the findtreatment.gov link, never an error.

Privacy: the cache is keyed by ZIP code, never by person. The conversation keeps the ZIP
code only encrypted, and only while its places are shown (MORE needs it); statistics count
searches per state and per filter, nothing else.
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import zip_table
from .engine import SMS, VOICE, Turn
from .flows import Flow
from .locator import LISTED_LANGUAGES, Locator, LocatorError, Place
from .places_text import PlacesText, fits
from .security import Vault
from .store import Base, Contact, Event, insert_for

log = logging.getLogger(__name__)
RADII = (25, 50, 100)           # miles: widened once each when nothing is nearer
CACHE_FOR = timedelta(days=1)
PAGE = {SMS: 3, VOICE: 2}
SEARCH_ACTIONS = ("search", "text_search")
TEXTABLE = re.compile(r"^\+1[2-9][0-9]{2}[2-9][0-9]{6}$")   # a US or Canadian number


class CachedPlaces(Base):
    """What the locator listed near a ZIP code, kept a day: keyed by ZIP code, filter and
    distance, never by who asked."""

    __tablename__ = "treatment_places"
    __table_args__ = (UniqueConstraint("zip", "filter", "miles"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zip: Mapped[str] = mapped_column(String(5))
    filter: Mapped[str] = mapped_column(String(16))
    miles: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    places: Mapped[list] = mapped_column(JSON)


@dataclass
class Pending:
    """A search the cache could not answer, finished after the turn's transaction."""

    turn: Turn
    channel: str
    number: str
    zip: str
    filter: str
    lat: float
    lng: float
    known: dict[int, list[Place]] = field(default_factory=dict)

    def seal(self, vault: Vault, number_hash: str) -> str:
        """The search for the worker's queue: number and ZIP code encrypted together."""
        return vault.encrypt(json.dumps({
            "to": self.number, "hash": number_hash, "lang": self.turn.lang, "zip": self.zip,
            "filter": self.filter, "lat": self.lat, "lng": self.lng}))

    @classmethod
    def unseal(cls, vault: Vault, sealed: str) -> tuple[Pending, str] | None:
        """A texter's search back from the queue, and the texter's number hash."""
        clear = vault.decrypt(sealed)
        if clear is None:
            return None
        job = json.loads(clear)
        turn = Turn(state={"lang": job["lang"], "step": 0}, listen=False)
        return cls(turn, SMS, job["to"], job["zip"], job["filter"], job["lat"],
                   job["lng"]), job["hash"]


class ZipPlace(NamedTuple):
    lat: float
    lng: float
    state: str


def locate(zip_code: str) -> tuple[str | None, ZipPlace | None]:
    """(the content key saying what is wrong, or None; where the ZIP code is), offline from
    :mod:`helpline.zip_table` (GeoNames data)."""
    found = zip_table.find(zip_code)
    if found is None:
        return "search.zip_unknown", None
    if found.kind == zip_table.KINDS["PO BOX"]:
        return "search.zip_po_box", None
    try:
        return None, ZipPlace(float(found.lat), float(found.lng), found.state)
    except ValueError:
        return "search.zip_unknown", None


class TreatmentSearch:
    def __init__(self, flow: Flow, vault: Vault, hash_number: Callable[[str], str],
                 locator: Locator, wait_seconds: float, texts: PlacesText,
                 defer: Callable[[Pending], bool] | None = None):
        """``defer`` is the seam for a worker: given a search the locator was too slow
        for, it queues it and returns True, and the person is told "Looking for places
        near ..." (the worker texts the list by REST). Without one, the person gets the
        national helpline's number and the link at once."""
        self.search = flow.search
        self.before = (flow.texts["didnt_get"], flow.texts["welcome"])   # said before a list
        self.vault, self.hash = vault, hash_number
        self.locator, self.wait, self.texts = locator, wait_seconds, texts
        self.defer = defer
        self.nodes = {n.id for n in flow.nodes.values() if n.action in SEARCH_ACTIONS}
        self.keypad = self.search.keypad if self.search else frozenset()

    # -- inside the turn's transaction ------------------------------------------------------
    def voice_context(self, db: Session, state: dict | None, caller: str, context: dict) -> None:
        """``can_text`` for a caller who may be about to hear places: a US or Canadian
        number (+1) that has not opted out of texts (STOP). Whether it is a mobile phone
        cannot be known without a paid look-up; a landline simply gets nothing, and the
        caller is told they can hear the places again."""
        if not state or state.get("node") not in self.nodes | self.keypad:
            return
        if TEXTABLE.match(caller or ""):
            contact = db.get(Contact, self.hash(caller))
            context["can_text"] = not (contact and contact.opted_out)

    def during(self, db: Session, turn: Turn, channel: str, number: str,
               now: datetime) -> Pending | None:
        state, place = turn.state, None
        if turn.search is not None:
            zip_code, filter_name = turn.search["zip"], turn.search["filter"]
            problem, place = locate(zip_code)
            if problem:
                state.pop("search", None)
                return self._ask_again(turn, channel, problem, zip_code)
            state["search"] = self.vault.encrypt(json.dumps([zip_code, filter_name]))
            for name in (f"search_state:{place.state}", f"search_filter:{filter_name}"):
                db.add(Event(at=now, channel=channel, name=name, value=None))
        if turn.action not in SEARCH_ACTIONS:
            state.pop("search", None)   # the ZIP code is kept only while its places are shown
            return None
        sealed = self.vault.decrypt(state["search"]) if state.get("search") else None
        if sealed is None:
            return self._ask_again(turn, channel, "search.zip_help", "")
        zip_code, filter_name = json.loads(sealed)
        if place is None:   # MORE, or a choice at the list: the ZIP code kept in the state
            _, place = locate(zip_code)
        pending = Pending(turn, channel, number, zip_code, filter_name, place.lat, place.lng)
        for row in db.execute(select(CachedPlaces).where(
                CachedPlaces.zip == zip_code, CachedPlaces.filter == filter_name,
                CachedPlaces.fetched_at > now - CACHE_FOR)).scalars():
            pending.known[row.miles] = [Place.from_json(p) for p in row.places]
        if _nearest(pending.known) is None:
            return pending
        self.finish(pending, {})
        return None

    def _ask_again(self, turn: Turn, channel: str, key: str, zip_code: str) -> None:
        turn.state.update(node=self.search.invalid, step=0)
        turn.action = None
        turn.say = [self.texts.text(turn.lang, key, channel, zip=zip_code)]
        turn.keys = 5 if channel == VOICE else 1
        return None

    # -- after it ---------------------------------------------------------------------------
    def fetch(self, pending: Pending, wait: float | None = None) -> dict[int, list[Place]] | None:
        """The locator's places at the distances the cache lacked, widening only while
        nothing is found; None when it failed or ran out of time (``wait``, in all)."""
        deadline = time.monotonic() + (self.wait if wait is None else wait)
        fetched: dict[int, list[Place]] = {}
        try:
            for miles in RADII:
                places = pending.known.get(miles)
                if places is None:
                    places = self.locator.near(pending.lat, pending.lng, pending.filter, miles,
                                               deadline - time.monotonic())
                    fetched[miles] = places
                if places:
                    break
        except LocatorError as exc:
            log.warning("treatment locator unavailable (%s): the national helpline was given "
                        "instead", exc)
            return None
        return fetched

    @staticmethod
    def save(db: Session, pending: Pending, fetched: dict[int, list[Place]], now: datetime) -> None:
        db.execute(delete(CachedPlaces).where(CachedPlaces.fetched_at <= now - CACHE_FOR))
        for miles, places in fetched.items():
            values = {"zip": pending.zip, "filter": pending.filter, "miles": miles,
                      "fetched_at": now, "places": [p.to_json() for p in places]}
            db.execute(insert_for(db)(CachedPlaces).values(**values).on_conflict_do_update(
                index_elements=["zip", "filter", "miles"],
                set_={"fetched_at": now, "places": values["places"]}))

    def finish(self, pending: Pending, fetched: dict[int, list[Place]] | None,
               may_defer: bool = True) -> None:
        """Put the places (or why there are none) into the turn; a texter's search the
        locator failed is handed to ``defer`` when ``may_defer``."""
        turn, lang = pending.turn, pending.turn.lang
        text_them = turn.action == "text_search"
        channel = SMS if text_them else pending.channel   # how the places reach the person
        found = _nearest({**pending.known, **(fetched or {})}) if fetched is not None else None
        if found is None:
            if (channel == SMS and not text_them and may_defer and self.defer is not None
                    and self.defer(pending)):
                reply = self.texts.text(lang, "search.looking", zip=pending.zip)
            else:
                reply = self.texts.text(lang, "search.unavailable", channel, zip=pending.zip)
            self._deliver(pending, reply)
            return
        miles, places = found
        places = [p for p in places if lang in p.languages] + \
                 [p for p in places if lang not in p.languages]
        note = lang in LISTED_LANGUAGES.values() and not any(lang in p.languages for p in places)
        size = PAGE[channel]
        first = 0 if text_them else turn.state.get("step", 0) * size
        page = places[first:first + size]
        values = {"zip": pending.zip, "miles": miles,
                  "what": self.texts.what(lang, pending.filter, channel)}
        if not places:
            reply = self.texts.text(lang, "search.none", channel, **values)
        elif not page:
            reply = self.texts.text(lang, "search.no_more", channel, **values)
        elif channel == VOICE:
            reply = self.texts.voice(lang, pending.filter, miles, page, note)
        else:
            def listed(rest):
                return self.texts.sms(lang, pending.zip, pending.filter, miles, page, first + 1,
                                      more=len(places) > first + size, spanish_note=note,
                                      rest=rest)
            reply = listed([] if text_them else turn.say)
            if not text_them and self._prefix(turn, SMS) and not fits(reply, turn.say):
                turn.say.pop(0)   # the welcome or "didn't get that" gives way to the places
                reply = listed(turn.say)
        self._deliver(pending, reply)

    def _prefix(self, turn: Turn, channel: str) -> bool:
        """Whether the turn starts with what is said before a list (the welcome, "Sorry, I
        didn't get that"): such a line in Spanish can make the whole reply UCS-2."""
        before = {self.texts.text(turn.lang, key, channel) for key in self.before}
        return bool(turn.say) and turn.say[0] in before

    def _deliver(self, pending: Pending, reply: str) -> None:
        """Said before the places node's own lines (after "Sorry, I didn't get that" or the
        welcome when the turn starts with one), or, for a caller who asked for a text, sent
        to their number (the turn already says it is on its way)."""
        turn = pending.turn
        if turn.action == "text_search":
            if TEXTABLE.match(pending.number or ""):
                turn.outbox.append((pending.number, reply))
            return
        turn.say.insert(1 if self._prefix(turn, pending.channel) else 0, reply)


def _nearest(known: dict[int, list[Place]]) -> tuple[int, list[Place]] | None:
    """(distance, places) at the first distance that has any (the last when none has), or
    None when a distance still has to be asked for."""
    for miles in RADII:
        places = known.get(miles)
        if places is None:
            return None
        if places:
            return miles, places
    return RADII[-1], []

