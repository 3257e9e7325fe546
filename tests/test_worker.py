"""Time moving on with no text from anyone: the worker's tasks, driven by the test's clock
with the queue in immediate mode (tasks run at once; timers when ``tick`` says)."""
from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from helpline.store import Callback, Chat, Checkin, Contact, Conversation, Representative, utcnow

from .conftest import TEXTER, Twilio, twiml

REP_A, REP_B, COORDINATOR = "+15555550901", "+15555550902", "+15555550999"
HELPLINE, ACCOUNT, CALLER = "+15555550100", "AC" + "0" * 32, "+15555550188"


@pytest.fixture
def app(make_app, standin):
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_NUMBER=HELPLINE,
                   HELPLINE_COORDINATORS=COORDINATOR, TWILIO_ACCOUNT_SID=ACCOUNT,
                   TWILIO_API_BASE=standin.url)
    app.extensions["helpline"].clock.set(utcnow().replace(microsecond=0))
    return app


@pytest.fixture
def twilio(app):
    return Twilio(app.test_client())


def helpline_of(app):
    return app.extensions["helpline"]


def tick(app, **delta) -> None:
    """Move the clock on and run what the worker would run by then."""
    helpline = helpline_of(app)
    helpline.queue.run_due(helpline.clock.advance(**delta))


def sent(standin, to=None) -> list[str]:
    """Texts Twilio accepted (201), optionally to one number."""
    return [r["form"]["Body"] for r in standin.requests
            if r["method"] == "POST" and r.get("status") == 201 and (to is None or r["form"]["To"] == to)]


def reply(response) -> str:
    assert response.status_code == 200, response.data
    return "\n".join(m.text or "" for m in twiml(response).iter("Message") if m.get("to") is None)


def ask_for_person(twilio, number=TEXTER):
    twilio.sms("hi", number)
    response = twilio.sms("0", number)
    assert response.status_code == 200
    return twiml(response)


def chat_of(app) -> Chat:
    with helpline_of(app).store.transaction() as db:
        return db.execute(select(Chat).order_by(Chat.id.desc())).scalars().first()


def set_languages(app, number, languages):
    helpline = helpline_of(app)
    with helpline.store.transaction() as db:
        db.execute(update(Representative).where(Representative.number_hash == helpline.hash(number))
                   .values(languages=languages))


# -- a texter waiting for a person ---------------------------------------------------------------

def test_offered_to_everyone_after_language_first_seconds_with_no_new_text(app, twilio, standin):
    set_languages(app, REP_B, "es,en")
    twilio.sms("hola")
    twilio.sms("español")
    offers = [m for m in twiml(twilio.sms("0")).iter("Message") if m.get("to")]
    assert [m.get("to") for m in offers] == [REP_B]
    tick(app, seconds=14)
    assert sent(standin, REP_A) == []
    tick(app, seconds=1)
    [offer] = sent(standin, REP_A)
    assert "wants a person (Español)" in offer


def test_a_waiting_texter_through_every_timer_to_a_kind_end(app, twilio, standin):
    ask_for_person(twilio)
    code = chat_of(app).code
    tick(app, minutes=4, seconds=59)
    assert sent(standin) == []
    tick(app, seconds=1)                                   # 5 min: the first reminder
    assert sent(standin, REP_A) == sent(standin, REP_B) == [
        f"Still waiting: texter #{code} (English), 5 min. Reply ACCEPT {code} to chat."]
    tick(app, minutes=5)                                   # 10 min: notice and second reminder
    [notice] = sent(standin, TEXTER)
    assert "You're number 1 in line" in notice and "988" in notice and "1-800-662-4357" in notice
    assert "CALLBACK" in notice
    assert len(sent(standin, REP_A)) == 2
    tick(app, minutes=5)                                   # 15 min: coordinators told
    [escalation] = sent(standin, COORDINATOR)
    assert f"#{code}" in escalation and "15 min" in escalation and "On duty now: 2" in escalation
    tick(app, minutes=15)                                  # 30 min: no third reminder
    assert len(sent(standin, REP_A)) == 2 and len(sent(standin, TEXTER)) == 1
    tick(app, minutes=14, seconds=59)
    assert chat_of(app).status == "waiting"
    tick(app, seconds=1)                                   # 45 min: the wait ends kindly
    assert chat_of(app).status == "ended"
    gave_up = sent(standin, TEXTER)[-1]
    assert "no one was free" in gave_up and "988" in gave_up and "1-800-662-4357" in gave_up
    assert "CALLBACK" in gave_up
    for number in (REP_A, REP_B, COORDINATOR):
        assert sent(standin, number)[-1].startswith(f"#{code} waited 45 min with no answer")
    tick(app, minutes=30)
    assert len(sent(standin, TEXTER)) == 2                 # nothing after the end
    assert "A person will call you back" in reply(twilio.sms("CALLBACK"))
    with helpline_of(app).store.transaction() as db:
        assert db.execute(select(Callback)).scalars().one().channel == "sms"


