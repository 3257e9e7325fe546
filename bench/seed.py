"""Fill a database with stored sessions in bulk, as a helpline that has run for a while has them:
``python -m bench.seed DATABASE_URL SESSIONS HASH_KEY`` (bench/run.py runs it in the app's
tree, so the app's own models and migrations are used).

Three sessions in four are texters (a conversation keyed by the number's keyed hash, a contact
row and a receipt), one in four a call (keyed by CallSid); all idle for up to 30 days.
Rows go straight in with SQLAlchemy, 5,000 at a time; no webhook is involved.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

from sqlalchemy import insert

from helpline.config import database_url
from helpline.security import hash_number
from helpline.store import Contact, Conversation, Receipt, Store, utcnow

from .load import phone_numbers

BATCH = 5000


def rows(sessions: int, hash_key: str, now, start: int, stop: int):
    """The contacts, conversations and receipts of sessions ``start`` to ``stop``."""
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
                             updated_at=at, window_count=0, limit_noticed=False))
        conversations.append(dict(channel="sms", key=number_hash, caller_hash=None, state=state,
                                  created_at=at - timedelta(minutes=9), updated_at=at))
        receipts.append(dict(sid=f"SM{i:032x}", at=at))
    return contacts, conversations, receipts


def seed(url: str, sessions: int, hash_key: str) -> float:
    started = time.perf_counter()
    store = Store(database_url(url, ""))
    if not store.migrate():
        raise SystemExit(f"cannot reach or migrate {url}")
    now = utcnow()
    with store.engine.begin() as conn:
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
    url, sessions, hash_key = argv[0], int(argv[1]), argv[2]
    seconds = seed(url, sessions, hash_key)
    print(f"  seeded {sessions} sessions in {seconds:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
