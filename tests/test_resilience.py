"""Scale out and stay up: concurrency, retries, rate limits, fallbacks, a database that
disappears, size limits, migrations, and logs that never hold a number or a message."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text, update

from helpline import create_app, texter
from helpline.store import Base, Contact, Event, Voicemail, core, utcnow

from .conftest import CALLER, TEXTER, Twilio, settings, twiml


def body_of(response) -> str:
    assert response.status_code == 200, response.data
    return "\n".join(m.text or "" for m in twiml(response).iter("Message"))


# -- concurrency and retries --------------------------------------------------------------------

def test_simultaneous_messages_from_one_number_lose_no_update(make_app):
    """Threads post at the same moment; every turn must be counted in the saved state."""
    helpline = make_app(RATE_LIMIT_PER_MINUTE=0).extensions["helpline"]
    texter.receive(helpline, TEXTER, "hi")
    barrier = threading.Barrier(8)
    errors = []

    def send():
        barrier.wait()
        try:
            for _ in range(3):
                texter.receive(helpline, TEXTER, "more")
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with helpline.store.transaction() as db:
        contact = db.execute(select(Contact)).scalar_one()
        assert contact.state["turns"] == 1 + 8 * 3
        assert db.execute(select(func.count()).select_from(Contact)).scalar_one() == 1


def test_a_message_twilio_delivers_twice_acts_once(app, twilio):
    twilio.text("hi")
    data = {"From": TEXTER, "Body": "3", "MessageSid": "SM" + "d" * 32}
    first = body_of(twilio.post("/sms", data))
    again = twilio.post("/sms", data)
    assert "Outpatient" in first
    assert body_of(again) == ""
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Contact.state)).scalar_one()["turns"] == 2
        assert db.execute(select(func.count()).select_from(Event)
                          .where(Event.name == "choice:treatment")).scalar_one() == 1


def test_a_call_step_twilio_delivers_twice_acts_once(twilio):
    sid = "CA" + "9" * 32
    root = twiml(twilio.post("/voice", {"CallSid": sid}))
    action = root.find("Gather").get("action")
    twiml(twilio.post(action, {"CallSid": sid}))  # silence: on to the main menu
    main = twiml(twilio.post("/voice/step?s=2", {"CallSid": sid, "Digits": "3"}))
    assert "Treatment works" in " ".join(s.text for s in main.iter("Say"))
    retry = twiml(twilio.post("/voice/step?s=2", {"CallSid": sid, "Digits": "3"}))
    spoken = " ".join(s.text for s in retry.iter("Say"))
    assert "Treatment works" in spoken and "Sorry" not in spoken  # repeated, not chosen again


def test_core_statements_come_after_what_the_orm_session_has_pending(app):
    """The hot path's Core statements run on the transaction's connection, not through the
    session: whatever the session holds is written first, as its own execute would do."""
    store = app.extensions["helpline"].store
    with store.transaction() as db:
        db.add(Contact(number_hash="h1", lang="es", updated_at=utcnow()))
        count = select(func.count()).select_from(Contact)
        assert core(db).execute(count).scalar_one() == 1
        db.get(Contact, "h1").lang = "fr"
        core(db).execute(update(Contact).values(lang="en"))
    with store.transaction() as db:
        assert db.get(Contact, "h1").lang == "en"
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.add(Contact(number_hash="h2", updated_at=utcnow()))
        core(db).execute(update(Contact).values(lang="de"))
        raise RuntimeError("the turn failed")
    with store.transaction() as db:
        assert [(c.number_hash, c.lang) for c in db.execute(select(Contact)).scalars()] == [("h1", "en")]


def test_a_menu_turn_and_a_call_step_never_begin_an_orm_transaction(app, twilio):
    """A texter at the menu and a caller at a step are served with Core statements alone:
    the ORM session's transaction costs more than the statements (bench/README.md)."""
    from sqlalchemy import event

    sessions, begun = app.extensions["helpline"].store.sessions, []

    def began(session, transaction, connection):
        begun.append(session)

    twilio.text("hi")
    twilio.call("/voice", "CA" + "4" * 32)
    event.listen(sessions, "after_begin", began)
    try:
        for body in ("1", "more", "menu", "3"):
            twilio.text(body)
        assert twilio.call("/voice/step?s=1", "CA" + "4" * 32, Digits="1").status_code == 200
    finally:
        event.remove(sessions, "after_begin", began)
    assert begun == []


