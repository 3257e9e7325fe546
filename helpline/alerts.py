"""For the people who keep the helpline staffed: SMS alerts to representatives on duty or,
when nobody is, to the coordinators.

An alert names a language, a time, a PIN, a chat code: never the caller's or texter's
number. From an SMS webhook alerts ride in its TwiML reply; from a voice webhook they are
queued for the worker, which sends them by REST with retries (a caller never waits on
Twilio's API).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from .store import Event
from .webhook import Scope

log = logging.getLogger(__name__)


def to_on_duty(s: Scope, key: str, **values) -> list[tuple[str, str]]:
    """An SMS to every representative on duty, or to the coordinators when nobody is."""
    roster, services = s.roster, s.services
    recipients = [n for n in map(roster.number_of, roster.on_duty(s.now)) if n] or services.coordinators
    text = services.staff_text(key, time=services.local_time(s.now), **values)
    return [(number, text) for number in recipients]


def unstaffed(s: Scope, lang: str, channel: str) -> list[tuple[str, str]]:
    """Coordinators hear that someone asked for a person and nobody was on duty, at most
    once per COORDINATOR_ALERT_MINUTES. Outside opening hours nobody is expected."""
    services, now = s.services, s.now
    if not services.coordinators or not services.hours.is_open(now) or s.roster.on_duty(now):
        return []
    since = now - timedelta(minutes=services.config["COORDINATOR_ALERT_MINUTES"])
    if s.db.execute(select(Event.id).where(Event.name == "coordinator_alert", Event.at > since)).first():
        return []
    s.record(channel, ["coordinator_alert"])
    text = services.staff_text("rep.sms.unstaffed", via=channel, time=services.local_time(now),
                               language=services.content.languages[lang].name)
    return [(number, text) for number in services.coordinators]


def locked(services, rep_id: int | None, now: datetime) -> list[tuple[str, str]]:
    """Coordinators hear when wrong passcodes or PINs lock calling in: someone may be
    guessing."""
    if rep_id:
        who = services.staff_text("rep.sms.locked_one", rep=rep_id)
    else:
        who = services.staff_text("rep.sms.locked_all")
    text = services.staff_text("rep.sms.locked", who=who, time=services.local_time(now))
    if not services.coordinators:
        log.warning("calling in is locked after wrong passcodes or PINs; no coordinators to tell")
    return [(number, text) for number in services.coordinators]
