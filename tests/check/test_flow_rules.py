"""The flows' structure (helpline/check/flow_rules.py): references, reachability, a way home
and a way to a person."""
from __future__ import annotations

from ..content_copy import only


def test_unknown_node(copy):
    copy.replace("flows/main.yaml", "{label: option.facts, words: facts, goto: facts}",
                 "{label: option.facts, words: facts, goto: factz}")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.main.options[1].goto")
    assert "unknown node 'factz'" in found.message and "did you mean 'facts'" in found.message
    assert found.line and "goto: factz" in copy.file("flows/main.yaml").read_text().splitlines()[found.line - 1]


def test_unknown_text_key(copy):
    copy.replace("flows/main.yaml", "facts.xylazine, facts.one_use,", "facts.xylazine, facts.one_usee,")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.facts.pieces[3]")
    assert "text 'facts.one_usee' is in no language's content" in found.message
    assert "did you mean 'facts.one_use'" in found.message


def test_unknown_then_and_home(copy):
    copy.replace("flows/main.yaml", "home: main", "home: mian")
    found = only(copy.findings("error"), "flows/main.yaml", "home")
    assert "unknown node 'mian'" in found.message


def test_a_node_no_path_reaches(copy):
    copy.replace("flows/main.yaml", "nodes:\n",
                 "nodes:\n  orphan:\n    type: series\n    pieces: [facts.one_use]\n\n")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.orphan")
    assert "no path reaches this node" in found.message


def test_a_menu_with_no_way_back_to_the_top(copy):
    copy.replace("flows/main.yaml", '  menu: {digits: ["#", "9"], words: menu}\n', "")
    copy.replace("flows/main.yaml", "  back: {words: back}\n", "")
    errors = copy.findings("error")
    found = only(errors, "flows/main.yaml", "nodes.crisis_offer")
    assert "no way back to the main menu ('main')" in found.message
    # a series goes back where it was chosen from, so the facts lead back to the top
    assert not [f for f in errors if f.key == "nodes.facts"]


def test_the_menu_command_alone_is_a_way_back(copy):
    copy.replace("flows/main.yaml", "  back: {words: back}\n", "")
    assert not [f for f in copy.findings("error") if "no way back" in f.message]


def test_no_way_to_a_person_is_reported_not_a_crash(copy):
    copy.replace("flows/main.yaml", '  person: {digits: ["0"], words: person, goto: person}\n', "")
    found = only(copy.findings("error"), "flows/main.yaml", contains="no way to a person")
    assert found.key == "commands"


def test_crisis_follow_ups_are_checked_like_any_node(copy):
    copy.replace("flows/main.yaml", "    miss: overdose_steps\n  overdose_steps:",
                 "    miss: overdose_stepz\n  overdose_steps:")
    copy.replace("flows/main.yaml", "then: suicide_help,", "then: suicide_hlep,")
    errors = copy.findings("error")
    miss = only(errors, "flows/main.yaml", "nodes.overdose_help.miss")
    assert "unknown node 'overdose_stepz' (did you mean 'overdose_steps'?)" in miss.message
    then = only(errors, "flows/main.yaml", "crisis.kinds.suicide.then")
    assert "unknown node 'suicide_hlep'" in then.message
