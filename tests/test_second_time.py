"""What must happen again, and only again, as time passes, on a clock the test holds:
the rate-limit notice in a later minute, the coordinators' alert once per quiet period,
a session that activity keeps alive, and the staff console's 12-hour session."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from helpline import texter
from helpline.staff import signin, views

from .conftest import TEXTER
from .test_staff import Console, add_account

COORDINATOR = "+15555550999"
T0 = datetime(2026, 11, 30, 15, 0)  # a Monday, 10:00 in New York


def say(helpline, body, at, number=TEXTER):
    return texter.receive(helpline, number, body, now=at)


def test_the_rate_limit_notice_comes_once_in_each_minute_over_the_limit(make_app):
    helpline = make_app(RATE_LIMIT_PER_MINUTE=3).extensions["helpline"]
    for minute in range(3):
        start = T0 + timedelta(minutes=minute, seconds=minute)
        for second in range(3):
            assert say(helpline, "hello", start + timedelta(seconds=second)).text()
        notice = say(helpline, "hello", start + timedelta(seconds=4))
        assert "pause replies for a minute" in notice.text(), minute
        assert say(helpline, "hello", start + timedelta(seconds=5)).text() == ""
        assert say(helpline, "1", start + timedelta(seconds=59)).text() == ""


def test_coordinators_hear_once_per_quiet_period_not_on_every_request(make_app):
    helpline = make_app(HELPLINE_COORDINATORS=COORDINATOR,
                        COORDINATOR_ALERT_MINUTES=15).extensions["helpline"]

    def ask(number, at):
        say(helpline, "hi", at, number)
        turn = say(helpline, "0", at, number)
        assert "No one is free" in turn.text()
        return [to for to, _ in turn.outbox]

    assert ask("+15555550111", T0) == [COORDINATOR]
    assert ask("+15555550112", T0 + timedelta(minutes=1)) == []
    assert ask("+15555550113", T0 + timedelta(minutes=14, seconds=59)) == []
    assert ask("+15555550114", T0 + timedelta(minutes=15, seconds=1)) == [COORDINATOR]
    assert ask("+15555550115", T0 + timedelta(minutes=16)) == []


def test_activity_keeps_a_session_alive_and_idleness_ends_it(make_app):
    helpline = make_app(SESSION_IDLE_MINUTES=30).extensions["helpline"]
    say(helpline, "hi", T0)
    at = T0
    for _ in range(4):  # two hours of texts 25 minutes apart: still in the treatment menu
        at += timedelta(minutes=25)
        assert "1 Outpatient (live at home)" in say(helpline, "3", at).text()
        assert "Outpatient rehab" in say(helpline, "1", at).text()
        say(helpline, "menu", at)
    say(helpline, "3", at)
    assert "Outpatient rehab" in say(helpline, "1", at + timedelta(minutes=29)).text()
    expired = say(helpline, "1", at + timedelta(minutes=29 + 31)).text()
    assert expired.startswith("Hi, this is the Heroin & Opioid Helpline")


@pytest.fixture
def clock(monkeypatch):
    """The staff console's clock, held by the test."""
    now = {"at": T0}
    for module in (views, signin):   # the pages, and signing in
        monkeypatch.setattr(module, "utcnow", lambda: now["at"])
    return now


def test_a_console_session_ends_after_12_hours_even_while_in_use(make_app, clock):
    app = make_app()
    add_account(app)
    console = Console(app)
    assert console.login().status_code == 302
    for hours in (1, 6, 11, 12):
        clock["at"] = T0 + timedelta(hours=hours)
        assert console.get("/staff").status_code == 200, hours
    clock["at"] = T0 + timedelta(hours=12, seconds=1)
    response = console.get("/staff")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    assert console.get("/staff/live").status_code == 401
    assert console.login().status_code == 302 and console.signed_in()