# -- rate limit ---------------------------------------------------------------------------------

def test_rate_limit_one_notice_then_silence_but_crisis_and_stop_always(make_app):
    app = make_app(RATE_LIMIT_PER_MINUTE=5)
    twilio = Twilio(app.test_client())
    for _ in range(5):
        assert twilio.text("hello") != ""
    assert "pause replies for a minute" in twilio.text("hello")
    assert twilio.text("hello") == ""
    assert twilio.text("1") == ""
    assert "call 911 now" in twilio.text("he is not breathing")
    assert "opted out" in twilio.text("STOP")
    assert "opted back in" in twilio.text("START")
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Contact).values(window_start=utcnow() - timedelta(minutes=2)))
    assert "Reply with a number" in twilio.text("menu")


def test_rate_limit_is_per_number(make_app):
    app = make_app(RATE_LIMIT_PER_MINUTE=2)
    twilio = Twilio(app.test_client())
    for _ in range(3):
        twilio.text("hi")
    assert twilio.text("hi") == ""
    assert twilio.text("hi", "+15555550777") != ""


# -- fallbacks ----------------------------------------------------------------------------------

def test_sms_fallback_is_signed_static_and_has_the_national_numbers(make_app, tmp_path):
    app = make_app()
    app.extensions["helpline"].store.engine.dispose()
    app.extensions["helpline"].store.engine = create_engine("sqlite:////nonexistent/dir/x.db")
    twilio = Twilio(app.test_client())
    assert app.test_client().post("/sms/fallback", data={"From": TEXTER}).status_code == 403
    reply = body_of(twilio.post("/sms/fallback", {"From": TEXTER, "Body": "hi"}))
    assert "988" in reply and "1-800-662-4357" in reply and "988" in reply.split("\n")[1]
    assert "call 911 now" in body_of(twilio.post("/sms/fallback", {"From": TEXTER, "Body": "overdose"}))


def test_voice_fallback_never_hangs_up(app):
    twilio = Twilio(app.test_client())
    assert app.test_client().post("/voice/fallback", data={"CallSid": "CA1"}).status_code == 403
    root = twiml(twilio.post("/voice/fallback", {"CallSid": "CA1"}))
    says = list(root.iter("Say"))
    assert {s.get("language") for s in says} == {"en-US", "es-US"}
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in says[0].text and "9 8 8" in says[0].text
    assert root.find("Gather").get("action") == "/voice/fallback"
    assert root.find("Redirect").text == "/voice/fallback"
    assert root.find("Hangup") is None


def test_stop_at_the_fallback_is_spooled_and_saved_later(app):
    twilio = Twilio(app.test_client())
    assert "opted out" in body_of(twilio.post("/sms/fallback", {"From": TEXTER, "Body": "STOP"}))
    assert twilio.text("hi") == ""  # the next webhook that reaches the database saves it
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Contact.opted_out)).scalar_one() is True


def test_an_opt_out_saved_later_does_not_bring_back_an_old_place_in_the_menu(app):
    """The contact row holds the texter's place; the spooled STOP that refreshes the row's
    time must not make an idle place live again."""
    twilio = Twilio(app.test_client())
    twilio.text("hi")
    twilio.text("3")
    with app.extensions["helpline"].store.transaction() as db:
        db.execute(update(Contact).values(updated_at=utcnow() - timedelta(hours=2)))
    body_of(twilio.post("/sms/fallback", {"From": TEXTER, "Body": "STOP"}))
    assert twilio.text("hi") == ""   # the STOP is saved first, and holds
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Contact.state)).scalar_one()["turns"] == 1   # afresh, not the 3rd turn


# -- the database goes away ---------------------------------------------------------------------

