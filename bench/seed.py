"""Fill a database with stored sessions in bulk, as a helpline that has run for a while has them:
``python -m bench.seed DATABASE_URL SESSIONS HASH_KEY ENCRYPTION_KEY`` (bench/run.py runs it in the app's
tree, so the app's own models and migrations are used).

Three sessions in four are texters (a contact row keyed by the number's keyed hash, holding
their place in the menu, and a receipt), one in four a call (a conversation keyed by CallSid);
all idle for up to 30 days.
Rows go straight in with SQLAlchemy, 5,000 at a time; no webhook is involved.

The roster gets 10 representatives, off duty, each with two weekly shifts on days that are
neither today nor tomorrow: every webhook pays for reading the roster and its shifts, as in a
helpline at night, and "0" reaches the "nobody is free" menu.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from helpline.config import database_url
from helpline.security import hash_number
from helpline.store import Contact, Conversation, Receipt, Representative, Store, utcnow

from .load import phone_numbers

BATCH = 5000
REPRESENTATIVES = 10


def rows(sessions: int, hash_key: str, now, start: int, stop: int):
    """The contacts, call conversations and receipts of sessions ``start`` to ``stop``."""
    rnd = random.Random(start)
    contacts, conversations, receipts = [], [], []
    numbers = phone_numbers(sessions, prefix="+1303")
    for i in range(start, stop):
        number_hash = hash_number(hash_key, numbers[i])
        at = now - timedelta(minutes=rnd.randint(0, 30 * 24 * 60))
        lang = "es" if i % 5 == 0 else "en"
        state = {"lang": lang, "node": rnd.choice(["main", "facts", "treatment", "mat"]),
                 "step": 0, "trail": ["main"], "misses": 0, "opted_out": False,
                 "turns": rnd.randint(1, 12)}
        if i % 4 == 3:
            conversations.append(dict(channel="voice", key=f"CA{i:032x}", caller_hash=number_hash,
                                      state=state, created_at=at - timedelta(minutes=4),
                                      updated_at=at))
            continue
        contacts.append(dict(number_hash=number_hash, lang=lang, opted_out=i % 97 == 0,
                             updated_at=at, window_count=0, limit_noticed=False, state=state))
        receipts.append(dict(sid=f"SM{i:032x}", at=at))
    return contacts, conversations, receipts


def roster(conn, hash_key: str, encryption_key: str, timezone: str, now) -> None:
    vault = Fernet(encryption_key)
    for i, number in enumerate(phone_numbers(REPRESENTATIVES, prefix="+1404555")):
        conn.execute(insert(Representative.__table__).values(
            number_hash=hash_number(hash_key, number), name=f"Rep {i + 1}", on_duty=False,
            number_encrypted=vault.encrypt(number.encode()).decode(), created_at=now))
    try:
        from helpline.store import Shift
    except ImportError:  # an older tree, before shifts
        return
    today = datetime.now(ZoneInfo(timezone)).weekday()
    days = [(today + n) % 7 for n in range(2, 7)]
    ids = conn.execute(select(Representative.__table__.c.id)).scalars().all()
    conn.execute(insert(Shift.__table__), [
        dict(rep_id=rep_id, weekday=days[(i + k) % len(days)], start="09:00", end="17:00")
        for i, rep_id in enumerate(ids) for k in (0, 2)])


def seed(url: str, sessions: int, hash_key: str, encryption_key: str = "",
         timezone: str = "America/New_York") -> float:
    started = time.perf_counter()
    store = Store(database_url(url, ""))
    if not store.migrate():
        raise SystemExit(f"cannot reach or migrate {url}")
    now = utcnow()
    with store.engine.begin() as conn:
        if encryption_key:
            roster(conn, hash_key, encryption_key, timezone, now)
        for start in range(0, sessions, BATCH):
            contacts, conversations, receipts = rows(sessions, hash_key, now, start,
                                                     min(sessions, start + BATCH))
            for table, values in ((Contact.__table__, contacts),
                                  (Conversation.__table__, conversations),
                                  (Receipt.__table__, receipts)):
                if values:
                    conn.execute(insert(table), values)
    store.engine.dispose()
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    url, sessions, hash_key, encryption_key = argv[0], int(argv[1]), argv[2], argv[3]
    seconds = seed(url, sessions, hash_key, encryption_key)
    print(f"  seeded {sessions} sessions in {seconds:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
