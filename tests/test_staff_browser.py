"""The staff console in a real headless browser (Debian's Chromium driven by Playwright)
against a real local server, as a representative would use it: sign in, put someone off
duty, watch the live panel change by itself, mark a voicemail done, read the charts, and on
a phone-sized screen too. ``UPDATE_SCREENSHOTS=1`` also writes the README's screenshot."""
from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from helpline import create_app
from helpline.store import Callback, Chat, Conversation, Event, Representative, Shift, Voicemail, utcnow

from .conftest import settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "staff-console.png"
REPS = ["+15555550901", "+15555550932", "+15555550957"]
EMAIL, PASSWORD = "sam@example.org", "a long enough passphrase"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no browser: {CHROMIUM} is missing (.ci/run installs it with "
                "`apt-get install chromium`)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -r requirements-dev.txt)")
expect = sync_api.expect


def seed(app) -> None:
    """A plausible afternoon: three representatives, people waiting, open messages, and two
    weeks of statistics (fixed numbers, so the screenshot is the same every time)."""
    helpline = app.extensions["helpline"]
    now = utcnow()
    with helpline.store.transaction() as db:
        ana, marcus, priya = db.execute(select(Representative).order_by(Representative.id)).scalars()
        ana.name, marcus.name, priya.name = "Ana", "Marcus", "Priya"
        priya.on_duty = False
        ana.languages, priya.languages = "en,es", "es"
        ana.on_call, ana.on_call_since = "CAana", now - timedelta(minutes=6)
        db.add(Chat(code="H4", texter_hash="a" * 64, lang="en", status="active", rep_id=marcus.id,
                    created_at=now - timedelta(minutes=12), accepted_at=now - timedelta(minutes=9)))
        for code, lang, minutes in (("K7", "es", 4), ("M3", "en", 1)):
            db.add(Chat(code=code, texter_hash=code * 32, texter_encrypted="x", lang=lang,
                        status="waiting", created_at=now - timedelta(minutes=minutes)))
        db.add(Conversation(channel="voice", key="CAq", created_at=now, updated_at=now,
                            waiting_since=now - timedelta(seconds=130), state={"lang": "en"}))
        for sid, lang, minutes in (("CAv1", "en", 35), ("CAv2", "es", 180)):
            db.add(Voicemail(call_sid=sid, recording_url=f"https://api.twilio.com/Recordings/RE{sid}",
                             duration=48, lang=lang, created_at=now - timedelta(minutes=minutes)))
        db.add(Callback(channel="voice", caller_hash="c" * 64, lang="en", created_at=now,
                        number_encrypted=helpline.vault.encrypt("+15555550177")))
        for day in range(14):
            at = now - timedelta(days=day, minutes=1)
            texts, calls = 9 + (day * 5) % 11, 4 + (day * 3) % 6
            for channel, n in (("sms", texts), ("voice", calls)):
                db.add_all(Event(at=at, channel=channel, name="contact") for _ in range(n))
                db.add_all(Event(at=at, channel=channel, name="handoff") for _ in range(n // 3))
                db.add_all(Event(at=at, channel=channel, name="answered", value=40 + 20 * i)
                           for i in range(n // 4))
                db.add(Event(at=at, channel=channel, name="missed", value=200))
            for node, n in (("treatment", 6), ("facts", 4), ("person", 3), ("crisis", 1)):
                db.add_all(Event(at=at, channel="sms", name=f"choice:{node}") for _ in range(n - day % 2))


@pytest.fixture
def server(tmp_path):
    app = create_app(settings(tmp_path, STAFF_COOKIE_SECURE=False, HELPLINE_REPRESENTATIVES=",".join(REPS)))
    result = app.test_cli_runner().invoke(args=["staff", "add", EMAIL, "--password-stdin"],
                                          input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    seed(app)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    app.extensions["helpline"].store.engine.dispose()


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, base, **context):
    """A signed-in page that fails the test on any script error or blocked resource."""
    page = browser.new_context(base_url=base, **context).new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.goto("/staff/voicemails")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff/voicemails$"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Voicemails")).to_be_visible()
    return page, problems


def test_a_representatives_afternoon(server, browser, tmp_path):
    app, base = server
    page, problems = open_page(browser, base, viewport={"width": 1100, "height": 900})

    # Mark a voicemail done: the newest is first, each has a player.
    players = page.locator("audio")
    expect(players).to_have_count(2)
    assert players.first.get_attribute("src") == "/staff/voicemails/1/audio"
    page.get_by_role("button", name=re.compile(r"^Done")).first.click()
    expect(players).to_have_count(1)
    expect(page.get_by_role("link", name="Voicemails 1")).to_be_visible()

    # Put a representative off duty.
    page.get_by_role("link", name="Now").click()
    ana = page.locator("li.rep", has_text="Ana")
    expect(ana).to_contain_text("On duty")
    expect(ana).to_contain_text("On a call")
    page.get_by_role("button", name="Put off duty Ana").click()
    expect(ana).to_contain_text("Off duty")
    expect(page.get_by_role("button", name="Put on duty Ana")).to_be_visible()

    # The live panel follows the database without a reload.
    page.evaluate("window.notReloaded = true")
    texters = page.locator(".card", has_text="waiting").locator(".big")
    expect(texters).to_have_text("2")
    with app.extensions["helpline"].store.transaction() as db:
        db.add(Chat(code="P9", texter_hash="p" * 64, texter_encrypted="x", lang="en",
                    status="waiting", created_at=utcnow()))
    expect(texters).to_have_text("3", timeout=12_000)
    expect(page.locator("#updated")).to_contain_text("Updated")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

    with app.extensions["helpline"].store.transaction() as db:
        assert db.get(Voicemail, 1).done_at is not None and db.get(Voicemail, 2).done_at is None
        assert not db.get(Representative, 1).on_duty

    # The charts, drawn on the server, with names a screen reader can read.
    page.get_by_role("link", name="Statistics").click()
    page.wait_for_load_state("load")  # the stylesheet decides which of each chart's two drawings shows
    expect(page.get_by_role("img", name="Contacts per day, texts and calls")).to_be_visible()
    expect(page.locator("svg.chart:visible")).to_have_count(3)
    assert page.locator("svg.chart rect").count() > 28
    page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)
    assert not problems

    for shot in ("console.png", "stats.png"):
        assert (tmp_path / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "console.png", SCREENSHOT)


def test_a_shift_added_and_removed_in_the_browser(server, browser):
    """The time fields as a browser fills them, a refusal shown in place, the week's gaps."""
    app, base = server
    page, problems = open_page(browser, base, viewport={"width": 1100, "height": 900})
    page.get_by_role("link", name="Shifts").click()
    ana = page.locator("li.rep-shifts", has_text="Ana")
    ana.get_by_label("Day").select_option("Friday")
    ana.get_by_label("From").fill("22:00")
    ana.get_by_label("To").fill("22:00")
    page.get_by_role("button", name="Add shift for Ana").click()
    expect(ana.get_by_role("alert")).to_contain_text("a start and an end that differ")
    ana.get_by_label("To").fill("02:00")
    page.get_by_role("button", name="Add shift for Ana").click()
    expect(ana).to_contain_text("Friday 22:00–02:00 (into the next day)")
    expect(ana.get_by_role("alert")).to_have_count(0)
    saturday = page.locator("li.day", has=page.get_by_role("heading", name=re.compile("^Sat")))
    expect(saturday).to_contain_text("00:00–02:00 · 1 on shift")
    expect(saturday.locator(".gap")).to_contain_text("02:00–24:00")
    with app.extensions["helpline"].store.transaction() as db:
        assert [(s.weekday, s.start, s.end) for s in db.execute(select(Shift)).scalars()] == [(4, "22:00", "02:00")]
    page.get_by_role("button", name="Remove Ana's shift Friday 22:00–02:00").click()
    expect(ana).to_contain_text("No shifts")
    assert problems == [  # the refused form's answer, and nothing else
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]


def test_every_page_fits_a_phone(server, browser, tmp_path):
    _, base = server
    page, problems = open_page(browser, base, viewport={"width": 375, "height": 740},
                               device_scale_factor=2, is_mobile=True, has_touch=True)
    for path in ("/staff", "/staff/voicemails", "/staff/callbacks", "/staff/stats", "/staff/shifts"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        assert page.locator("svg.chart.desk:visible").count() == 0
        page.screenshot(path=str(tmp_path / f"phone{path.replace('/', '-')}.png"), full_page=True)
    page.goto("/staff/callbacks")
    page.get_by_role("button", name=re.compile("^Reveal number")).click()
    expect(page.get_by_role("link", name="+15555550177")).to_be_visible()
    assert not problems
