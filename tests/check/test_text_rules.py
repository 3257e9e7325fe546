"""Every entry of every language (helpline/check/text_rules.py): translations, placeholders,
sources and the fact rule."""
from __future__ import annotations

import pytest

from helpline import check

from ..content_copy import only


def test_a_language_missing_a_key_the_other_has(copy):
    copy.replace("content/es/facts.yaml", "facts.naloxone:", "facts.naloxona:")
    errors = copy.findings("error")
    es = only(errors, "content/es/facts.yaml", "facts.naloxone")
    assert "missing in Español (es): content/en/facts.yaml has it" in es.message
    en = only(errors, "content/en/facts.yaml", "facts.naloxona")
    assert "missing in English (en): content/es/facts.yaml has it" in en.message


def test_a_language_missing_a_word_list_or_a_source(copy):
    copy.replace("content/es/words.yaml", "sources: [fuentes", "fuentes: [fuentes")
    copy.replace("content/en/sources.yaml", "dpa:", "drug_policy:")
    errors = copy.findings("error")
    assert "missing in Español (es)" in only(errors, "content/es/words.yaml", "sources").message
    only(errors, "content/en/sources.yaml", "dpa", "missing in English (en)")


def test_a_broken_placeholder(copy):
    copy.replace("content/en/menus.yaml", '"({n}/{total}) Reply MORE', '"({n/{total}) Reply MORE')
    only(copy.findings("error"), "content/en/menus.yaml", "prompt.series_more", "placeholder")


def test_a_translation_keeps_the_same_placeholders(copy):
    copy.replace("content/es/safety.yaml", "{hours}", "{horas}")
    found = only(copy.findings("warning"), "content/es/safety.yaml", "person.closed", "fills in")
    assert "'text' fills in {horas}, but content/en/safety.yaml fills in {hours}" in found.message


def test_a_placeholder_the_code_cannot_fill_in(copy):
    copy.set_entry("content/en/menus.yaml", "prompt.didnt_get", "Sorry, {channel} failed.",
                   sources=None)
    only(copy.findings("warning"), "content/en/menus.yaml", "prompt.didnt_get",
         "'text' has {channel}, a name the helpline's code cannot fill in")


def test_a_fact_without_a_source(copy):
    copy.replace("content/en/facts.yaml", "  sources: [nida, dpa]\nfacts.dependence:",
                 "facts.dependence:")
    found = only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use")
    assert "a fact without a source (its key starts with facts.)" in found.message
    assert "nida, dpa, samhsa, lifeline988" in found.message


def test_families_facts_are_facts(copy):
    copy.replace("content/es/facts.yaml", "  sources: [samhsa_families]\n", "")
    found = only(copy.findings("error"), "content/es/facts.yaml", "families.talk")
    assert "a fact without a source (its key starts with families.)" in found.message
    copy.replace("flows/main.yaml", "pieces: [families.talk, families.support, families.naloxone]",
                 "pieces: [families.talk, families.support]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "families.naloxone")
    assert "no flow uses this fact" in found.message


def test_a_crisis_answer_without_a_source(copy):
    copy.replace("content/es/safety.yaml", "  sources: [samhsa, samhsa_toolkit]\ncrisis.suicide:",
                 "crisis.suicide:")
    found = only(copy.findings("error"), "content/es/safety.yaml", "crisis.overdose")
    assert "a fact without a source (it answers a crisis)" in found.message


def test_prompts_are_not_facts_but_a_phone_number_wants_a_source(copy):
    copy.set_entry("content/en/menus.yaml", "menu.sub.footer",
                   "BACK to go back, or call 1-800-662-4357.", voice="Press 9.", sources=None)
    assert copy.findings("error") == []
    found = only(copy.findings("warning"), "content/en/menus.yaml", "menu.sub.footer")
    assert "gives the number 1-800-662-4357 but names no source" in found.message
    assert not [f for f in copy.findings() if f.key == "crisis.offer" and "source" in f.message]


@pytest.mark.parametrize("prefix", check.FACT_PREFIXES)
def test_every_kind_of_fact_needs_a_source(copy, prefix):
    """One entry of each fact prefix loses its sources (and any number that would be
    flagged for its own reason): the fact rule names the prefix."""
    from helpline.content import Content

    entries = Content.load(copy.content, "en").languages["en"].entries
    key, entry = next((k, e) for k, e in entries.items() if k.startswith(prefix) and e.sources)
    copy.set_entry(f"content/en/{entry.file}", key, "A plain sentence.", sources=None)
    found = only(copy.findings("error"), f"content/en/{entry.file}", key)
    assert f"a fact without a source (its key starts with {prefix}" in found.message
