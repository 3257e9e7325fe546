"""What the whole app keeps, and where: import from here (``from helpline.store import Store, Chat``).

The tables are in :mod:`~helpline.store.models`, the engine, sessions and transactions in
:mod:`~helpline.store.database`, the look-ups every webhook makes in :mod:`~helpline.store.lookups`,
the hot path's statements run on the driver in :mod:`~helpline.store.prepared` and SQLite's
queued writers in :mod:`~helpline.store.sqlite_writers`.
"""
from .database import Store, core
from .lookups import insert_for
from .models import (
    AuthFailure,
    Base,
    Beat,
    Callback,
    Chat,
    Checkin,
    Contact,
    Conversation,
    Event,
    Receipt,
    Representative,
    Shift,
    Voicemail,
    utcnow,
)
from .sqlite_writers import WriterQueue

__all__ = ["AuthFailure", "Base", "Beat", "Callback", "Chat", "Checkin", "Contact", "Conversation", "Event",
           "Receipt", "Representative", "Shift", "Store", "Voicemail", "WriterQueue", "core", "insert_for",
           "utcnow"]
