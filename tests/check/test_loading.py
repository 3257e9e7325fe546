"""Loading for the check (helpline/check/loading.py): files an editor may get wrong, each
reported with file, key and line, and the rest still checked; the loaders' two modes
(helpline/findings.py)."""
from __future__ import annotations

import pytest

from helpline.content import ContentError, load_language
from helpline.findings import Collect
from helpline.flows import FlowError, parse_file

from ..content_copy import only


def test_yaml_that_does_not_load_names_the_line(copy):
    copy.replace("content/en/facts.yaml", 'text: "Can one use lead to addiction? It can.',
                 'text: Can one use lead to addiction? It can: "yes.')
    found = only(copy.findings("error"), "content/en/facts.yaml", contains="not valid YAML")
    assert found.line == 4


def test_a_bare_yes_in_a_word_list_is_refused(copy):
    """YAML reads a bare yes as true: the word list would hold "True", and "yes" would choose
    nothing."""
    copy.replace("content/en/words.yaml", '"yes", yes please]', 'yes, yes please]')
    found = only(copy.findings("error"), "content/en/words.yaml", "lifeline", "a bare yes")
    assert 'write the word in quotes, like "yes"' in found.message


def test_a_key_written_twice(copy):
    path = copy.file("content/en/facts.yaml")
    path.write_text(path.read_text() + 'facts.one_use:\n  text: "again"\n  sources: [nida]\n')
    found = only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use", "written twice")
    assert "first on line 3" in found.message


def test_an_unknown_field_and_an_unknown_source(copy):
    copy.replace("content/en/facts.yaml", "  sources: [nida, dpa]\nfacts.dependence:",
                 "  source: [nida, dpa]\nfacts.dependence:")
    copy.replace("content/en/facts.yaml", "sources: [nida]\nfacts.naloxone:",
                 "sources: [nidaa]\nfacts.naloxone:")
    errors = copy.findings("error")
    assert "unknown field(s) ['source']" in only(errors, key="facts.one_use").message
    found = only(errors, "content/en/facts.yaml", "facts.stigma", "unknown source")
    assert "'nidaa' (did you mean 'nida'?)" in found.message


def test_a_file_that_is_not_read(copy):
    copy.file("content/en/extra.yml").write_text('facts.extra: "x"\n')
    only(copy.findings("warning"), "content/en/extra.yml", contains="only files ending in .yaml")


def line_of(path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_the_app_stops_at_the_first_problem_and_the_check_collects_each(copy):
    """One loader: the app's way raises the first problem as the log has always said it; the
    check's way keeps each one, with file, key and line, and loads the rest of the folder."""
    copy.replace("content/es/facts.yaml", "facts.naloxone:\n", "facts.naloxone:\n  colour: red\n")
    words = copy.file("content/es/words.yaml")
    words.write_text(words.read_text(encoding="utf-8") + "broken: 5\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"^facts\.yaml: facts\.naloxone: unknown field\(s\) \['colour'\]$"):
        load_language(copy.content / "es")
    found = Collect()
    lang = load_language(copy.content / "es", found)
    assert [(f.level, f.file, f.key, f.line) for f in found.findings] == [
        ("error", "content/es/facts.yaml", "facts.naloxone",
         line_of(copy.file("content/es/facts.yaml"), "facts.naloxone:")),
        ("error", "content/es/words.yaml", "broken", line_of(words, "broken: 5"))]
    assert found.findings[1].message == "must be a list of words or phrases, like [menu, main menu]"
    assert found.broken == {("es", "facts.naloxone")}
    assert "facts.naloxone" not in lang.entries and "facts.stigma" in lang.entries
    assert lang.words["menu"] and "broken" not in lang.words


def test_a_flow_that_cannot_be_read_is_a_finding_or_the_apps_error(copy):
    copy.replace("flows/main.yaml", "  facts:\n    type: series\n", "  facts:\n    type: seriez\n")
    path = copy.flows / "main.yaml"
    with pytest.raises(FlowError, match=r"^main\.yaml: nodes\.facts: type 'seriez' is not one of "):
        parse_file(path)
    found = Collect()
    assert parse_file(path, found, "flows/main.yaml") is None
    [finding] = found.findings
    assert (finding.file, finding.key, finding.line) == ("flows/main.yaml", "nodes.facts",
                                                         line_of(path, "  facts:"))
    assert finding.message.startswith("type 'seriez' is not one of ")
