"""The staff console through Flask's test client: sign-in, CSRF, the sign-in limit, and
what each page shows and does (and, as much, what it must not show)."""
from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from werkzeug.security import check_password_hash

from helpline.staff import auth
from helpline.staff.models import AuditLog, LoginAttempt, StaffUser
from helpline.store import Callback, Chat, Conversation, Event, Representative, Shift, Voicemail, utcnow

from .conftest import Twilio

REP_A, REP_B = "+15555550901", "+15555550942"
EMAIL, PASSWORD = "sam@example.org", "a long enough passphrase"
CALLBACK_NUMBER = "+15555550177"


@pytest.fixture
def app(make_app):
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}")
    add_account(app)
    return app


def add_account(app, email=EMAIL, password=PASSWORD):
    result = app.test_cli_runner().invoke(args=["staff", "add", email, "--password-stdin"],
                                          input=password + "\n")
    assert result.exit_code == 0, result.output
    return result


def db(app):
    return app.extensions["helpline"].store.transaction()


def token_from(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1)


class Console:
    """A browser stand-in: takes the CSRF token from the page's own form, as a browser does."""

    def __init__(self, app, ip="192.0.2.10"):
        self.client = app.test_client()
        self.ip = ip

    def get(self, path):
        return self.client.get(path, environ_base={"REMOTE_ADDR": self.ip})

    def post(self, path, data=None, page="/staff/login"):
        data = {"csrf_token": token_from(self.get(page)), **(data or {})}
        return self.client.post(path, data=data, environ_base={"REMOTE_ADDR": self.ip})

    def login(self, email=EMAIL, password=PASSWORD, **data):
        return self.post("/staff/login", {"email": email, "password": password, **data})

    def signed_in(self) -> bool:
        return self.get("/staff").status_code == 200


@pytest.fixture
def console(app):
    console = Console(app)
    assert console.login().status_code == 302
    return console


