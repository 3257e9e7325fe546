"""Records that must not be lost while the database is away: opt-outs, opt-ins and
voicemails, kept in a local file (hashes and recording addresses only, never a number or a
message) and written to the database as soon as it answers again."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from pathlib import Path

from sqlalchemy.orm import Session

from .config import private_file
from .store import Contact, Voicemail, utcnow

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, path: str):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.pending = self.path.exists() and self.path.stat().st_size > 0

    def add(self, record: dict) -> None:
        with self.lock, open(private_file(self.path), "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.pending = True
        log.warning("database unavailable: a %s was spooled to be saved later", record["kind"])

    def replay(self, db: Session) -> None:
        """Apply and clear what was spooled; called inside a working transaction, so a
        failure leaves the file as it was."""
        if not self.pending:
            return
        with self.lock, open(self.path, "r+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            records = [json.loads(line) for line in f if line.strip()]
            for record in records:
                _apply(db, record)
            db.flush()
            f.seek(0)
            f.truncate()
        self.pending = False
        if records:
            log.info("saved %d spooled record(s)", len(records))


def _apply(db: Session, record: dict) -> None:
    kind = record["kind"]
    if kind in ("opt_out", "opt_in"):
        contact = db.get(Contact, record["hash"])
        if contact is None:
            contact = Contact(number_hash=record["hash"], window_count=0, limit_noticed=False)
            db.add(contact)
        contact.opted_out = kind == "opt_out"
        # a place in the menu is not brought back to life by this later write: the texter
        # starts afresh, as after any time away
        contact.updated_at, contact.state = utcnow(), None
    elif kind == "voicemail":
        if db.query(Voicemail).filter_by(call_sid=record["call_sid"]).first() is None:
            db.add(Voicemail(call_sid=record["call_sid"], caller_hash=record.get("caller_hash"),
                             recording_url=record["url"], recording_sid=record.get("sid"),
                             duration=record["duration"], lang=record["lang"], created_at=utcnow()))
