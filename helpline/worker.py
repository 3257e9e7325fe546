"""The worker's tasks: texts sent by Twilio's REST API with retries, the chat timers, the
check-ins, the heartbeat and the daily purge. Run them with ``flask --app helpline worker``.

Every task reads the time from ``helpline.clock`` and the facts from the database, so a
task that runs twice, late, or on two workers at once does its work once.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from huey import crontab

from . import checkin, nearby, retention, waiting
from .hours import UTC
from .queue import aware, periodic, task
from .queue_huey import RetryTask
from .store import Beat, Contact
from .treatment_search import Pending
from .twilio_api import FAILED, RETRY

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=10)
GIVE_UP = timedelta(minutes=10)
WORKER_WAIT_FACTOR = 4   # the worker gives the locator 4 times the webhook's wait, per try
SEARCH_RETRY = timedelta(seconds=30)
SEARCH_GIVE_UP = timedelta(minutes=2)


@task("sms.send")
def send_sms(helpline, sealed: str, kind: str, first_at: datetime) -> None:
    """One text. 429, 5xx and network errors are tried again after 10 s, then after as
    long again as already waited (10, 20, 40 s ...), for ten minutes in all."""
    clear = helpline.vault.decrypt(sealed)
    if clear is None:
        log.error("an SMS (%s) could not be unsealed and was not sent", kind)
        return
    message = json.loads(clear)
    if message["hash"] and _opted_out(helpline, message["hash"]):
        return
    outcome = helpline.api.send_sms(message["to"], message["body"])
    if outcome == FAILED:
        log.error("an SMS (%s) was not sent", kind)
    if outcome != RETRY:
        return
    now = helpline.clock.now()
    waited = now - first_at
    if waited >= GIVE_UP:
        log.error("an SMS (%s) was not sent: Twilio could not take it for %d minutes",
                  kind, GIVE_UP.total_seconds() // 60)
        return
    raise RetryTask(eta=aware(now + min(max(waited, FIRST_RETRY), GIVE_UP - waited)))


@task("treatment.search")
def search_later(helpline, sealed: str, first_at: datetime) -> None:
    """A texter's ZIP code search the locator was too slow for inside the webhook: asked
    again with more time, every 30 s for two minutes, and the list (or, in the end, the
    national helpline and the link) sent by text."""
    unsealed = Pending.unseal(helpline.vault, sealed)
    if unsealed is None:
        log.error("a treatment search could not be unsealed")
        return
    pending, number_hash = unsealed
    fetched = nearby.fetch(helpline, pending, helpline.clock.now(),
                           wait=helpline.searches.wait * WORKER_WAIT_FACTOR)
    now = helpline.clock.now()
    if fetched is None and now - first_at < SEARCH_GIVE_UP:
        raise RetryTask(eta=aware(now + SEARCH_RETRY))
    helpline.searches.finish(pending, fetched, may_defer=False)
    helpline.queue.send_texts([(pending.number, "\n".join(pending.turn.say))], "search",
                              number_hash)


def _opted_out(helpline, texter_hash: str) -> bool:
    with helpline.store.transaction() as db:
        contact = db.get(Contact, texter_hash)
        return bool(contact and contact.opted_out)


@task("chat.timers")
def chat_timers(helpline, chat_id: int) -> None:
    """A chat's next timer: does what is due, then queues itself for the next one."""
    now = helpline.clock.now()
    next_at = waiting.run(helpline, chat_id, now)
    if next_at is not None and next_at > now:
        helpline.queue.enqueue("chat.timers", chat_id, at=next_at)


@task("checkin.send")
def checkin_send(helpline, checkin_id: int) -> None:
    checkin.send_due(helpline, helpline.clock.now(), checkin_id)


@periodic("worker.sweep", crontab())
def sweep(helpline) -> None:
    """Every minute: every open chat's timers and every due check-in, whether or not their
    own task was queued (the queue store may have been down when they began)."""
    now = helpline.clock.now()
    waiting.sweep(helpline, now)
    checkin.send_due(helpline, now)


@periodic("worker.heartbeat", crontab())
def heartbeat(helpline) -> None:
    with helpline.store.transaction() as db:
        _beat(db, "heartbeat", helpline.clock.now())


@periodic("worker.purge", crontab(minute="*/15"))
def purge(helpline) -> None:
    """Once a day, in the hour PURGE_HOUR of HELPLINE_TIMEZONE, what `purge` deletes."""
    now = helpline.clock.now()
    local = now.replace(tzinfo=UTC).astimezone(helpline.hours.zone)
    if local.hour != helpline.config["PURGE_HOUR"]:
        return
    with helpline.store.transaction() as db:
        last = db.get(Beat, "purge", with_for_update=True)
        if last is not None and now - last.at < timedelta(hours=12):
            return
        counts, recordings = retention.purge(
            db, timedelta(days=helpline.config["RETENTION_DAYS"]), now)
        _beat(db, "purge", now)
    deleted = sum(helpline.api.delete_recording(sid) for sid in recordings)
    log.info("purged %s; recordings deleted at Twilio: %d of %d",
             ", ".join(f"{name}: {count}" for name, count in counts.items()), deleted,
             len(recordings))


def _beat(db, name: str, now: datetime) -> None:
    beat = db.get(Beat, name, with_for_update=True)
    if beat is None:
        db.add(Beat(name=name, at=now))
    else:
        beat.at = now