def audit_actions(app) -> list[str]:
    with db(app) as session:
        return list(session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


# -- accounts and signing in -------------------------------------------------------------------

def test_every_console_route_needs_an_account(app):
    """Checked over the URL map, so a route added later without protection fails here."""
    client = Console(app)
    token = token_from(client.get("/staff/login"))
    routes = [r for r in app.url_map.iter_rules()
              if r.endpoint.startswith("staff.") and r.endpoint not in ("staff.login", "staff.static")]
    assert len(routes) >= 9
    for rule in routes:
        path = rule.build({name: 1 for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.client.open(path, method=method, data={"csrf_token": token, "on": "0"})
            if rule.endpoint == "staff.live":
                assert response.status_code == 401
            else:
                assert response.status_code == 302, (method, path)
                assert response.headers["Location"].startswith("/staff/login?next=")
    with db(app) as session:
        assert all(session.execute(select(Representative.on_duty)).scalars())
    assert client.get("/staff/login").status_code == 200


def test_staff_add_asks_twice_hidden_and_keeps_only_a_hash(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    mismatch = runner.invoke(args=["staff", "add", "kim@example.org"],
                             input="first passphrase\nother passphrase\n"
                                   "first passphrase\nfirst passphrase\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output and "first passphrase" not in mismatch.output
    with db(app) as session:
        user = session.execute(select(StaffUser)).scalar_one()
    assert user.email == "kim@example.org" and "first passphrase" not in user.password_hash
    assert check_password_hash(user.password_hash, "first passphrase")
    again = runner.invoke(args=["staff", "add", "KIM@example.org", "--password-stdin"],
                          input="another passphrase\n")
    assert again.exit_code == 1 and "already has an account" in again.output
    short = runner.invoke(args=["staff", "add", "lee@example.org", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_sign_in_cookie_is_httponly_secure_and_samesite_lax(app, make_app):
    response = Console(app).login()
    assert response.status_code == 302 and response.headers["Location"] == "/staff"
    cookie = response.headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Lax"):
        assert flag in cookie
    local = make_app(STAFF_COOKIE_SECURE=False)
    add_account(local, "local@example.org")
    cookie = Console(local).login("local@example.org").headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_the_session_signer_is_made_once_per_secret_key(app):
    """Every request opens the session (webhooks too): its signer is not made anew each time,
    and a new key (or fallback) gets a signer of its own."""
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret"]
    app.secret_key = "a-rotated-secret"
    rotated = sessions.get_signing_serializer(app)
    assert rotated is not first and rotated.secret_keys == [b"test-secret", b"a-rotated-secret"]
    assert Console(app).login().status_code == 302


@pytest.mark.parametrize("email, password", [(EMAIL, "not the passphrase!"),
                                             ("nobody@example.org", PASSWORD)])
def test_wrong_password_or_unknown_email_is_refused_alike(app, email, password):
    client = Console(app)
    response = client.login(email, password)
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert not client.signed_in()


def test_forms_without_the_csrf_token_are_refused(app, console):
    assert console.client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 400
    refused = console.client.post("/staff/reps/1/duty", data={"on": "0"})
    assert refused.status_code == 400 and "Nothing was changed" in refused.get_data(as_text=True)
    other = Console(app, ip="192.0.2.77")
    foreign = token_from(other.get("/staff/login"))  # a token from someone else's session
    assert console.client.post("/staff/reps/1/duty",
                               data={"on": "0", "csrf_token": foreign}).status_code == 400
    with db(app) as session:
        assert session.get(Representative, 1).on_duty
    assert console.post("/staff/reps/1/duty", {"on": "0"}, page="/staff").status_code == 302
    with db(app) as session:
        assert not session.get(Representative, 1).on_duty


def test_sign_in_is_limited_per_email_across_processes(app, make_app):
    """Failures from anywhere limit the email for an hour for a browser that never signed in
    to it, even for the right password and in another process (a second app on the same
    database)."""
    for i in range(auth.LIMIT):
        assert Console(app, ip=f"192.0.2.{i}").login(password="wrong passphrase").status_code == 401
    elsewhere = make_app()
    limited = Console(elsewhere, ip="198.51.100.1").login()
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.get_data(as_text=True)
    with db(app) as session:
        session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=61)))
    assert Console(elsewhere, ip="198.51.100.1").login().status_code == 302


def test_sign_in_is_limited_per_address(app):
    client = Console(app, ip="203.0.113.5")
    for i in range(auth.LIMIT):
        assert client.login(f"guess{i}@example.org", "wrong passphrase").status_code == 401
    assert client.login().status_code == 429
    assert Console(app, ip="203.0.113.6").login().status_code == 302


def test_a_colleagues_sign_in_does_not_clear_my_failures(app):
    add_account(app, "colleague@example.org")
    office = Console(app, ip="203.0.113.9")
    for _ in range(auth.PAIR_FREE):
        assert office.login(EMAIL, "wrong passphrase").status_code == 401
    assert office.login("colleague@example.org").status_code == 302
    assert Console(app, ip="203.0.113.9").login(EMAIL, "wrong passphrase").status_code == 429


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(app):
    for _ in range(auth.PAIR_FREE + 3):
        Console(app, ip="198.51.100.66").login(password="wrong passphrase")
    assert Console(app, ip="192.0.2.10").login().status_code == 302


def test_a_browser_that_signed_in_before_passes_the_per_email_limit(app):
    owner = Console(app)
    assert owner.login().status_code == 302
    owner.post("/staff/logout", page="/staff")
    for i in range(auth.LIMIT):
        Console(app, ip=f"198.51.100.{i}").login(password="wrong passphrase")
    assert Console(app, ip="192.0.2.99").login().status_code == 429  # a new browser
    assert owner.login().status_code == 302


def age_failures(app, delta):
    """The clock moves on: every failure recorded is older by ``delta``."""
    with db(app) as session:
        for attempt in session.execute(select(LoginAttempt)).scalars():
            attempt.at -= delta


def test_failures_from_one_address_back_off_longer_each_time(app):
    guesser = Console(app, ip="198.51.100.7")
    for _ in range(auth.PAIR_FREE):
        assert guesser.login(password="wrong passphrase").status_code == 401
    assert guesser.login().status_code == 429
    waits = []
    for _ in range(3):
        age_failures(app, timedelta(seconds=59))
        blocked = guesser.login(password="wrong passphrase").status_code == 429
        minutes = 0
        while blocked:
            age_failures(app, timedelta(minutes=1))
            minutes += 1
            blocked = guesser.login(password="wrong passphrase").status_code == 429
        waits.append(minutes)
    assert waits == [1, 2, 4]  # minutes after the latest failure


def test_parallel_guesses_are_counted_one_by_one(app):
    """Every guess that gets a password check has counted itself first."""
    barrier = threading.Barrier(16)
    tokens = []
    for _ in range(16):
        console = Console(app, ip="198.51.100.20")
        tokens.append((console, token_from(console.get("/staff/login"))))

    def guess(console, token):
        barrier.wait()
        return console.client.post("/staff/login", environ_base={"REMOTE_ADDR": console.ip}, data={
            "csrf_token": token, "email": EMAIL, "password": "wrong passphrase"}).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda pair: guess(*pair), tokens))
    assert sorted(codes) == [401] * auth.PAIR_FREE + [429] * (16 - auth.PAIR_FREE)


def test_the_password_is_checked_outside_the_write_transaction(app, monkeypatch):
    """While scrypt runs, a webhook can still write."""
    real = auth.password_matches
    wrote = []

    def check_while_writing(password_hash, password):
        with ThreadPoolExecutor(1) as pool:
            wrote.append(pool.submit(Twilio(app.test_client()).text, "hi").result(timeout=4))
        return real(password_hash, password)

    monkeypatch.setattr(auth, "password_matches", check_while_writing)
    assert Console(app).login().status_code == 302
    assert wrote and app.extensions["helpline"].down_until == 0  # answered from the database


def test_sign_out_ends_the_session_even_for_a_copied_cookie(app, console):
    stolen = console.client.get_cookie("session").value
    assert console.post("/staff/logout", page="/staff").headers["Location"] == "/staff/login"
    assert not console.signed_in()
    thief = Console(app)
    thief.client.set_cookie("session", stolen)
    assert not thief.signed_in()
    assert audit_actions(app)[-2:] == ["sign in", "sign out"]


def test_staff_remove_ends_sessions_at_once(app, console):
    result = app.test_cli_runner().invoke(args=["staff", "remove", EMAIL])
    assert result.exit_code == 0, result.output
    assert not console.signed_in()
    assert Console(app).login().status_code == 401


def test_sign_in_goes_back_only_within_the_console(app):
    client = Console(app)
    assert client.get("/staff/callbacks").headers["Location"] == "/staff/login?next=/staff/callbacks"
    assert client.login(next="/staff/callbacks").headers["Location"] == "/staff/callbacks"
    for bad in ("https://evil.example/staff", "//evil.example/staff", "/\\evil.example"):
        assert Console(app).login(next=bad).headers["Location"] == "/staff"


def test_console_pages_are_not_cached_or_framed(console):
    response = console.get("/staff")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# -- now: duty and waiting -----------------------------------------------------------------------

def test_live_panel_shows_who_waits_how_long_and_reps_by_name(app, console):
    now = utcnow()
    with db(app) as session:
        session.get(Representative, 1).name = "Ana"
        session.get(Representative, 2).on_call, session.get(Representative, 2).on_call_since = "CA1", now
        session.add(Chat(code="K7", texter_hash="h" * 64, texter_encrypted="x", lang="es",
                         status="waiting", created_at=now - timedelta(minutes=4)))
        session.add(Conversation(channel="voice", key="CA9", created_at=now, updated_at=now,
                                 waiting_since=now - timedelta(seconds=75), state={"lang": "en"}))
    page = console.get("/staff/live").get_data(as_text=True)
    assert "Ana" in page and "ending 01" in page and "English</span>" in page
    assert "Representative #2" in page and "ending 42" in page and "On a call" in page
    assert "#K7" in page and "Español" in page and "waiting 4 min" in page
    assert re.search(r">1</p>\s*<p>caller in the queue</p>\s*<p class=\"sub\">longest 1 min", page)
    for number in (REP_A, REP_B):
        assert number[2:-2] not in page and number[-4:] not in page
    assert 'id="live"' in console.get("/staff").get_data(as_text=True)


def test_duty_toggle_changes_the_representative_and_is_audited(app, console):
    assert console.post("/staff/reps/2/duty", {"on": "0"}, page="/staff").status_code == 302
    page = console.get("/staff/live").get_data(as_text=True)
    assert "Off duty" in page and "Put on duty<span class=\"sr\"> Representative #2" in page
    console.post("/staff/reps/2/duty", {"on": "1"}, page="/staff")
    with db(app) as session:
        assert session.get(Representative, 2).on_duty
    assert audit_actions(app)[-2:] == ["duty rep 2 off", "duty rep 2 on"]
    assert console.post("/staff/reps/99/duty", {"on": "1"}, page="/staff").status_code == 404


# -- voicemails and callbacks --------------------------------------------------------------------

def recording_of(call_sid: str) -> str:
    sid = hashlib.md5(call_sid.encode()).hexdigest()  # 32 hex digits, as Twilio's are
    return f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/RE{sid}"


def add_voicemail(app, sid, minutes_ago, lang="en", url=None):
    with db(app) as session:
        vm = Voicemail(call_sid=sid, recording_url=url or recording_of(sid),
                       duration=42, lang=lang, created_at=utcnow() - timedelta(minutes=minutes_ago))
        session.add(vm)
        session.flush()
        return vm.id


def test_voicemails_newest_first_with_a_player_and_done(app, console):
    old, new = add_voicemail(app, "CAold", 90), add_voicemail(app, "CAnew", 5, "es")
    page = console.get("/staff/voicemails").get_data(as_text=True)
    assert page.index(f"/staff/voicemails/{new}/audio") < page.index(f"/staff/voicemails/{old}/audio")
    assert f'<audio controls preload="none" src="/staff/voicemails/{new}/audio"' in page
    audio = console.get(f"/staff/voicemails/{new}/audio")
    assert audio.status_code == 302
    assert audio.headers["Location"] == recording_of("CAnew") + ".mp3"
    assert console.post(f"/staff/voicemails/{new}/done", page="/staff/voicemails").status_code == 302
    assert console.get(f"/staff/voicemails/{new}/audio").status_code == 404  # done: no longer played
    page = console.get("/staff/voicemails").get_data(as_text=True)
    assert f"/staff/voicemails/{new}/audio" not in page and f"/staff/voicemails/{old}/audio" in page
    with db(app) as session:
        assert session.get(Voicemail, new).done_at is not None
    assert audit_actions(app)[-1] == f"done voicemail {new}"


@pytest.mark.parametrize("url", [
    "https://evil.example/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "1" * 32,
    "https://api.twilio.com.evil.example/x",
    "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "1" * 32 + "/../../x",
])
def test_voicemail_audio_follows_only_twilios_recordings(app, console, url):
    vm = add_voicemail(app, "CAodd", 5, url=url)
    assert console.get(f"/staff/voicemails/{vm}/audio").status_code == 404


def test_a_voicemail_from_another_account_is_refused_at_the_edge(make_app):
    app = make_app(TWILIO_ACCOUNT_SID="AC" + "2" * 32)
    twilio = Twilio(app.test_client())
    other = recording_of("CAx")  # account AC111...
    response = twilio.post("/voice/recorded", {"CallSid": "CA" + "1" * 32, "RecordingUrl": other,
                                               "RecordingDuration": "12"})
    assert response.status_code == 400
    odd = twilio.post("/voice/recorded", {"CallSid": "CA" + "1" * 32, "RecordingDuration": "12",
                                          "RecordingUrl": "https://evil.example/RE" + "1" * 32})
    assert odd.status_code == 400


def add_callback(app):
    helpline = app.extensions["helpline"]
    with db(app) as session:
        cb = Callback(channel="voice", caller_hash="c" * 64, lang="en", created_at=utcnow(),
                      number_encrypted=helpline.vault.encrypt(CALLBACK_NUMBER), pin_hash="p" * 64)
        session.add(cb)
        session.flush()
        return cb.id


def test_callback_number_is_shown_only_on_reveal_and_the_reveal_is_audited(app, console):
    cb = add_callback(app)
    page = console.get("/staff/callbacks").get_data(as_text=True)
    assert CALLBACK_NUMBER not in page and "0177" not in page and "Reveal number" in page
    assert audit_actions(app) == ["account 1 added", "sign in"]
    revealed = console.post(f"/staff/callbacks/{cb}/reveal", page="/staff/callbacks")
    assert revealed.status_code == 200 and revealed.headers["Cache-Control"] == "no-store"
    assert f'href="tel:{CALLBACK_NUMBER}"' in revealed.get_data(as_text=True)
    assert audit_actions(app)[-1] == f"reveal callback {cb}"
    assert CALLBACK_NUMBER not in console.get("/staff/callbacks").get_data(as_text=True)


def test_callback_done_deletes_the_number_and_no_log_holds_it(app, console):
    cb = add_callback(app)
    console.post(f"/staff/callbacks/{cb}/reveal", page="/staff/callbacks")
    assert console.post(f"/staff/callbacks/{cb}/done", page="/staff/callbacks").status_code == 302
    with db(app) as session:
        row = session.get(Callback, cb)
        assert row.done_at is not None and row.number_encrypted is None and row.pin_hash is None
        dump = repr([list(r) for t in ("staff_audit_log", "staff_users", "staff_login_failures")
                     for r in session.execute(text(f"SELECT * FROM {t}"))])
    assert "5550177" not in dump
    assert audit_actions(app)[-1] == f"done callback {cb}"
    assert console.post(f"/staff/callbacks/{cb}/reveal", page="/staff/callbacks").status_code == 404
    assert "No open callbacks." in console.get("/staff/callbacks").get_data(as_text=True)


# -- statistics ----------------------------------------------------------------------------------

def add_events(app, rows):
    now = utcnow()
    with db(app) as session:
        for days_ago, channel, name, value in rows:
            session.add(Event(at=now - timedelta(days=days_ago), channel=channel, name=name, value=value))


def test_statistics_count_the_last_14_days(app, console):
    add_events(app, [
        (0, "sms", "contact", None), (0, "sms", "contact", None), (0, "voice", "contact", None),
        (1, "voice", "contact", None), (20, "sms", "contact", None),  # the last is too old
        (0, "sms", "handoff", None), (0, "sms", "choice:treatment", None),
        (1, "sms", "choice:treatment", None), (1, "voice", "choice:<facts>", None),
        (0, "sms", "answered", 60), (0, "sms", "answered", 600), (0, "sms", "answered", 120),
        (0, "voice", "missed", 30), (0, "voice", "answered", 45),
    ])
    page = console.get("/staff/stats").get_data(as_text=True)
    assert re.search(r'class="big">4</p><p>contacts', page)
    assert re.search(r'class="big">25%</p>\s*<p>asked for a person</p><p class="sub">1 of 4', page)
    assert re.search(r'class="big">2 min</p>\s*<p>median wait, texts', page)
    assert re.search(r'class="big">45 s</p>\s*<p>median wait, calls', page)
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 6  # for a desk and for a phone
    assert "<title>Contacts per day, texts and calls</title>" in page
    assert "&gt;Calls missed</text>" not in page and ">Calls missed</text>" in page
    assert ">treatment</text>" in page and "&lt;facts&gt;" in page and "<facts>" not in page
    rows = re.findall(r"<tr><th scope=\"row\">[^<]+</th><td>(\d+)</td><td>(\d+)</td></tr>", page)
    assert len(rows) == 14 and rows[-1] == ("2", "1") and rows[-2] == ("0", "1")


def test_statistics_days_are_the_helplines_local_days(app):
    """An event at 03:00 UTC is the evening before in New York."""
    from datetime import datetime

    from helpline.staff.stats import collect

    add = datetime(2026, 12, 2, 3, 0)
    with db(app) as session:
        session.add(Event(at=add, channel="sms", name="contact", value=None))
        session.flush()
        stats = collect(session, datetime(2026, 12, 2, 12, 0), "America/New_York")
    days = dict(stats.days)
    assert days[add.date() - timedelta(days=1)]["sms"] == 1 and days[add.date()]["sms"] == 0
    assert len(stats.days) == 14 and stats.handoff_share == 0


def test_duty_follows_shifts_and_off_lasts_until_the_shift_ends(app, console):
    """The console shows and sets duty as the representatives' ON/OFF texts do: a shift puts
    someone on duty, and OFF during it holds until the shift ends."""
    from helpline.hours import DAYS

    helpline = app.extensions["helpline"]
    with db(app) as session:
        roster = helpline.roster(session)
        rep = session.get(Representative, 2)
        rep.on_duty = False
        for day in DAYS:
            roster.add_shift(rep, day, "00:00", "12:00")
            roster.add_shift(rep, day, "12:00", "00:00")
    rep_row = r'Representative #2.*?<span class="badge (on|off)">'
    assert re.search(rep_row, console.get("/staff/live").get_data(as_text=True), re.S).group(1) == "on"
    console.post("/staff/reps/2/duty", {"on": "0"}, page="/staff")
    with db(app) as session:
        rep = session.get(Representative, 2)
        assert rep.off_until is not None and rep.off_until > utcnow()
    assert re.search(rep_row, console.get("/staff/live").get_data(as_text=True), re.S).group(1) == "off"
    console.post("/staff/reps/2/duty", {"on": "1"}, page="/staff")
    with db(app) as session:
        assert session.get(Representative, 2).off_until is None


# -- shifts --------------------------------------------------------------------------------------

MON_9_TO_5 = {"day": "mon", "start": "09:00", "end": "17:00"}


def shifts_of(app, rep_id) -> list[tuple[int, str, str]]:
    with db(app) as session:
        return [(s.weekday, s.start, s.end) for s in session.execute(
            select(Shift).where(Shift.rep_id == rep_id).order_by(Shift.id)).scalars()]


def test_shifts_page_and_its_forms_need_an_account(app):
    """Signed out, even a form with a valid token is sent to sign in and changes nothing."""
    client = Console(app)
    assert client.get("/staff/shifts").headers["Location"] == "/staff/login?next=/staff/shifts"
    for path in ("/staff/reps/2/shifts", "/staff/reps/2/languages"):
        refused = client.post(path, {**MON_9_TO_5, "languages": "es"})
        assert refused.headers["Location"].startswith("/staff/login?next=")
    assert shifts_of(app, 2) == []
    with db(app) as session:
        assert session.get(Representative, 2).languages == "en"


def test_shifts_page_shows_representatives_as_the_now_page_does(app, console):
    with db(app) as session:
        session.get(Representative, 1).name = "Ana"
        session.get(Representative, 1).languages = "en,es"
    response = console.get("/staff/shifts")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<a href="/staff/shifts" aria-current="page">Shifts</a>' in page
    assert re.search(r'Ana <span class="digits">ending 01</span>\s*<span class="langs">English, Español', page)
    assert "Representative #2" in page and "ending 42" in page
    for number in (REP_A, REP_B):
        assert number[2:-2] not in page and number[-4:] not in page


def test_adding_and_removing_a_shift_goes_through_the_roster_and_the_audit_log(app, console):
    """Over midnight is allowed, the same shift sent twice is kept once, and the audit log
    names each change (never a number)."""
    added = console.post("/staff/reps/2/shifts", MON_9_TO_5, page="/staff/shifts")
    assert added.status_code == 302 and added.headers["Location"] == "/staff/shifts#rep-2"
    console.post("/staff/reps/2/shifts", {"day": "fri", "start": "22:00", "end": "02:00"}, page="/staff/shifts")
    console.post("/staff/reps/2/shifts", MON_9_TO_5, page="/staff/shifts")
    assert shifts_of(app, 2) == [(0, "09:00", "17:00"), (4, "22:00", "02:00")]
    page = console.get("/staff/shifts").get_data(as_text=True)
    assert "Monday 09:00–17:00</span>" in page
    assert 'Friday 22:00–02:00 <span class="sub">(into the next day)</span>' in page
    removed = console.post("/staff/reps/2/shifts/remove", MON_9_TO_5, page="/staff/shifts")
    assert removed.status_code == 302 and shifts_of(app, 2) == [(4, "22:00", "02:00")]
    assert audit_actions(app)[-3:] == ["shift add rep 2 mon 09:00-17:00",
                                       "shift add rep 2 fri 22:00-02:00",
                                       "shift remove rep 2 mon 09:00-17:00"]
    again = console.post("/staff/reps/2/shifts/remove", MON_9_TO_5, page="/staff/shifts")
    assert again.status_code == 400 and "not there any more" in again.get_data(as_text=True)
    assert audit_actions(app)[-1] == "shift remove rep 2 mon 09:00-17:00"
    assert console.post("/staff/reps/99/shifts", MON_9_TO_5, page="/staff/shifts").status_code == 404


@pytest.mark.parametrize("day, start, end, why", [
    ("someday", "09:00", "17:00", "is not a weekday"),
    ("mon", "25:00", "26:00", "&#39;25:00&#39; is not a time of day"),
    ("mon", "09:00", "09:00", "a shift needs a start and an end that differ"),
    ("mon", "", "17:00", "&#39;&#39; is not a time like 09:00"),
    ("mon", "9am", "5pm", "&#39;9am&#39; is not a time like 09:00"),
])
def test_a_bad_shift_is_explained_on_the_page_and_changes_nothing(app, console, day, start, end, why):
    """A clear reason next to that representative's form, with what was typed still in it."""
    response = console.post("/staff/reps/2/shifts", {"day": day, "start": start, "end": end},
                            page="/staff/shifts")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    rep_2 = page[page.index('id="rep-2"'):]
    assert re.search(r'<p class="alert" role="alert">Nothing was changed: [^<]*' + re.escape(why), rep_2)
    assert f'name="start" required value="{start}"' in rep_2
    assert shifts_of(app, 2) == [] and not any(a.startswith("shift") for a in audit_actions(app))


def test_shift_forms_without_the_csrf_token_are_refused(app, console):
    console.post("/staff/reps/2/shifts", MON_9_TO_5, page="/staff/shifts")
    foreign = token_from(Console(app, ip="192.0.2.77").get("/staff/login"))
    for data in (MON_9_TO_5, {**MON_9_TO_5, "csrf_token": foreign}):
        assert console.client.post("/staff/reps/2/shifts/remove", data=data).status_code == 400
        assert console.client.post("/staff/reps/1/shifts", data=data).status_code == 400
        assert console.client.post("/staff/reps/1/languages",
                                   data={**data, "languages": "es"}).status_code == 400
    assert shifts_of(app, 2) == [(0, "09:00", "17:00")] and shifts_of(app, 1) == []
    with db(app) as session:
        assert session.get(Representative, 1).languages == "en"


def test_languages_are_set_on_the_shifts_page(app, console):
    assert console.post("/staff/reps/1/languages", {"languages": ["es", "en"]},
                        page="/staff/shifts").status_code == 302
    assert console.post("/staff/reps/2/languages", {"languages": "es"}, page="/staff/shifts").status_code == 302
    with db(app) as session:
        assert [session.get(Representative, i).languages for i in (1, 2)] == ["es,en", "es"]
    assert audit_actions(app)[-2:] == ["languages rep 1 es,en", "languages rep 2 es"]
    assert re.search(r'ending 42</span>\s*<span class="langs">Español</span>',
                     console.get("/staff/live").get_data(as_text=True))
    for chosen, why in (([], "choose at least one language"), (["xx"], "languages must be among")):
        refused = console.post("/staff/reps/2/languages", {"languages": chosen}, page="/staff/shifts")
        assert refused.status_code == 400 and why in refused.get_data(as_text=True)
    assert audit_actions(app)[-1] == "languages rep 2 es"


def test_shifts_page_shows_the_coming_week_as_reps_coverage_does(make_app):
    """The same runs and gaps as `reps coverage` prints, day by day; a day with a gap is
    marked, and a gap is only within opening hours."""
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_TIMEZONE="America/New_York",
                   HELPLINE_HOURS="mon-sat 08:00-20:00")
    add_account(app)
    console = Console(app)
    console.login()
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        console.post("/staff/reps/1/shifts", {"day": day, "start": "08:00", "end": "14:00"}, page="/staff/shifts")
    console.post("/staff/reps/2/shifts", {"day": "mon", "start": "12:00", "end": "20:00"}, page="/staff/shifts")
    page = console.get("/staff/shifts").get_data(as_text=True)
    cards = {day: (bool(gap), body) for gap, day, body in re.findall(
        r'<li class="card day( has-gap)?">\s*<h3>(\w{3}) [^<]*</h3>(.*?)</ul>', page, re.S)}
    assert len(cards) == 7
    assert cards["Mon"][0] is False and cards["Sun"][0] is False
    assert cards["Tue"][0] and re.search(r'class="gap"><strong>Gap</strong> 14:00–20:00', cards["Tue"][1])
    report = app.test_cli_runner().invoke(args=["reps", "coverage"]).output
    for day in re.split(r"\n(?=\w{3} \d{4}-)", report.strip()):
        name, body = day[:3], cards[day[:3]][1]
        for start, end, count in re.findall(r"(\d\d:\d\d)-(\d\d:\d\d)  (\d+) on shift", day):
            assert f"{start}–{end} · {count} on shift" in body, (name, start)
        gaps = re.search(r"gaps: (.*)", day).group(1)
        assert body.count('class="gap"') == (0 if gaps == "none" else len(gaps.split(", ")))
    assert "12:00–14:00 · 2 on shift" in cards["Mon"][1]