def test_spanish_texter_is_told_in_spanish(app, twilio, standin):
    twilio.sms("hola")
    twilio.sms("español")
    twilio.sms("0")
    tick(app, minutes=10)
    [notice] = sent(standin, TEXTER)
    assert "Es el número 1 en la fila" in notice and "LLAMENME" in notice
    tick(app, minutes=35)
    assert "nadie pudo atenderle" in sent(standin, TEXTER)[-1]
    assert "0123" in reply(twilio.sms("LLAMENME"))         # the call-back confirmation


def test_callback_offered_by_the_wait_notice_is_taken_while_still_in_line(app, twilio, standin):
    ask_for_person(twilio)
    tick(app, minutes=10)
    assert "CALLBACK" in sent(standin, TEXTER)[0]
    assert "A person will call you back at the number ending in 0123" in reply(twilio.sms("callback"))
    assert chat_of(app).status == "waiting"
    with helpline_of(app).store.transaction() as db:
        assert db.execute(select(Callback)).scalars().one().channel == "sms"


def test_place_in_line_counts_those_who_waited_longer(app, twilio, standin):
    ask_for_person(twilio)
    tick(app, minutes=1)
    ask_for_person(twilio, "+15555550124")
    tick(app, minutes=10)
    assert "number 1 in line" in sent(standin, TEXTER)[0]
    assert "number 2 in line" in sent(standin, "+15555550124")[0]


def test_accepted_one_second_before_the_give_up_is_left_alone(app, twilio, standin):
    ask_for_person(twilio)
    code = chat_of(app).code
    tick(app, minutes=44, seconds=59)
    twilio.sms(f"ACCEPT {code}", REP_A)
    tick(app, seconds=1)
    assert chat_of(app).status == "active"
    assert not any("no one was free" in t for t in sent(standin, TEXTER))
    assert not any("withdrawn" in t for t in sent(standin))


def test_stop_while_a_reminder_is_queued_ends_the_wait_and_nothing_is_sent(app, twilio, standin):
    ask_for_person(twilio)
    assert helpline_of(app).queue.huey.scheduled_count() == 1
    tick(app, minutes=4)
    twilio.sms("STOP")
    tick(app, minutes=50)
    assert chat_of(app).status == "ended"
    assert sent(standin) == []


def test_a_representative_going_off_between_offer_and_reminder_is_not_reminded(app, twilio, standin):
    ask_for_person(twilio)
    tick(app, minutes=2)
    twilio.sms("OFF", REP_A)
    tick(app, minutes=3)
    assert sent(standin, REP_A) == []
    assert len(sent(standin, REP_B)) == 1


def test_the_minute_sweep_finds_a_chat_whose_timer_was_never_queued(app, twilio, standin):
    ask_for_person(twilio)
    helpline_of(app).queue.huey.flush()                    # the chat's own task is lost
    tick(app, minutes=5)
    assert len(sent(standin, REP_A)) == 1


def test_two_workers_running_one_timer_send_one_reminder(app, twilio, standin):
    from helpline import waiting

    ask_for_person(twilio)
    helpline = helpline_of(app)
    now = helpline.clock.advance(minutes=5)
    waiting.run(helpline, chat_of(app).id, now)
    waiting.run(helpline, chat_of(app).id, now)
    waiting.sweep(helpline, now)
    assert len(sent(standin, REP_A)) == 1


