"""The crisis word lists (helpline/check/crisis_rules.py, and crisis.yaml as it loads): in every
language, compiled, and used."""
from __future__ import annotations

from ..content_copy import only


def test_crisis_word_lists_in_every_language(copy):
    text = copy.file("content/es/crisis.yaml").read_text(encoding="utf-8")
    start, end = text.index("crisis.suicide:"), text.index("ignore:")
    copy.file("content/es/crisis.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    errors = copy.findings("error")
    missing = only(errors, "content/es/crisis.yaml", "crisis.suicide")
    assert "missing: the crisis words for 'suicide' in Español (es)" in missing.message


def test_a_crisis_vocabulary_that_cannot_be_compiled(copy):
    copy.replace("content/en/crisis.yaml", "  - [not, breathing]", "  - [no, breathing]")
    found = only(copy.findings("error"), "content/en/crisis.yaml", "crisis.overdose[7]")
    assert "a bare yes, no, on or off is read as true/false" in found.message
    copy.replace("content/en/crisis.yaml", "  - [no, breathing]", "  - '*od'")
    found = only(copy.findings("error"), "content/en/crisis.yaml", "crisis.overdose[7]")
    assert "a '*' ends a word" in found.message


def test_crisis_groups_and_lists_nobody_uses(copy):
    copy.replace("content/en/crisis.yaml", "groups:\n", "groups:\n  spare: [spare]\n")
    copy.replace("content/en/crisis.yaml", "ignore:\n", "crisis.unknown: [nothing]\n\nignore:\n")
    warnings = copy.findings("warning")
    assert "no line uses this group" in only(warnings, "content/en/crisis.yaml", "groups.spare").message
    assert "no flow uses these crisis words" in only(
        warnings, "content/en/crisis.yaml", "crisis.unknown").message
    missing = only(copy.findings("error"), "content/es/crisis.yaml", "crisis.unknown")
    assert "content/en/crisis.yaml has it; add a translation" in missing.message
