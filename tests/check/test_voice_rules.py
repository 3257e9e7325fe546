"""What a caller hears (helpline/check/voice_rules.py): wording a voice reads badly, and how long
it takes."""
from __future__ import annotations

from helpline import check

from ..content_copy import ROOT, only


def test_voice_urls_symbols_and_digit_runs(copy):
    copy.set_entry("content/en/facts.yaml", "facts.stigma",
                   "Treatment works & people recover. Call 911 or see findtreatment.gov.",
                   sources="[nida]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma",
                 "web address")
    assert "(findtreatment.gov)" in found.message and "add a 'voice' wording" in found.message
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "the symbol &")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "'9 1 1'")


def test_a_voice_variant_is_what_is_checked_when_there_is_one(copy):
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "See findtreatment.gov.",
                   voice="Treatment works.", sources="[nida]")
    assert not [f for f in copy.findings("warning")
                if f.key == "facts.stigma" and "caller" in f.message]
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "See findtreatment.gov.",
                   sources="[nida]")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "web address")


def test_texts_only_texters_get_are_not_checked_for_voice(copy):
    # keyword.help answers HELP by SMS; facts.stigma is also read to callers
    for key, rel in (("keyword.help", "content/en/safety.yaml"),
                     ("facts.stigma", "content/en/facts.yaml")):
        copy.set_entry(rel, key, "Help: see findtreatment.gov.", sources="[samhsa]")
    warnings = copy.findings("warning")
    only(warnings, "content/en/facts.yaml", "facts.stigma", "web address")
    assert not [f for f in warnings if f.key == "keyword.help" and "caller" in f.message]


def test_over_thirty_seconds_spoken_is_a_warning(copy):
    copy.set_entry("content/en/facts.yaml", "facts.naloxone", "Naloxone can help.",
                   voice="Naloxone can reverse an opioid overdose. " * 15, sources="[samhsa]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.naloxone", "seconds")
    assert "about 36 seconds spoken ('voice', at 150 words a minute" in found.message


def test_voice_prompts_beginning_for_verbing_are_flagged(copy):
    copy.replace("content/en/safety.yaml", 'voice: "To leave a message"', 'voice: "For leaving a message"')
    found = only(copy.findings("warning"), "content/en/safety.yaml", "option.voicemail", "For leaving")
    assert "To leave a message, press 1." in found.message


def test_an_option_composed_as_for_verbing_is_flagged(copy):
    copy.replace("content/en/menus.yaml", 'voice: "{label}, press {digit}."', 'voice: "For {label}, press {digit}."')
    copy.replace("content/en/safety.yaml", 'voice: "To leave a message"', 'voice: "leaving a message"')
    found = only(copy.findings("warning"), "content/en/safety.yaml", "option.voicemail", "For leaving")
    assert 'a caller hears "For leaving a message, press 1."' in found.message


def test_shipped_voice_prompts_do_not_begin_for_verbing():
    assert not [f for f in check.run(ROOT / "content", ROOT / "flows", "en")
                if "is not how a person says it" in f.message]
