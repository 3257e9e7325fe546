"""What a texter receives (helpline/check/sms_rules.py): each SMS text and each whole reply as
the engine composes it, in segments, and the texts allowed to be long."""
from __future__ import annotations

from helpline import check

from ..content_copy import ROOT, only


def test_crisis_answers_and_their_next_steps_fit_in_two_segments():
    found = [f for f in check.run(ROOT / "content", ROOT / "flows", "en") if f.level != "info"
             and f.key.startswith(("crisis.kinds", "nodes.overdose_", "nodes.suicide_",
                                   "nodes.crisis_", "nodes.lifeline"))]
    assert found == [], "\n".join(map(str, found))


def test_over_four_segments_is_an_error(copy):
    copy.set_entry("content/en/facts.yaml", "facts.one_use", "Plain words. " * 60,
                   sources="[nida, dpa]")
    errors = copy.findings("error")
    entry = only(errors, "content/en/facts.yaml", "facts.one_use")
    assert "too long for SMS (GSM-7, 6 segments" in entry.message
    reply = only(errors, "flows/main.yaml", "nodes.facts.pieces[3]")
    assert "in English (en)" in reply.message and "facts.one_use" in reply.message


def test_over_two_segments_is_a_warning_naming_the_characters_that_forced_ucs2(copy):
    copy.set_entry("content/en/facts.yaml", "facts.dependence",
                   "One use can’t make your body physically dependent. " * 3,
                   sources="[nida, dpa]")
    assert copy.findings("error") == []
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.dependence")
    assert "UCS-2, 3 segments" in found.message
    assert "UCS-2 because of '’' (right single quotation mark; use ' instead)" in found.message


REASON = "carriers want every one of these words in this reply"


def allow_long(copy, rel: str, key: str, reason: str = REASON) -> None:
    copy.replace(rel, f"{key}:\n", f"{key}:\n  long_sms: {reason}\n")


def test_long_sms_allows_a_long_text_and_the_summary_says_why(copy):
    copy.set_entry("content/en/facts.yaml", "facts.dependence",
                   "One use can’t make your body physically dependent. " * 3,
                   sources="[nida, dpa]")
    allow_long(copy, "content/en/facts.yaml", "facts.dependence")
    findings = copy.findings()
    assert not [f for f in findings if f.level == "warning" and "long for SMS" in f.message
                and "Español" not in f.message
                and ("facts.dependence" in f.message or f.key == "facts.dependence")]
    allowed = only(findings, "content/en/facts.yaml", "facts.dependence", REASON)
    assert allowed.level == "allowed"
    assert str(allowed) == (f"allowed: content/en/facts.yaml:{allowed.line}: facts.dependence: "
                            f"over 2 SMS segments: {REASON}")
    lines = check.summary(findings).splitlines()
    assert str(allowed) in lines[:-1]
    assert lines[-1] == check.summary([f for f in findings if f.level != "allowed"])


def test_long_sms_never_allows_over_four_segments(copy):
    copy.set_entry("content/en/facts.yaml", "facts.one_use", "Plain words. " * 60,
                   sources="[nida, dpa]")
    allow_long(copy, "content/en/facts.yaml", "facts.one_use")
    only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use", "too long for SMS")


def test_a_long_sms_nothing_needs_is_a_warning(copy):
    allow_long(copy, "content/en/facts.yaml", "facts.one_use")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.one_use",
         "has long_sms, but no reply with it is over 2 SMS segments: remove long_sms")


def test_long_sms_without_a_reason_is_an_error(copy):
    allow_long(copy, "content/en/facts.yaml", "facts.one_use", reason='""')
    only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use",
         "'long_sms' must say why")


def test_what_a_texter_receives_is_checked_as_composed(copy):
    # Alone, the menu's intro is one segment; with the welcome and the options it is four.
    copy.set_entry("content/en/menus.yaml", "menu.main.intro",
                   "Reply with a number, or a word such as FACTS or TREATMENT, and we will "
                   "answer. Every answer is free and private, and nothing you write is kept. ",
                   voice="Main menu.", sources=None)
    warnings = copy.findings("warning")
    assert not [f for f in warnings if f.key == "menu.main.intro"]
    first = only(warnings, "flows/main.yaml", "start.sms", "in English (en)")
    assert "the first reply to a new texter (welcome + 'main')" in first.message
    assert "3 segments" in first.message


def test_verbose_information_gives_every_sms_texts_encoding():
    info = [f for f in check.run(ROOT / "content", ROOT / "flows") if f.level == "info"]
    found = only(info, "content/en/facts.yaml", "facts.one_use", "SMS text")
    assert "GSM-7, 1 segment" in found.message


def test_the_crisis_numbers_are_measured_in_every_miss_and_the_welcome(copy):
    copy.set_entry("content/en/safety.yaml", "crisis.numbers", "Overdose: call 911. " * 8,
                   voice="Overdose: call 9 1 1.")
    english = [f for f in copy.findings("warning") if "in English (en)" in f.message]
    welcome = only(english, "flows/main.yaml", "start.sms")
    assert "(GSM-7, 3 segments, 404 characters" in welcome.message
    assert "crisis.numbers" in welcome.message
    missed = only(english, "flows/main.yaml", "nodes.main")
    assert "after \"didn't get that\"" in missed.message and "crisis.numbers" in missed.message