def test_app_starts_and_answers_with_no_database(tmp_path):
    app = create_app(settings(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:1/none"))
    twilio = Twilio(app.test_client())
    started = time.monotonic()
    reply = twilio.text("hi")
    assert "988" in reply and "1-800-662-4357" in reply
    assert "call 911 now" in twilio.text("overdose")
    root = twiml(twilio.post("/voice", {"CallSid": "CA1", "From": CALLER}))
    assert root.find("Gather") is not None and root.find("Hangup") is None
    assert time.monotonic() - started < 2
    assert app.test_client().get("/healthz").status_code == 503


def test_database_killed_mid_conversation(tmp_path, cut_postgres):
    proxy, url = cut_postgres
    app = create_app(settings(tmp_path, DATABASE_URL=url, DB_RETRY_SECONDS=1))
    twilio = Twilio(app.test_client())
    assert "Reply with a number" in twilio.text("hi")
    assert "Outpatient" in twilio.text("3")
    sid = "CA" + "k" * 32
    twiml(twilio.post("/voice", {"CallSid": sid, "From": CALLER}))

    proxy.kill()
    started = time.monotonic()
    assert "988" in twilio.text("1")
    assert "call 911 now" in twilio.text("my friend overdosed")
    assert "opted out" in twilio.text("STOP")
    root = twiml(twilio.post("/voice/step?s=1", {"CallSid": sid, "Digits": "1"}))
    assert root.find("Gather") is not None and root.find("Hangup") is None
    root = twiml(twilio.post("/voice/recorded", {"CallSid": sid, "From": CALLER,
                                                 "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/"
                                                                 "AC" + "1" * 32 + "/Recordings/RE" + "9" * 32,
                                                 "RecordingDuration": "12"}))
    assert root.find("Hangup") is None
    assert time.monotonic() - started < 2 * 5
    assert app.test_client().get("/healthz").status_code == 503

    proxy.revive()
    time.sleep(1.1)
    assert twilio.text("menu") == ""  # the STOP sent during the outage holds
    with app.extensions["helpline"].store.transaction() as db:
        assert db.execute(select(Contact.opted_out)).scalar_one() is True
        assert db.execute(select(Voicemail.recording_url)).scalar_one().endswith("/RE" + "9" * 32)
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["helpline"].store.engine.dispose()


# -- limits, schema, logs -----------------------------------------------------------------------

def test_oversized_requests_get_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    twilio = Twilio(app.test_client())
    assert twilio.sms("x" * 4000).status_code == 413


def test_migrations_match_the_models(app):
    with app.extensions["helpline"].store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "models changed without a migration: flask --app helpline db revision"


def test_migrating_twice_is_harmless(app, twilio):
    from alembic.script import ScriptDirectory

    from helpline.migrate import MIGRATIONS, upgrade

    twilio.text("ESPAÑOL")
    engine = app.extensions["helpline"].store.engine
    upgrade(engine)
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        assert conn.execute(select(Contact.lang)).scalars().all() == ["es"]
    assert "Elija un número" in twilio.text("menu")  # the conversation goes on where it was


def test_a_whole_conversation_leaves_no_number_or_message_in_the_logs(make_app, caplog):
    caplog.set_level("DEBUG")
    rep = "+15555550901"
    app = make_app(HELPLINE_REPRESENTATIVES=rep)
    twilio = Twilio(app.test_client())
    secret = "my private words 4471"
    for body in ["hi", secret, "3", "0"]:
        twilio.text(body)
    twilio.sms("STATUS", rep)
    twilio.sms("NEXT", rep)
    twilio.text(secret)
    twilio.sms("a private reply 9913", rep)
    twilio.sms("DONE", rep)
    twilio.text("STOP")
    sid = "CA" + "p" * 32
    twilio.post("/voice", {"CallSid": sid, "From": CALLER})
    twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "SpeechResult": secret})
    twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "Digits": "0"})
    twilio.client.post("/sms", data={"From": TEXTER, "Body": secret},
                       headers={"X-Twilio-Signature": "bad"})
    for needle in [TEXTER, TEXTER[2:], CALLER, CALLER[2:], rep, rep[2:], "4471", "9913", "private"]:
        assert needle not in caplog.text, needle
