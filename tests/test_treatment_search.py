"""Treatment near you: a ZIP code by SMS or voice gets the nearest places from the
FindTreatment.gov locator (a local stand-in answering in its shape), cached a day, with the
national helpline whenever the locator cannot answer in time."""
from __future__ import annotations

import itertools
import json
import re
import shutil
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from helpline import texter
from helpline.config import ROOT
from helpline.segments import sms_segments
from helpline.store import Contact, Event, utcnow
from helpline.treatment_search import CachedPlaces

from .conftest import CALLER, TEXTER, Twilio, twiml
from .locator_standin import LocatorStandIn, spanish_rows
from .test_shifts import wait_for

SAMHSA = "1-800-662-4357"
LINK = "findtreatment.gov/locator?sAddr=10001"
MILES_25 = str(int(25 * 1609.34))


@pytest.fixture
def locator():
    standin = LocatorStandIn()
    yield standin
    standin.close()


@pytest.fixture
def app(make_app, locator):
    return make_app(FINDTREATMENT_API_BASE=locator.url)


def helpline_of(app):
    return app.extensions["helpline"]


def queries(locator) -> list[dict]:
    return [r["query"] for r in locator.requests]


# -- texters -------------------------------------------------------------------------------------

def test_a_zip_code_at_the_main_menu_gets_the_three_nearest_medication_places(twilio, locator):
    twilio.text("hi")
    reply = twilio.text("10001")
    lines = reply.splitlines()
    assert lines[0] == ("Places within 25 miles of 10001 that offer medication for opioid use "
                        "disorder:")
    assert lines[1] == ("1) Harbor Recovery Center, New York, 0.8 mi, 212-555-0101. Offers "
                        "methadone, buprenorphine")
    assert lines[2] == "2) Eastside Opioid Treatment Program, Brooklyn, 1.9 mi, 718-555-0102"
    assert lines[3].startswith("3) Greenway Health Clinic, Hoboken, 3.4 mi, 201-555-0103")
    assert reply.count("Harbor Recovery Center") == 1       # listed as SA and MH, shown once
    assert "Call ahead to check. Reply MORE for the next ones." in reply
    assert LINK in reply and reply.endswith("or 0 for a person.")
    (query,) = queries(locator)
    assert query == {"sAddr": "40.7484,-73.9967", "limitType": "2", "limitValue": MILES_25,
                     "sType": "SA", "sCodes": "BU,METH,NU,OTP", "pageSize": "20", "page": "1",
                     "sort": "0"}
    assert "helpline" in locator.requests[0]["user_agent"]


def test_a_first_text_that_is_a_zip_code_gets_the_welcome_and_the_places(twilio):
    reply = twilio.text("METHADONE 10001").splitlines()
    assert reply[0].startswith("Hi, this is the Heroin & Opioid Helpline.")
    assert reply[1] == "Places within 25 miles of 10001 that offer methadone:"
    assert reply[-1].startswith("Send another ZIP code")
    assert twilio.text("back").startswith("Reply with a number:")   # BACK: the main menu


