"""Whole scenarios (a texter's menu, a chat both ways, callbacks by text and by phone, a
voicemail, a dialback, the staff console, the database away), then every place the app
writes is searched for the numbers and the texts: every column of every table (the schema
is reflected, so a table added later is searched too), the SQLite file and its WAL, the
spool, and the logs."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from .conftest import CALLER, TEXTER, Twilio, twiml
from .test_rep_calls import PASSCODE, call_in, enter, set_passcode
from .test_staff import Console, add_account

REP_A, REP_B = "+15555550901", "+15555550902"
COORDINATOR, HELPLINE = "+15555550999", "+15555550100"
SECRETS = ["marmalade-4471", "quixotic-9913", "zeppelin-2288", "overdose tangerine-6060"]
NUMBERS = [TEXTER, CALLER, REP_A, REP_B, COORDINATOR]


def needles() -> list[str]:
    """Each number as E.164, without +, national, and its last seven digits; each text and
    a distinctive word of it."""
    found = []
    for number in NUMBERS:
        found += [number, number[1:], number[2:], number[-7:]]
    for secret in SECRETS:
        found += [secret, secret.split()[-1]]
    return found


def messages(response):
    assert response.status_code == 200, response.data
    return [(m.get("to"), m.text or "") for m in twiml(response).iter("Message")]


def sent_to(msgs, number):
    return [text for to, text in msgs if to == number]


def run_scenarios(app):
    twilio = Twilio(app.test_client())
    text = lambda body, number=TEXTER: messages(twilio.sms(body, number))  # noqa: E731

    # a texter walks the menu, says something private and a crisis word
    text("hi")
    text("3")
    text(SECRETS[0])
    text(SECRETS[3])
    # a chat both ways with the second representative
    notice = sent_to(text("0"), REP_B)[0]
    code = notice.split("#", 1)[1].split()[0]
    assert sent_to(text(f"ACCEPT {code}", REP_B), TEXTER)
    assert sent_to(text(SECRETS[1]), REP_B)
    assert sent_to(text(SECRETS[2], REP_B), TEXTER)
    # a caller: menu by speech, nobody answers, voicemail; then asks for a callback
    sid = "CA" + "p" * 32
    call = lambda path, **data: twiml(twilio.post(path, {"CallSid": sid, "From": CALLER,  # noqa: E731
                                                         "To": HELPLINE, **data}))
    call("/voice")
    call("/voice/step", SpeechResult=SECRETS[0], Confidence="0.9")
    call("/voice/step", Digits="0")
    call("/voice/dial-status", DialCallStatus="no-answer")
    call("/voice/step", Digits="1")
    call("/voice/recorded", RecordingSid="RE" + "7" * 32, RecordingDuration="20",
         RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/RE{'7' * 32}")
    call("/voice/step", Digits="0")
    # everyone off duty: a texter asks for a callback and the coordinator's alert has the PIN
    text("DONE", REP_B)
    text("OFF", REP_A)
    text("OFF", REP_B)
    text("menu", TEXTER)
    text("0", TEXTER)
    alert = sent_to(text("1", TEXTER), COORDINATOR)[0]
    pin = re.search(r"PIN (\d{6})", alert)[1]
    # a representative proves who they are and returns it by PIN
    set_passcode(app, REP_A)
    rep_sid = "CA" + "r" * 32
    root = enter(twilio, call_in(twilio, REP_A, rep_sid), PASSCODE, REP_A, rep_sid)
    root = enter(twilio, root, "2", REP_A, rep_sid)
    root = twiml(twilio.post(root.find("Gather").get("action"),
                             {"CallSid": rep_sid, "From": REP_A, "Digits": pin}))
    dial = root.find("Dial")
    assert dial.find("Number").text == TEXTER
    twilio.post(dial.get("action"), {"CallSid": rep_sid, "From": REP_A, "DialCallStatus": "completed"})
    # the console: the caller's callback revealed and done, a duty change
    add_account(app)
    console = Console(app)
    assert console.login().status_code == 302
    page = console.get("/staff/callbacks").get_data(as_text=True)
    callback_id = re.search(r"/staff/callbacks/(\d+)/reveal", page)[1]
    revealed = console.post(f"/staff/callbacks/{callback_id}/reveal", page="/staff/callbacks")
    assert CALLER in revealed.get_data(as_text=True)
    console.post(f"/staff/callbacks/{callback_id}/done", page="/staff/callbacks")
    console.post("/staff/reps/1/duty", {"on": "1"}, page="/staff")
    # the database away: a STOP and a voicemail are spooled, then saved
    helpline = app.extensions["helpline"]
    messages(twilio.post("/sms/fallback", {"From": TEXTER, "Body": "STOP"}))
    helpline.spool.add({"kind": "opt_in", "hash": helpline.hash(TEXTER)})
    spooled = Path(helpline.config["SPOOL_PATH"]).read_text()
    text("hi", CALLER)  # reaches the database: the spool is replayed
    return spooled


def test_no_number_or_text_is_kept_or_logged_in_clear(make_app, caplog, tmp_path):
    caplog.set_level("DEBUG")
    app = make_app(HELPLINE_REPRESENTATIVES=f"{REP_A},{REP_B}", HELPLINE_NUMBER=HELPLINE,
                   HELPLINE_COORDINATORS=COORDINATOR, STAFF_COOKIE_SECURE=False)
    spooled = run_scenarios(app)
    helpline = app.extensions["helpline"]

    places: dict[str, str] = {"the logs": caplog.text, "the spool": spooled + Path(
        helpline.config["SPOOL_PATH"]).read_text()}
    metadata = MetaData()
    metadata.reflect(helpline.store.engine)
    with helpline.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    places[f"{table.name}.{column.name}"] = places.get(
                        f"{table.name}.{column.name}", "") + f"\n{value!r}"
    database = make_url(helpline.store.url).database
    if helpline.store.url.startswith("sqlite"):
        for path in (Path(database), Path(database + "-wal")):
            assert path.exists(), path
            places[path.name] = path.read_bytes().decode("latin-1")

    # the scan is not vacuous: what the scenarios must have left is there to be searched
    for table in ("contacts", "conversations", "chats", "callbacks", "voicemails", "events",
                  "representatives", "staff_audit_log", "receipts"):
        assert any(key.startswith(table + ".") for key in places), table
    assert helpline.hash(TEXTER) in places["contacts.number_hash"]
    assert '"opt_out"' in spooled and helpline.hash(TEXTER) in spooled

    leaks = [(needle, where) for where, content in places.items() for needle in needles()
             if needle in content]
    assert leaks == []
