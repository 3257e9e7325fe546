"""The flow engine as a spec: conversations in ``tests/flow/cases/*.yaml`` run against the real
flows/ and content/, with no app and no database.

Each case names a channel, a language and the world (``context``), then its inputs, each with
what the engine did: the texts said (as content keys, so a change of wording breaks nothing),
events, and the action, search, key count, node and language when they matter. Adding a case
is writing its inputs and running ``UPDATE_CASES=1 pytest tests/test_engine_cases.py``, which
rewrites the expected parts from what the engine does now; read the diff before committing it.
"""
from __future__ import annotations

import itertools
import os
import re
import string
from pathlib import Path

import pytest
import yaml

from helpline import texts
from helpline.content import Content
from helpline.engine import Engine, Input
from helpline.flows import load as load_flow

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "flow" / "cases"
UPDATE = os.environ.get("UPDATE_CASES") == "1"
INPUT_KINDS = ("text", "digits", "speech", "silence", "start", "done", "failed")
CASE_FIELDS = {"name", "channel", "lang", "context", "keyword_replies", "state", "inputs"}
GIVEN_FIELDS = set(INPUT_KINDS) | {"context"}
EXPECTED_FIELDS = ("say", "events", "action", "search", "keys", "listen", "at", "lang", "opted_out")
_LANG_MARK = re.compile(r"\x00(\w+)\x00")


class ContentKeys(Content):
    """The real content, rendered as it would be (so a broken text still fails), but said as
    its key and the values it uses: ``prompt.series_more(n=1, total=6)``; a menu option as
    its number and label (``1. option.facts``); a text in another language than the turn's
    marked with it: ``language.offer(digit=8) [es]``."""

    def __init__(self, content: Content, option: str):
        super().__init__(content.languages, content.default)
        self.option = option

    def text(self, lang: str, key: str, channel: str = "sms", **values) -> str:
        super().text(lang, key, channel, **values)
        if key == self.option:
            return f"{values['digit']}. {values['label']}"
        template = self.languages[lang].entries[key].for_channel(channel)
        used = sorted({f for _, f, _, _ in string.Formatter().parse(template) if f in values})
        shown = f"({', '.join(f'{name}={values[name]}' for name in used)})" if used else ""
        return f"{key}{shown}\x00{lang}\x00"


def _engines() -> dict[bool, Engine]:
    """Built as helpline/__init__.py builds it, for both SMS_KEYWORD_REPLIES settings."""
    content = Content.load(ROOT / "content", "en")
    texts.require(content)
    flow = load_flow(ROOT / "flows", content)
    keyed = ContentKeys(content, flow.texts["option"])
    return {replies: Engine(flow, keyed, keyword_replies=replies) for replies in (True, False)}


ENGINES = _engines()