def test_a_line_before_the_list_that_would_make_it_too_long_gives_way(make_app, locator, tmp_path):
    """A "didn't get that" with an accent makes a reply UCS-2 (less than half as long): the
    places matter more."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    menus = content / "es" / "menus.yaml"
    menus.write_text(re.sub(r'(?m)^prompt.didnt_get: .*$', 'prompt.didnt_get: "Perdón, no le entendí."',
                            menus.read_text(encoding="utf-8")), encoding="utf-8")
    twilio = Twilio(make_app(FINDTREATMENT_API_BASE=locator.url,
                             HELPLINE_CONTENT_DIR=str(content), CONTENT_DIR=str(content)).test_client())
    twilio.text("español")
    twilio.text("10001")
    reply = twilio.text("zzz")
    assert reply.startswith("Lugares a menos de 25 millas de 10001") and "3) Greenway" in reply
    assert sms_segments(reply).count <= 4


@pytest.mark.parametrize("body, codes, filter_words", [
    ("METHADONE 10001", "METH", "methadone"), ("10001 buprenorphine", "BU", "buprenorphine"),
    ("naltrexone 10001", "NU", "naltrexone"), ("outpatient 10001", "OP", "outpatient treatment"),
    ("10001 detox", "DT", "detox"), ("Suboxone near 10001-1234", "BU", "buprenorphine")])
def test_what_was_asked_for_filters_the_places(twilio, locator, body, codes, filter_words):
    twilio.text("hi")
    reply = twilio.text(body)
    assert f"of 10001 that offer {filter_words}:" in reply
    assert queries(locator)[0]["sCodes"] == codes


def test_spanish_words_filter_too_and_the_answer_is_in_spanish(twilio, locator):
    twilio.text("hola")
    twilio.text("español")
    reply = twilio.text("METADONA 10001")
    assert reply.startswith("Lugares a menos de 25 millas de 10001 que ofrecen metadona:")
    assert "Ofrece metadona, buprenorfina" in reply and "Llame antes para confirmar." in reply
    assert queries(locator)[0]["sCodes"] == "METH"


def test_residential_widens_to_50_miles_and_says_so(twilio, locator):
    twilio.text("hi")
    reply = twilio.text("RESIDENTIAL 10001")
    assert reply.startswith("Places within 50 miles of 10001 that offer residential treatment:")
    assert "1) Hilltop Residential Recovery Program, Poughkeepsie, 38.0 mi" in reply
    assert [q["limitValue"] for q in queries(locator)] == [MILES_25, str(int(50 * 1609.34))]


def test_nothing_within_100_miles_gives_samhsas_helpline(twilio, locator):
    locator.rows = []
    twilio.text("hi")
    reply = twilio.text("10001")
    assert "no places within 100 miles of 10001" in reply and SAMHSA in reply and LINK in reply
    assert len(locator.requests) == 3


def test_more_gives_the_next_three_then_says_there_are_no_more(twilio):
    twilio.text("hi")
    twilio.text("10001")
    reply = twilio.text("MORE")
    assert reply.startswith("Places within 25 miles")
    assert "4) Riverside Family Health Center" in reply and "6) St. Anne's Hospital" in reply
    assert "1) Harbor" not in reply and "Reply MORE" not in reply
    assert "No more places within 25 miles" in twilio.text("more")


def test_a_word_not_understood_at_the_places_says_so_first_then_shows_them_again(twilio):
    twilio.text("hi")
    twilio.text("10001")
    reply = twilio.text("zzz").splitlines()
    assert reply[0] == "Sorry, I didn't get that."
    assert reply[1].startswith("Places within 25 miles of 10001") and "1) Harbor" in reply[2]
    assert reply[-1].startswith("Send another ZIP code")


@pytest.mark.parametrize("body, expected", [
    ("1234", "A ZIP code has 5 digits"), ("123456", "A ZIP code has 5 digits"),
    ("99999", "99999 is not a US ZIP code we know"),
    ("00604", "00604 is a ZIP code for PO boxes only")])
def test_what_is_not_a_zip_code_says_what_to_send(twilio, locator, body, expected):
    twilio.text("hi")
    assert expected in twilio.text(body)
    assert locator.requests == []
    assert "Places within 25 miles of 10001" in twilio.text("10001")  # and then it works


@pytest.mark.parametrize("steps", [["3", "1"], ["3", "2"], ["3", "3"], ["3", "3", "more"],
                                   ["3", "4"]])
def test_every_treatment_step_ends_with_the_zip_code_invitation(twilio, steps):
    twilio.text("hi")
    for body in steps:
        reply = twilio.text(body)
    assert reply.endswith("Reply with your ZIP code to find places near you.")
    assert "Places within 25 miles of 10001" in twilio.text("10001")


def test_spanish_texters_get_places_with_spanish_services_first(twilio, locator):
    locator.rows = spanish_rows()
    twilio.text("español")
    reply = twilio.text("10001")
    assert reply.splitlines()[1].startswith("1) Riverside Family Health Center")
    assert "Ninguno" not in reply


def test_spanish_texters_are_told_when_no_place_nearby_lists_spanish(twilio):
    twilio.text("español")
    assert "Ninguno de estos lugares dice atender en español." in twilio.text("10001")
    twilio.text("english")
    assert "Spanish" not in twilio.text("10001")


# -- the cache and privacy -------------------------------------------------------------------------

def test_a_second_search_is_answered_from_the_cache_for_a_day(app, locator):
    helpline, now = helpline_of(app), utcnow()
    texter.receive(helpline, TEXTER, "hi", now=now)
    first = texter.receive(helpline, TEXTER, "10001", now=now).text()
    later = now + timedelta(hours=23)
    texter.receive(helpline, "+15555550177", "hi", now=later)
    again = texter.receive(helpline, "+15555550177", "10001", now=later).text()
    assert again == first and len(locator.requests) == 1
    assert "4) Riverside" in texter.receive(helpline, "+15555550177", "more", now=later).text()
    assert len(locator.requests) == 1
    texter.receive(helpline, TEXTER, "hi", now=now + timedelta(hours=25))
    texter.receive(helpline, TEXTER, "10001", now=now + timedelta(hours=25))
    assert len(locator.requests) == 2


def test_the_zip_code_is_cached_by_zip_code_never_with_a_number(app, twilio):
    twilio.text("hi")
    twilio.text("METHADONE 10001")
    helpline = helpline_of(app)
    columns = {c["name"] for c in inspect(helpline.store.engine).get_columns("treatment_places")}
    assert columns == {"id", "zip", "filter", "miles", "fetched_at", "places"}
    with helpline.store.transaction() as db:
        (row,) = db.execute(select(CachedPlaces)).scalars()
        assert (row.zip, row.filter, row.miles) == ("10001", "methadone", 25)
        state = db.execute(select(Contact.state)).scalar_one()
        assert "10001" not in json.dumps(state)
        names = set(db.execute(select(Event.name)).scalars())
    assert {"search_state:NY", "search_filter:methadone"} <= names
    assert not any("10001" in n for n in names)
    twilio.text("menu")
    with helpline.store.transaction() as db:
        assert "search" not in db.execute(select(Contact.state)).scalar_one()


# -- when the locator cannot answer ----------------------------------------------------------------

def worker_app(make_app, locator, standin, **settings):
    app = make_app(FINDTREATMENT_API_BASE=locator.url, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                   TWILIO_API_BASE=standin.url, **settings)
    helpline_of(app).clock.set(utcnow().replace(microsecond=0))
    return app


def texted(standin) -> list[str]:
    return [r["form"]["Body"] for r in standin.requests]


@pytest.mark.parametrize("mode", ["text", "error", "throttled", "garbled", "slow"])
def test_a_locator_that_fails_is_tried_again_then_the_national_helpline_is_texted(
        make_app, locator, standin, caplog, mode):
    app = worker_app(make_app, locator, standin, FINDTREATMENT_WAIT_SECONDS=0.3)
    helpline = helpline_of(app)
    twilio = Twilio(app.test_client())
    locator.mode = mode
    twilio.text("hi")
    assert twilio.text("10001").startswith("Looking for places near 10001...")
    for _ in range(3):   # the worker asks again every 30 s for two minutes
        helpline.queue.run_due(helpline.clock.advance(seconds=30), periodic=False)
        assert texted(standin) == []
    helpline.queue.run_due(helpline.clock.advance(seconds=30), periodic=False)
    (sent,) = texted(standin)
    assert sent.startswith("The treatment locator isn't answering right now.")
    assert SAMHSA in sent and LINK in sent and standin.requests[0]["form"]["To"] == TEXTER
    assert "treatment locator unavailable" in caplog.text
    assert TEXTER not in caplog.text and TEXTER[1:] not in caplog.text
    with helpline.store.transaction() as db:
        assert db.execute(select(func.count()).select_from(CachedPlaces)).scalar_one() == 0
    locator.mode = "ok"
    assert "Harbor Recovery Center" in twilio.text("10001")   # a failure is never cached


def test_a_slow_search_is_finished_by_the_worker_and_texted(make_app, locator, standin):
    app = worker_app(make_app, locator, standin)
    helpline = helpline_of(app)
    twilio = Twilio(app.test_client())
    locator.mode = "error"
    twilio.text("hi")
    assert twilio.text("10001").startswith("Looking for places near 10001...")
    locator.mode = "ok"
    helpline.queue.run_due(helpline.clock.advance(seconds=5), periodic=False)
    (sent,) = texted(standin)
    assert "1) Harbor Recovery Center" in sent and LINK in sent
    assert standin.requests[0]["form"]["To"] == TEXTER


def test_with_the_queue_store_down_a_failed_search_gets_the_national_helpline_at_once(
        make_app, locator, monkeypatch):
    app = make_app(FINDTREATMENT_API_BASE=locator.url)
    monkeypatch.setattr(helpline_of(app).queue, "enqueue", lambda *args, **kwargs: False)
    twilio = Twilio(app.test_client())
    locator.mode = "error"
    twilio.text("hi")
    reply = twilio.text("10001")
    assert reply.startswith("The treatment locator isn't answering right now.") and SAMHSA in reply


def test_no_database_lock_is_held_while_the_locator_is_asked(app, twilio, locator):
    """The locator is asked after the turn's transaction: while it answers, the texter's
    own contact row (on SQLite, the one write lock) can be taken at once."""
    store, free = helpline_of(app).store, []

    def take_the_lock():
        try:
            with store.transaction() as db:
                db.execute(select(Contact).with_for_update(nowait=True)).all()
            free.append(True)
        except SQLAlchemyError:
            free.append(False)
    locator.on_request = take_the_lock
    twilio.text("hi")
    assert "1) Harbor Recovery Center" in twilio.text("10001")
    assert free == [True]


def test_a_locator_that_cannot_be_reached_gets_the_fallback(make_app):
    standin = LocatorStandIn()
    url = standin.url
    standin.close()
    twilio = Twilio(make_app(FINDTREATMENT_API_BASE=url).test_client())
    twilio.text("hi")
    assert twilio.text("10001").startswith("Looking for places near 10001...")  # the worker goes on


def test_the_worker_seam_tells_the_texter_the_list_is_coming(app, twilio, locator):
    """Once a worker takes slow searches (``defer``), the texter hears it is on its way."""
    queued = []
    helpline_of(app).searches.defer = lambda pending: queued.append(pending.zip) or True
    locator.mode = "error"
    twilio.text("hi")
    assert twilio.text("10001").startswith("Looking for places near 10001...")
    assert queued == ["10001"]


NUMBERS = itertools.count()
zip_strings = st.one_of(
    st.from_regex(r"[0-9]{1,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z ]{0,12}[0-9]{5}(-[0-9]{4})?[A-Za-z ]{0,12}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=zip_strings)
def test_any_zip_like_text_gets_an_answer(app, body):
    twilio = Twilio(app.test_client())
    number = f"+1555{next(NUMBERS):07d}"   # a new texter each time
    twilio.text("3", number)
    response = twilio.sms(body, number)
    assert response.status_code == 200
    messages = [m.text or "" for m in twiml(response).iter("Message")]
    stop = helpline_of(app).engine.carrier_keyword(body) == "stop"
    assert stop or (messages and all(m.strip() for m in messages))


# -- callers ---------------------------------------------------------------------------------------

class Call:
    def __init__(self, twilio: Twilio, caller: str = CALLER):
        self.twilio, self.caller = twilio, caller
        self.sid = "CA" + "7" * 32
        self.last = None

    def post(self, path, **data):
        self.last = twiml(self.twilio.post(path, {"CallSid": self.sid, "From": self.caller, **data}))
        return " ".join(s.text or "" for s in self.last.iter("Say"))

    def gather(self):
        return self.last.find("Gather")

    def press(self, digits):
        return self.post(self.gather().get("action"), Digits=digits)

    def say(self, words):
        return self.post(self.gather().get("action"), SpeechResult=words, Confidence="0.9")

    def to_zip_entry(self):
        self.post("/voice")
        self.post(self.gather().get("action"))      # silence: the main menu
        self.press("3")
        spoken = self.press("4")
        assert "To find places near you, enter your 5 digit ZIP code, or say it." in spoken
        assert self.gather().get("numDigits") == "5"
        assert "$OOV_CLASS_DIGIT_SEQUENCE" in self.gather().get("hints")


@pytest.fixture
def voice_app(make_app, locator, standin):
    return make_app(FINDTREATMENT_API_BASE=locator.url, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                    TWILIO_API_BASE=standin.url)


def test_a_caller_keys_a_zip_code_and_hears_the_two_nearest(voice_app):
    call = Call(Twilio(voice_app.test_client()))
    call.to_zip_entry()
    spoken = call.press("10001")
    assert ("Here are the nearest places within 25 miles that offer medication for opioid use "
            "disorder.") in spoken
    assert ("1: Harbor Recovery Center, in New York, 0.8 miles away. Call 2 1 2, 5 5 5, "
            "0 1 0 1. 2: Eastside") in spoken
    assert "2: Eastside Opioid Treatment Program, in Brooklyn" in spoken
    assert "Greenway" not in spoken and "findtreatment" not in spoken
    assert "To hear them again, press 1. To get them by text, press 2." in spoken
    assert "Press 0 for a person" in spoken
    assert call.gather().get("numDigits") == "1"
    assert "1: Harbor Recovery Center" in call.press("1")
    assert "No one is free to answer right now." in call.press("0")   # nobody is on duty


@pytest.mark.parametrize("said", ["1 0 0 0 1", "one zero zero zero one", "Uno, cero cero cero uno."])
def test_a_caller_can_say_the_zip_code(voice_app, locator, said):
    """As digits or as words, in either language."""
    call = Call(Twilio(voice_app.test_client()))
    call.to_zip_entry()
    assert "1: Harbor Recovery Center" in call.say(said)
    assert queries(locator)[0]["sCodes"] == "BU,METH,NU,OTP"


def test_2_texts_the_places_to_the_callers_number_from_the_helpline(voice_app, standin):
    call = Call(Twilio(voice_app.test_client()))
    call.to_zip_entry()
    call.press("10001")
    spoken = call.press("2")
    assert "We're sending them to your phone by text now." in spoken
    wait_for(lambda: standin.requests)   # sent by REST after the answer
    (sent,) = standin.requests
    assert sent["form"]["To"] == CALLER and sent["form"]["From"] == "+15555550100"
    body = sent["form"]["Body"]
    assert body.startswith("Places within 25 miles of 10001")
    assert "3) Greenway Health Clinic" in body and LINK in body


@pytest.mark.parametrize("caller", ["+441632960983", "anonymous"])
def test_a_number_that_cannot_take_texts_is_not_offered_them(voice_app, caller):
    call = Call(Twilio(voice_app.test_client()), caller)
    call.to_zip_entry()
    spoken = call.press("10001")
    assert "1: Harbor Recovery Center" in spoken and "by text" not in spoken


def test_a_number_that_said_stop_is_not_offered_texts(voice_app):
    twilio = Twilio(voice_app.test_client())
    twilio.text("STOP", CALLER)
    call = Call(twilio)
    call.to_zip_entry()
    assert "by text" not in call.press("10001")
    with helpline_of(voice_app).store.transaction() as db:
        assert db.execute(select(Contact.opted_out)).scalar_one() is True


def test_a_caller_hears_the_national_helpline_when_the_locator_fails(voice_app, locator):
    locator.mode = "text"
    call = Call(Twilio(voice_app.test_client()))
    call.to_zip_entry()
    spoken = call.press("10001")
    assert "The treatment locator isn't answering right now." in spoken
    assert "1 8 0 0, 6 6 2, 4 3 5 7" in spoken and "findtreatment" not in spoken
    assert call.gather() is not None


def test_a_caller_with_a_wrong_zip_code_is_asked_again_for_5_keys(voice_app):
    call = Call(Twilio(voice_app.test_client()))
    call.to_zip_entry()
    assert "That is not a ZIP code we know." in call.press("99999")
    assert call.gather().get("numDigits") == "5"
    assert "1: Harbor Recovery Center" in call.press("10001")


# -- the statistics page ---------------------------------------------------------------------------

def test_statistics_count_searches_per_state_and_filter(app, twilio):
    from .test_staff import Console, add_account

    twilio.text("hi")
    for body in ["10001", "METHADONE 10001", "90210", "99999"]:
        twilio.text(body)
    add_account(app)
    console = Console(app)
    console.login()
    page = console.get("/staff/stats").get_data(as_text=True)
    assert "Treatment searches by ZIP code" in page
    assert ">NY</text>" in page and ">CA</text>" in page
    assert ">medication</text>" in page and ">methadone</text>" in page
    assert "10001" not in page and "90210" not in page
    with helpline_of(app).store.transaction() as db:
        counts = dict(db.execute(select(Event.name, func.count()).where(
            Event.name.like("search_%")).group_by(Event.name)).all())
    assert counts == {"search_state:NY": 2, "search_state:CA": 1,
                      "search_filter:medication": 2, "search_filter:methadone": 1}
    assert re.search(r">2</text>", page)