def test_two_workers_at_the_same_moment_escalate_once(app, twilio, standin):
    import threading

    from helpline import waiting

    ask_for_person(twilio)
    helpline = helpline_of(app)
    now = helpline.clock.advance(minutes=15)
    chat_id = chat_of(app).id
    start = threading.Barrier(4)

    def worker():
        start.wait()
        waiting.run(helpline, chat_id, now)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent(standin, COORDINATOR)) == 1
    assert len(sent(standin, TEXTER)) == 1 and len(sent(standin, REP_A)) == 1


# -- a chat gone quiet ---------------------------------------------------------------------------

def test_a_quiet_chat_is_asked_about_then_closed_with_the_usual_goodbye(app, twilio, standin):
    ask_for_person(twilio)
    code = chat_of(app).code
    twilio.sms(f"ACCEPT {code}", REP_A)
    tick(app, minutes=19)
    twilio.sms("still there?")                             # the texter writes: the clock restarts
    tick(app, minutes=19, seconds=59)
    assert sent(standin, REP_A) == []
    tick(app, seconds=1)
    [asked] = sent(standin, REP_A)
    assert asked.startswith(f"No messages with #{code} for 20 min")
    tick(app, minutes=19, seconds=59)
    assert chat_of(app).status == "active"
    tick(app, seconds=1)
    assert chat_of(app).status == "ended"
    assert sent(standin, TEXTER) == [
        "Your chat with the helpline has ended. Take care. Reply MENU for options, or 0 to talk "
        "to a person again."]
    assert sent(standin, REP_A)[-1].startswith(f"The chat with #{code} was closed after 40 min")


# -- alerts off the request path -----------------------------------------------------------------

def leave_voicemail(twilio, sid="CA" + "v" * 32):
    twilio.post("/voice", {"CallSid": sid, "From": CALLER, "To": HELPLINE})
    twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "Digits": "0"})
    twilio.post("/voice/step", {"CallSid": sid, "From": CALLER, "Digits": "1"})
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE" + "5" * 32
    return twilio.post("/voice/recorded", {"CallSid": sid, "From": CALLER, "RecordingDuration": "31",
                                           "RecordingUrl": url,
                                           "RecordingSid": "RE" + "5" * 32})


def off_duty(app):
    with helpline_of(app).store.transaction() as db:
        db.execute(update(Representative).values(on_duty=False))


def test_an_alert_twilio_answers_503_then_201_is_retried_and_sent_once(app, twilio, standin, caplog):
    off_duty(app)
    standin.answers = [503]                                # the "nobody on duty" alert
    assert leave_voicemail(twilio).status_code == 200
    assert [r["status"] for r in standin.requests] == [503, 201]
    assert "New voicemail" in sent(standin, COORDINATOR)[0]
    tick(app, seconds=9)
    assert len(standin.requests) == 2
    tick(app, seconds=1)
    assert [r["status"] for r in standin.requests] == [503, 201, 201]
    assert "nobody was on duty" in sent(standin, COORDINATOR)[1]
    tick(app, minutes=30)
    assert len(standin.requests) == 3
    assert COORDINATOR[2:] not in caplog.text and CALLER[2:] not in caplog.text


def test_429_is_retried_with_growing_waits_then_given_up_after_ten_minutes(app, standin, caplog):
    helpline = helpline_of(app)
    standin.answers = [429] * 50
    caplog.set_level(logging.INFO)
    helpline.queue.send_texts([(REP_A, "Callback request")], "alert")
    start = helpline.clock.now()
    attempts = []
    for _ in range(700):
        helpline.queue.run_due(helpline.clock.advance(seconds=1), periodic=False)
        if len(standin.requests) > len(attempts) + 1:
            attempts.append(int((helpline.clock.now() - start).total_seconds()))
    assert attempts == [10, 20, 40, 80, 160, 320, 600]
    assert "an SMS (alert) was not sent: Twilio could not take it for 10 minutes" in caplog.text
    assert REP_A[2:] not in caplog.text and "Callback request" not in caplog.text


