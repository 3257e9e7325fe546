"""The locator client and the lists made from it, without the app: rows parsed defensively,
one facility once, every answer that is not a list of rows an error, and a list of places
that always fits the SMS budget whatever the listings' names."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline import check
from helpline.content import Content
from helpline.locator import Locator, LocatorError, Place, merge, parse_row
from helpline.places_text import PlacesText, gsm_text, in_groups
from helpline.segments import sms_segments

from .content_copy import Copy, only
from .locator_standin import ROWS, LocatorStandIn
from .test_simulate import app, simulate  # noqa: F401 - the simulator's fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def standin():
    server = LocatorStandIn()
    yield server
    server.close()


def test_rows_are_read_defensively():
    otp = dict(ROWS[2], miles="1.94")
    assert parse_row(otp) == Place("Eastside Opioid Treatment Program", "718-555-0102",
                                   "Brooklyn", "NY", 1.9)            # services null, miles text
    assert parse_row(dict(ROWS[0], name1="", name2="Harbor")).name == "Harbor"
    for broken in [None, [], "row", dict(ROWS[0], name1="", name2=""), dict(ROWS[0], miles=None),
                   dict(ROWS[0], miles="far"), dict(ROWS[0], miles="nan"), dict(ROWS[0], miles=-1)]:
        assert parse_row(broken) is None
    odd = dict(ROWS[0], services=[None, "x", {"f2": 3, "f3": None}], phone=None, intake1="555")
    assert parse_row(odd).phone == "555" and parse_row(odd).medications == ()


def test_a_facility_listed_as_sa_and_mh_is_kept_once_with_what_both_say():
    sa, mh = parse_row(ROWS[0]), parse_row(dict(ROWS[1], miles=0.5))
    spanish = parse_row(dict(ROWS[1], services=[{"f2": "SL", "f3": "Spanish"}]))
    (place,) = merge([sa, mh, spanish])
    assert place.miles == 0.5 and place.medications == ("methadone", "buprenorphine")
    assert place.languages == ("es",)
    assert [p.name for p in merge(map(parse_row, ROWS))][:3] == [
        "Harbor Recovery Center", "Eastside Opioid Treatment Program", "Greenway Health Clinic"]


@pytest.mark.parametrize("mode", ["text", "error", "throttled", "garbled"])
def test_every_answer_that_is_not_rows_is_an_error(standin, mode):
    standin.mode = mode
    try:
        with pytest.raises(LocatorError):
            Locator(standin.url).near(40.75, -73.99, "medication", 25, wait=2)
    finally:
        standin.mode = "ok"


def test_the_search_goes_latitude_first_and_finds_places(standin):
    places = Locator(standin.url).near(40.7484, -73.9967, "detox", 25, wait=2)
    assert [p.name for p in places] == ["St. Anne\u2019s Hospital Withdrawal Management Unit"]
    assert Locator(standin.url).near(-73.9967, 40.7484, "detox", 25, wait=2) == []  # the trap
    with pytest.raises(LocatorError):
        Locator(standin.url).near(40.75, -73.99, "detox", 25, wait=0)
    assert Locator(standin.url + "/moved").near(40.7484, -73.9967, "detox", 25, wait=2) == places


def test_names_from_listings_are_sent_in_plain_gsm_letters():
    assert gsm_text("St. Anne\u2019s \u2014 Clínica  Niños") == "St. Anne's - Clinica Niños"
    assert in_groups("(212) 555-0100") == "2 1 2, 5 5 5, 0 1 0 0"
    assert in_groups("1-800-662-4357") == "8 0 0, 6 6 2, 4 3 5 7"


content = Content.load(ROOT / "content")
names = st.text(min_size=1, max_size=150)
places = st.lists(st.builds(Place, name=names, phone=st.text(max_size=30), town=names,
                            state=st.just("NY"), miles=st.floats(0, 100).map(lambda m: round(m, 1)),
                            medications=st.sampled_from([(), ("methadone",),
                                                         ("methadone", "buprenorphine", "naltrexone")])),
                  min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(shown=places, lang=st.sampled_from(["en", "es"]), note=st.booleans())
def test_a_list_of_places_always_fits_four_segments(shown, lang, note):
    texts = PlacesText(content)
    footer = [texts.text(lang, "search.near_footer")]
    reply = texts.sms(lang, "10001", "medication", 25, shown, 1, more=True, spanish_note=note,
                      rest=footer)
    whole = "\n".join([reply, *footer])
    assert sms_segments(whole).count <= 4 or "\n2) " not in reply  # only one place left
    assert "1) " in reply and reply.endswith("findtreatment.gov/locator?sAddr=10001")


def test_the_check_fails_a_list_of_places_that_cannot_fit(tmp_path):
    copy = Copy(tmp_path)
    copy.replace("content/en/treatment_search.yaml", 'text: "Call ahead to check."',
                 'text: "' + "Please call each place ahead of time to check. " * 5 + '"')
    finding = only(copy.findings("error"), key="search", contains="does not fit")
    assert "English (en)" in finding.message and "search.call_ahead" in finding.message
    listed = [f for f in check.run(ROOT / "content", ROOT / "flows") if f.key == "search"]
    assert {f.level for f in listed} == {"info"} and len(listed) == 2


def test_simulate_can_search_against_the_locator_standin(app):  # noqa: F811
    out = simulate(app, "sms", "--locator-standin", script="hi\nMETHADONE 10001\nmore\n")
    assert "1) Harbor Recovery Center, New York, 0.8 mi, 212-555-0101" in out
    assert "No more places within 25 miles" in out
    out = simulate(app, "voice", "--locator-standin", "--lang", "es", script="\n3\n4\n10001\n")
    assert "(presses 1 0 0 0 1)" in out and "1: Harbor Recovery Center, en New York" in out


def test_a_proxy_in_the_environment_is_used_unless_the_host_is_bypassed(standin, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", standin.url)   # the stand-in answers as the proxy too
    before = len(standin.requests)
    places = Locator("http://findtreatment.invalid").near(40.7484, -73.9967, "detox", 25, wait=2)
    assert [p.name for p in places] == ["St. Anne\u2019s Hospital Withdrawal Management Unit"]
    assert len(standin.requests) == before + 1 and "helpline" in standin.requests[-1]["user_agent"]
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")   # nothing listens there
    with pytest.raises(LocatorError):
        Locator(standin.url).near(40.7484, -73.9967, "detox", 25, wait=2)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert Locator(standin.url).near(40.7484, -73.9967, "detox", 25, wait=2) == places
