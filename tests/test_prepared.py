"""The hot path's statements run on the driver (helpline.store.prepared): a menu turn and a
call step take that path, it reads and writes every type as SQLAlchemy does, what only
SQLAlchemy can run still goes through it, and a driver's error is SQLAlchemy's error, with a
lost connection invalidated, on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from helpline import create_app
from helpline.store import Contact, Event, core
from helpline.store import prepared as prepared_module

from .conftest import Twilio, settings

CONTACTS = Contact.__table__
BY_HASH = select(CONTACTS).where(CONTACTS.c.number_hash == bindparam("number_hash"))


def store_of(app):
    return app.extensions["helpline"].store


def test_a_menu_turn_and_a_call_step_run_on_the_driver(app, twilio):
    """None of their statements goes through SQLAlchemy's execution: all are seen by the
    prepared statements' watchers, none by the engine's events."""
    from sqlalchemy import event

    store, through_sqlalchemy, on_driver = store_of(app), [], []
    twilio.text("hi")
    twilio.call("/voice", "CA" + "5" * 32)
    event.listen(store.engine, "before_cursor_execute", lambda *args: through_sqlalchemy.append(args[2]))
    store.prepared.watchers.append(lambda sql, parameters, many: on_driver.append(sql))
    for body in ("1", "more", "menu"):
        assert twilio.text(body) != ""
    assert twilio.call("/voice/step?s=1", "CA" + "5" * 32, Digits="1").status_code == 200
    assert through_sqlalchemy == []
    for table in ("INSERT INTO receipts", "FROM contacts", "UPDATE contacts", "FROM conversations",
                  "UPDATE conversations"):
        assert any(table in sql for sql in on_driver), table


def test_values_are_written_and_read_as_sqlalchemy_does(app):
    store = store_of(app)
    when = datetime(2026, 11, 28, 17, 5, 9, 123456)
    state = {"node": "facts", "seen": [1, 2], "lang": "es", "note": "¿qué? \u2014 ok"}
    with store.transaction() as db:
        db.add(Contact(number_hash="h-types", updated_at=when, opted_out=False))
        db.flush()
        core(db).execute(update(CONTACTS).where(CONTACTS.c.number_hash == bindparam("key"))
                         .values(state=bindparam("state", type_=CONTACTS.c.state.type),
                                 limit_noticed=bindparam("noticed", type_=CONTACTS.c.limit_noticed.type),
                                 window_start=bindparam("start", type_=CONTACTS.c.window_start.type)),
                         {"key": "h-types", "state": state, "noticed": True, "start": when})
    with store.transaction() as db:
        on_driver = store.prepared.execute(db.connection(), BY_HASH, {"number_hash": "h-types"}).mappings().one()
        by_sqlalchemy = db.connection().execute(BY_HASH, {"number_hash": "h-types"}).mappings().one()
        assert dict(on_driver) == dict(by_sqlalchemy)
        assert on_driver["state"] == state and on_driver["window_start"] == when
        assert on_driver["limit_noticed"] is True and on_driver["opted_out"] is False
        assert db.get(Contact, "h-types").state == state
    assert (BY_HASH, frozenset({"number_hash"})) in store.prepared.compiled


def test_what_only_sqlalchemy_can_run_still_goes_through_it(app, monkeypatch):
    store = store_of(app)
    now = datetime(2026, 11, 28, 17, 0)
    with store.transaction() as db:
        connection = db.connection()
        # opted_out and the others have their defaults in Python: SQLAlchemy computes them
        new = insert(CONTACTS)
        assert store.prepared.execute(connection, new, {"number_hash": "h-new", "updated_at": now}) is None
        core(db).execute(new, {"number_hash": "h-new", "updated_at": now})
        many = [{"at": now, "channel": "sms", "name": name, "value": None} for name in ("a", "b")]
        assert store.prepared.execute(connection, insert(Event.__table__), many) is None
        expanding = select(CONTACTS.c.number_hash).where(
            CONTACTS.c.number_hash.in_(bindparam("hashes", expanding=True)))
        assert store.prepared.execute(connection, expanding, {"hashes": ["h-new"]}) is None
        assert core(db).execute(expanding, {"hashes": ["h-new"]}).scalars().all() == ["h-new"]
        assert store.prepared.execute(connection, text("SELECT lang FROM contacts"), {}) is None
        assert core(db).execute(text("SELECT lang FROM contacts")).all() == [(None,)]
        monkeypatch.setattr(prepared_module, "MAX_STATEMENTS", len(store.prepared.compiled))
        assert store.prepared.execute(connection, select(CONTACTS.c.lang), {}) is None
    with store.transaction() as db:
        assert db.get(Contact, "h-new").opted_out is False


def test_a_driver_error_is_sqlalchemys_with_its_parameters_hidden(app):
    store = store_of(app)
    duplicate = {"number_hash": "h-secret-7731", "updated_at": datetime(2026, 11, 28), "opted_out": False,
                 "window_count": 0, "limit_noticed": False, "chat_open": False, "lang": None,
                 "window_start": None, "state": None}
    with store.transaction() as db:
        core(db).execute(insert(CONTACTS), duplicate)
    with pytest.raises(IntegrityError) as raised, store.transaction() as db:
        core(db).execute(insert(CONTACTS), duplicate)
    assert "parameters hidden" in str(raised.value) and "'h-secret-7731'" not in str(raised.value)
    with store.transaction() as db:   # the connection is usable again
        assert core(db).execute(BY_HASH, {"number_hash": "h-secret-7731"}).mappings().one()["opted_out"] is False


def test_a_connection_lost_mid_transaction_is_invalidated_and_the_next_one_works(tmp_path, cut_postgres):
    proxy, url = cut_postgres
    app = create_app(settings(tmp_path, DATABASE_URL=url))
    Twilio(app.test_client()).text("hi")
    store = store_of(app)
    with pytest.raises(OperationalError) as raised, store.transaction() as db:
        connection = db.connection()
        core(db).execute(select(CONTACTS.c.lang), {})
        proxy.kill()
        try:
            core(db).execute(BY_HASH, {"number_hash": "h"})
        finally:
            invalidated = connection.invalidated   # discarded, not returned to the pool
    assert raised.value.connection_invalidated and invalidated
    proxy.revive()
    with store.transaction() as db:
        assert core(db).execute(select(CONTACTS.c.lang), {}).all() == [("en",)]
    store.engine.dispose()
