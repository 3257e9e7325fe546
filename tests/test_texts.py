"""The texts only the Python code names (helpline/texts.py): declared, checked, required."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpline import create_app, texts
from helpline.content import Content, ContentError

from .conftest import flask_cli, settings
from .content_copy import ROOT, only

PACKAGE = ROOT / "helpline"
# The calls that look a text up by key, and the helpers that pass a key on to one.
LOOKUPS = {"text", "staff_text", "_say", "_said", "_hangup", "_menu", "to_on_duty", "_ask_again"}
WORD_LOOKUPS = {"words", "phrases"}
KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")


def delete_entry(path: Path, key: str) -> None:
    """Remove ``key:`` and its indented lines."""
    text = path.read_text(encoding="utf-8")
    shorter = re.sub(rf"(?m)^{re.escape(key)}:.*\n(?:[ \t]+.*\n)*", "", text)
    assert shorter != text, f"{key} is not in {path}"
    path.write_text(shorter, encoding="utf-8")


# -- the shipped content ---------------------------------------------------------------------------

def test_the_shipped_content_has_every_declared_text():
    content = Content.load(ROOT / "content")
    assert texts.problems(content.languages) == []
    assert len(texts.DECLARED) == sum(len(g.keys) for g in texts.GROUPS)   # each key in one group


# -- a text missing, or empty ----------------------------------------------------------------------

def test_check_reports_each_missing_text_in_each_language(copy):
    """Without the declared texts, `check` said 0 errors here, and the first texter asking
    for a person (rep.sms.new), or the first caller put in line (queue.position), got a 500."""
    for code in ("en", "es"):
        delete_entry(copy.content / code / "representatives.yaml", "rep.sms.new")
        delete_entry(copy.content / code / "safety.yaml", "queue.position")
    errors = copy.findings("error")
    assert len(errors) == 4, "\n".join(map(str, errors))
    for code in ("en", "es"):
        new = only(errors, f"content/{code}/representatives.yaml", "rep.sms.new")
        assert "missing: the helpline's code reads it (representatives, by SMS)" in new.message
        queue = only(errors, f"content/{code}/safety.yaml", "queue.position")
        assert "(callers)" in queue.message


def test_a_text_missing_in_one_language_is_named_in_the_file_the_other_keeps_it_in(copy):
    delete_entry(copy.content / "es" / "later.yaml", "checkin.offer")
    errors = copy.findings("error")
    declared = only(errors, "content/es/later.yaml", "checkin.offer",
                    "the helpline's code reads it")
    assert "texters, later" in declared.message


def test_check_reports_a_text_empty_on_the_channel_the_code_reads_it_on(copy):
    copy.set_entry("content/es/safety.yaml", "rate.limited", "", sources=None)
    found = only(copy.findings("error"), "content/es/safety.yaml", "rate.limited")
    assert "empty for sms" in found.message


def test_the_check_command_exits_non_zero(tmp_path, copy):
    delete_entry(copy.content / "en" / "representatives.yaml", "rep.sms.new")
    delete_entry(copy.content / "es" / "representatives.yaml", "rep.sms.new")
    group = flask_cli(tmp_path, CONTENT_DIR=str(copy.content), FLOWS_DIR=str(copy.flows))
    result = CliRunner().invoke(group, ["check"])
    assert result.exit_code == 1, result.output
    assert "error: content/en/representatives.yaml: rep.sms.new: missing" in result.output
    assert "error: content/es/representatives.yaml: rep.sms.new: missing" in result.output


def test_the_app_refuses_to_start_without_a_declared_text(tmp_path, copy):
    delete_entry(copy.content / "es" / "representatives.yaml", "rep.sms.new")
    with pytest.raises(ContentError, match=r"^content/es/representatives\.yaml: rep\.sms\.new: "
                                           r"missing: the helpline's code reads it"):
        create_app(settings(tmp_path, CONTENT_DIR=str(copy.content)))
    delete_entry(copy.content / "en" / "safety.yaml", "queue.position")
    with pytest.raises(ContentError, match=r"^content/en/safety\.yaml: queue\.position: missing"
                                           r".*\(and 1 more: run `flask --app helpline check`\)"):
        create_app(settings(tmp_path, CONTENT_DIR=str(copy.content)))


# -- every key the code names is declared ----------------------------------------------------------

def _strings(node: ast.AST, assigned: dict[str, list[ast.AST]],
             seen: frozenset[str] = frozenset()) -> list[str | re.Pattern]:
    """The keys an argument can be: literals, either branch of ``a if c else b``, the values a
    local name is given, and an f-string as a pattern."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, assigned, seen) + _strings(node.orelse, assigned, seen)
    if isinstance(node, ast.BoolOp):
        return [s for value in node.values for s in _strings(value, assigned, seen)]
    if isinstance(node, ast.Name) and node.id not in seen:
        return [s for value in assigned.get(node.id, [])
                for s in _strings(value, assigned, seen | {node.id})]
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"[a-z0-9_]+"
                 for v in node.values]
        return [re.compile("".join(parts))]
    return []