def test_a_voice_webhook_only_queues_its_alert_sealed(make_app, standin, tmp_path):
    app = make_app(HELPLINE_NUMBER=HELPLINE, HELPLINE_COORDINATORS=COORDINATOR,
                   TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE=standin.url, QUEUE_IMMEDIATE=False)
    assert leave_voicemail(Twilio(app.test_client())).status_code == 200
    assert standin.requests == []                          # no REST call from the webhook
    assert helpline_of(app).queue.huey.pending_count() == 2      # nobody on duty; voicemail
    with sqlite3.connect(tmp_path / "queue.sqlite3") as queue:
        stored = b"".join(bytes(row[0]) for row in queue.execute("SELECT data FROM task"))
    assert COORDINATOR[2:].encode() not in stored and b"voicemail" not in stored.lower()


def test_the_web_answers_with_the_queue_store_down(make_app, standin, caplog):
    app = make_app(HELPLINE_REPRESENTATIVES=REP_A, HELPLINE_NUMBER=HELPLINE,
                   HELPLINE_COORDINATORS=COORDINATOR, TWILIO_ACCOUNT_SID=ACCOUNT,
                   TWILIO_API_BASE=standin.url, QUEUE_IMMEDIATE=False,
                   REDIS_URL="redis://127.0.0.1:1/0")
    twilio = Twilio(app.test_client())
    root = ask_for_person(twilio)
    assert "A person will text you back here soon" in "".join(m.text for m in root.iter("Message"))
    assert chat_of(app).status == "waiting"
    off_duty(app)
    assert leave_voicemail(twilio, "CA" + "w" * 32).status_code == 200
    assert "task chat.timers could not be queued" in caplog.text
    assert "task sms.send could not be queued" in caplog.text
    assert twilio.client.get("/healthz").status_code == 200


# -- check-in by consent ---------------------------------------------------------------------------

def chat_then_checkin(app, twilio):
    ask_for_person(twilio)
    code = chat_of(app).code
    twilio.sms(f"ACCEPT {code}", REP_A)
    response = twilio.sms("CHECKIN", REP_A)
    texts = {(m.get("to"), m.text) for m in twiml(response).iter("Message")}
    return code, texts


def test_checkin_asked_on_yes_sent_the_next_day_in_hours_then_forgotten(app, twilio, standin):
    helpline = helpline_of(app)
    helpline.clock.set(datetime(2026, 3, 2, 2, 30))       # 21:30 in New York, the day before
    code, texts = chat_then_checkin(app, twilio)
    assert (None, f"Chat with #{code} ended. They were asked if a check-in text tomorrow would help.") in texts
    assert (TEXTER, "Would it help if we texted you tomorrow to check in? Reply YES. If not, "
                    "there's no need to reply.") in texts
    assert chat_of(app).texter_encrypted is None
    assert "tomorrow between 10 a.m. and 7 p.m." in reply(twilio.sms("yes"))
    with helpline.store.transaction() as db:
        [row] = db.execute(select(Checkin)).scalars().all()
        assert row.due_at == datetime(2026, 3, 3, 0, 0)    # 19:00 EST the next day
        assert TEXTER[2:] not in row.texter_encrypted
    tick(app, hours=21, minutes=29)
    assert sent(standin, TEXTER) == []
    tick(app, minutes=1)
    [checkin] = sent(standin, TEXTER)
    assert "checking in, as you asked" in checkin and "Reply 0" in checkin
    with helpline.store.transaction() as db:
        assert db.execute(select(Checkin)).scalars().all() == []
    tick(app, days=2)
    assert len(sent(standin, TEXTER)) == 1


def test_checkin_time_is_kept_inside_ten_to_seven(app):
    from zoneinfo import ZoneInfo

    from helpline.checkin import tomorrow

    zone = ZoneInfo("America/New_York")
    assert tomorrow(datetime(2026, 6, 1, 16, 5), zone) == datetime(2026, 6, 2, 16, 5)  # 12:05
    assert tomorrow(datetime(2026, 6, 1, 6, 0), zone) == datetime(2026, 6, 2, 14, 0)   # 02:00 -> 10:00