def _load(path: Path) -> list[dict]:
    """A file's cases, every one checked before any is run (or rewritten)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    assert isinstance(cases, list), f"{path.name}: a list of cases"
    names = [case.get("name") for case in cases]
    assert len(set(names)) == len(names), f"{path.name}: two cases with one name"
    for case in cases:
        unknown = set(case) - CASE_FIELDS
        assert not unknown, f"{path.name}: {case.get('name')}: unknown field(s) {sorted(unknown)}"
        for step in case["inputs"]:
            _input(step)
    return cases


def _input(step: dict) -> Input:
    unknown = set(step) - GIVEN_FIELDS - set(EXPECTED_FIELDS)
    assert not unknown, f"unknown field(s) {sorted(unknown)}"
    kinds = [k for k in INPUT_KINDS if k in step]
    assert len(kinds) == 1, f"one input per step, one of {INPUT_KINDS}: {step}"
    value = step[kinds[0]]
    assert value is None or isinstance(value, (str, int)) and not isinstance(value, bool), (
        f"{kinds[0]}: {value!r}: quote it (YAML reads YES and NO as booleans)")
    return Input(kinds[0], "" if value is None else str(value))


def _outcome(turn, case_lang: str) -> dict:
    """What the engine did, in the order a case file shows it; defaults left out."""
    def said(text: str) -> str:
        return _LANG_MARK.sub(lambda m: "" if m[1] == turn.lang else f" [{m[1]}]", text)

    shown = {"say": [said(s) for s in turn.say]}
    if turn.events:
        shown["events"] = list(turn.events)
    if turn.action:
        shown["action"] = turn.action
    if turn.search:
        shown["search"] = dict(turn.search)
    if turn.keys != 1:
        shown["keys"] = turn.keys
    if not turn.listen:
        shown["listen"] = False
    if turn.state["node"] is not None:
        shown["at"] = turn.state["node"]
    if turn.lang != case_lang:
        shown["lang"] = turn.lang
    if turn.state.get("opted_out"):
        shown["opted_out"] = True
    return shown


def run(case: dict) -> list[dict]:
    """Every step of a case: its inputs as written, then what the engine did."""
    channel, lang = case["channel"], case.get("lang", "en")
    engine = ENGINES[case.get("keyword_replies", True)]
    state = dict(engine.new_state(lang), **(case.get("state") or {}))
    steps = []
    for step in case["inputs"]:
        context = {**(case.get("context") or {}), **(step.get("context") or {})}
        turn = engine.handle(state, _input(step), channel, context)
        state = turn.state
        given = {k: v for k, v in step.items() if k in GIVEN_FIELDS}
        steps.append({**given, **_outcome(turn, lang)})
    return steps


def _all_cases() -> list:
    return [pytest.param(path, case["name"], id=f"{path.stem}: {case['name']}")
            for path in sorted(CASES.glob("*.yaml")) for case in _load(path)]


@pytest.mark.parametrize("path, name", _all_cases())
def test_case(path: Path, name: str):
    cases = _load(path)
    case = next(c for c in cases if c["name"] == name)
    steps = run(case)
    if UPDATE:
        case["inputs"] = steps
        _write(path, cases)
        return
    for i, (want, got) in enumerate(zip(case["inputs"], steps, strict=True), start=1):
        given = ", ".join(f"{k}: {want[k]!r}" for k in (*INPUT_KINDS, "context") if k in want)
        assert got == want, f"step {i} ({given})"


def test_the_cases_cover_every_input_kind_node_and_channel():
    """The cases reach every node of the flow on some channel, and use every kind of input."""
    reached, kinds, channels = set(), set(), set()
    for path in sorted(CASES.glob("*.yaml")):
        for case in _load(path):
            channels.add(case["channel"])
            for step in case["inputs"]:
                kinds.update(k for k in INPUT_KINDS if k in step)
                reached.add(step.get("at"))
    assert channels == {"sms", "voice"}
    assert kinds == set(INPUT_KINDS)
    assert set(ENGINES[True].flow.nodes) - reached == set()


# -- writing a case file back (UPDATE_CASES=1) -----------------------------------------------------

class _Dumper(yaml.SafeDumper):
    """Readable case files: a bare key for an input without a value (``- silence:``), short
    lists and mappings on one line, a text of several lines as a block, a context written out
    in each case (no YAML aliases)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _on_one_line(items) -> bool:
    return all(isinstance(i, (str, int, bool)) and "\n" not in str(i) for i in items) and (
        sum(len(str(i)) + 2 for i in items) < 90)


_Dumper.add_representer(type(None), lambda d, _: d.represent_scalar("tag:yaml.org,2002:null", ""))
_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))
_Dumper.add_representer(list, lambda d, items: d.represent_sequence(
    "tag:yaml.org,2002:seq", items, flow_style=_on_one_line(items)))
_Dumper.add_representer(dict, lambda d, mapping: d.represent_mapping(
    "tag:yaml.org,2002:map", mapping, flow_style=_on_one_line(
        [*mapping, *mapping.values()])))


def _write(path: Path, cases: list[dict]) -> None:
    """The file's opening comment kept, the cases written anew."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = "".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    body = yaml.dump(cases, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    body = re.sub(r"^- name:", "\n- name:", body, flags=re.M).lstrip("\n")
    path.write_text(f"{header}\n{body}" if header else body, encoding="utf-8")