def keys_in_lookups(package: Path = PACKAGE,
                    lookups: set[str] = LOOKUPS) -> dict[str | re.Pattern, list[str]]:
    """Each key (or f-string pattern) passed to a look-up in helpline/, with where."""
    found: dict[str | re.Pattern, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            assigned: dict[str, list[ast.AST]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "attr", getattr(call.func, "id", None))
                if name not in lookups:
                    continue
                for arg in call.args:
                    for key in _strings(arg, assigned):
                        if isinstance(key, re.Pattern) or (KEY.fullmatch(key)
                                                           and key not in texts.BOTH):
                            where = f"{path.relative_to(package.parent)}:{call.lineno}"
                            found.setdefault(key, []).append(where)
    return found


def returned_keys(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Every literal a function in helpline/ returns that is shaped like a key of a declared
    family (``rep.sms.x``, ``search.x``): a helper's answer such as ``"search.zip_unknown"``
    becomes a look-up's key elsewhere."""
    families = tuple({key.rsplit(".", 1)[0] + "." for key in texts.DECLARED if "." in key})
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for ret in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(ret, ast.Return) or ret.value is None:
                continue
            answers = ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]
            for key in (s for answer in answers for s in _strings(answer, {})):
                if isinstance(key, str) and key.startswith(families) and KEY.fullmatch(key):
                    where = f"{path.relative_to(package.parent)}:{ret.lineno}"
                    found.setdefault(key, []).append(where)
    return found


def test_every_key_the_code_looks_up_is_declared():
    """A key added to the code without declaring it in helpline/texts.py fails here."""
    undeclared, declared = [], set(texts.DECLARED)
    for key, where in keys_in_lookups().items():
        if isinstance(key, re.Pattern):
            if not any(key.fullmatch(d) for d in declared):
                undeclared.append(f"{key.pattern} (built at {', '.join(where)})")
        elif key not in declared:
            undeclared.append(f"{key} ({', '.join(where)})")
    for key, where in returned_keys().items():
        if key not in declared:
            undeclared.append(f"{key} ({', '.join(where)})")
    assert undeclared == [], "declare these in helpline/texts.py:\n" + "\n".join(undeclared)


def test_every_word_list_the_code_reads_is_declared():
    from helpline.flows import ENGINE_WORDS  # the flow loader requires these
    found = keys_in_lookups(lookups=WORD_LOOKUPS)
    literals = {k for k in found if isinstance(k, str)}
    assert literals - set(ENGINE_WORDS) == set(texts.WORD_LISTS), found


def test_every_declared_key_is_one_the_code_looks_up():
    """No stale declarations, and the scan above sees every kind of look-up the code makes."""
    found = keys_in_lookups()
    patterns = [k for k in found if isinstance(k, re.Pattern)]
    literals = set(found) | set(returned_keys())
    unused = [key for key in texts.DECLARED
              if key not in literals and not any(p.fullmatch(key) for p in patterns)]
    assert unused == []


def test_the_scan_finds_a_key_the_code_would_look_up(tmp_path):
    """The scan is not blind: a new look-up of an undeclared key is found."""
    (tmp_path / "helpline").mkdir()
    (tmp_path / "helpline" / "new.py").write_text(
        "def reply(helpline, chat, late):\n"
        "    key = 'chat.too_late' if late else 'chat.ended'\n"
        "    return [helpline.content.text(chat.lang, key, 'sms'),\n"
        "            helpline.staff_text('rep.sms.brand_new'),\n"
        "            helpline.content.text(chat.lang, f'chat.mood.{late}')]\n"
        "\n"
        "def problem(zip_code):\n"
        "    return ('search.zip_closed' if zip_code else None), None\n")
    found = keys_in_lookups(tmp_path / "helpline")
    assert {"chat.too_late", "chat.ended", "rep.sms.brand_new"} <= set(found)
    assert "sms" not in found   # a channel, not a key
    assert any(isinstance(k, re.Pattern) and k.pattern == r"chat\.mood\.[a-z0-9_]+" for k in found)
    assert set(returned_keys(tmp_path / "helpline")) == {"search.zip_closed"}


def test_a_word_list_the_code_reads_missing_is_reported_and_refused(tmp_path, copy):
    """Without it a waiting texter's CALLBACK went unrecognised, and nothing said why."""
    for code in ("en", "es"):
        delete_entry(copy.content / code / "words.yaml", "callback")
    errors = copy.findings("error")
    for code in ("en", "es"):
        found = only(errors, f"content/{code}/words.yaml", "callback")
        assert "the helpline's code reads this word list (texters waiting" in found.message
    with pytest.raises(ContentError, match=r"^content/en/words\.yaml: callback: missing or empty"):
        create_app(settings(tmp_path, CONTENT_DIR=str(copy.content)))


def test_a_word_list_read_by_position_must_have_all_its_words(copy):
    """"oh" added for zero would make every later word a digit too high."""
    copy.replace("content/en/words.yaml", "digits: [zero, one,", "digits: [zero, oh, one,")
    found = only(copy.findings("error"), "content/en/words.yaml", "digits")
    assert "has 11 words: the code reads them by position" in found.message and "exactly 10" in found.message


# -- the channels the code reads a text on ---------------------------------------------------------

def test_a_text_the_code_only_speaks_is_checked_as_heard_not_as_sms(copy):
    """rep.call.goodbye is in no flow: it is checked as a caller hears it because
    helpline/texts.py says the code speaks it, and never counted in SMS segments."""
    copy.set_entry("content/en/representatives.yaml", "rep.call.goodbye",
                   "Goodbye & thank you. " + "Thank you for your time today. " * 30, sources=None)
    found = [f for f in copy.findings() if f.key == "rep.call.goodbye"
             and f.file == "content/en/representatives.yaml"]
    assert any("a caller hears this ('text'): the symbol &" in f.message for f in found), found
    assert any("seconds spoken" in f.message for f in found), found
    assert not any("SMS" in f.message for f in found), found