def test_stop_cancels_a_checkin_and_forgets_the_number(app, twilio, standin):
    chat_then_checkin(app, twilio)
    twilio.sms("YES")
    twilio.sms("STOP")
    with helpline_of(app).store.transaction() as db:
        assert db.execute(select(Checkin)).scalars().all() == []
    tick(app, days=2)
    assert sent(standin, TEXTER) == []


def test_yes_without_an_offer_is_the_usual_opt_in_and_an_unanswered_offer_lapses(app, twilio):
    assert "opted back in" in reply(twilio.sms("YES"))
    chat_then_checkin(app, twilio)
    tick(app, hours=25)
    with helpline_of(app).store.transaction() as db:
        assert db.execute(select(Checkin)).scalars().all() == []
    assert "opted back in" in reply(twilio.sms("YES"))


# -- heartbeat, health and the purge -------------------------------------------------------------

def test_healthz_reports_the_workers_heartbeat_and_when_it_is_stale(app, twilio):
    client = twilio.client
    assert client.get("/healthz").get_json() == {
        "status": "ok", "worker": {"last_heartbeat": None, "seconds_ago": None, "stale": True}}
    tick(app, seconds=0)
    worker = client.get("/healthz").get_json()["worker"]
    assert worker["seconds_ago"] == 0 and worker["stale"] is False
    helpline_of(app).clock.advance(minutes=2)
    assert client.get("/healthz").get_json()["worker"]["stale"] is False
    helpline_of(app).clock.advance(seconds=1)
    worker = client.get("/healthz").get_json()["worker"]
    assert worker["stale"] is True and worker["seconds_ago"] == 121


def test_purge_runs_once_a_day_at_the_quiet_hour(app, twilio):
    helpline = helpline_of(app)
    helpline.clock.set(datetime(2026, 1, 10, 12, 0))      # 07:00 in New York
    ask_for_person(twilio)
    twilio.sms("STOP")
    helpline.clock.set(datetime(2026, 3, 1, 8, 0))        # 03:00 local, long past retention
    tick(app, minutes=0)
    assert chat_of(app) is not None
    tick(app, hours=1)                                     # 04:00 local
    assert chat_of(app) is None
    with helpline.store.transaction() as db:
        assert db.execute(select(Conversation)).scalars().all() == []
        assert db.execute(select(Contact.state)).scalars().all() == [None]   # STOP keeps the contact


def test_the_staff_now_page_shows_the_workers_heartbeat(app):
    from helpline.store import Beat

    from .test_staff import Console, add_account

    add_account(app)
    console = Console(app)
    console.login()
    page = console.get("/staff/live").get_data(as_text=True)
    assert "Not running" in page and "no heartbeat yet" in page
    with helpline_of(app).store.transaction() as db:
        db.add(Beat(name="heartbeat", at=utcnow() - timedelta(seconds=30)))
    page = console.get("/staff").get_data(as_text=True)
    assert re.search(r"Running</span> last heartbeat 3\d s ago", page)
    with helpline_of(app).store.transaction() as db:
        db.get(Beat, "heartbeat").at = utcnow() - timedelta(minutes=3)
    page = console.get("/staff/live").get_data(as_text=True)
    assert "Not running" in page and "no heartbeat for 3 min" in page


def test_heroku_redis_tls_without_verification_only_when_asked():
    from helpline.clock import Clock
    from helpline.queue_huey import make_huey

    def pool_kwargs(url, verify):
        config = {"QUEUE_NAME": "t", "QUEUE_IMMEDIATE": False, "REDIS_URL": url,
                  "REDIS_TLS_VERIFY": verify, "QUEUE_PATH": ""}
        return make_huey(config, Clock()).storage.pool.connection_kwargs

    assert pool_kwargs("rediss://:pw@redis.example:6380/0", False)["ssl_cert_reqs"] == "none"
    assert "ssl_cert_reqs" not in pool_kwargs("rediss://:pw@redis.example:6380/0", True)
    assert "ssl_cert_reqs" not in pool_kwargs("redis://127.0.0.1:6379/0", False)
