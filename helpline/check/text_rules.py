"""Checks every entry of every language for content editors: translations, sources, placeholders.

Errors: a language missing a text, word list or source that another language has; a text or
word list the Python code names (declared in ``helpline/texts.py``) missing in a language, or
empty (a text: on a channel the code reads it on); a broken placeholder (a ``{`` or ``}`` on
its own); a reference to a source that does not exist; a fact without a source (the fact rule
below).

Warnings: a text giving a long number with no source; a fact no flow uses; a source without
a ``url``; a translation whose ``{placeholders}`` differ from the default language's, or one
named ``{channel}``, ``{lang}`` or ``{key}``, which the code cannot fill in.

The fact rule: an entry states a fact, and must name its ``sources``, when its key starts
with ``facts.``, ``forms.``, ``treatment.``, ``safety.`` or ``families.``; when it is in
``facts.yaml``; or when it is a crisis answer (``crisis.kinds.*.text`` in the flow). Any
other entry whose ``text`` gives a number of three or more digits other than 911 and 988 (a
phone number, a statistic, a year) without naming a source gets a warning. Menus and prompts
such as ``crisis.offer`` are not facts.
"""
from __future__ import annotations

import re
import string

from .. import texts as code_texts
from ..flows import Flow
from .loading import ERROR, MAIN_FLOW, WARNING, Project, did_you_mean

FACT_PREFIXES = ("facts.", "forms.", "treatment.", "safety.", "families.")
FACT_FILES = {"facts.yaml"}
WELL_KNOWN_NUMBERS = {"911", "988"}
NUMBER = re.compile(r"\d(?:[\d,.\-]*\d)?")
LONG_DIGITS = re.compile(r"\d{3,}")
# Content.text(lang, key, channel, **values) can never be given a value with these names.
RESERVED = {"lang", "key", "channel", "self", "values"}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def check_languages_match(project: Project, crisis_words: set[str]) -> None:
    """Every language has every text, word list and source another language has."""
    langs = project.languages
    kinds = [("entries", None), ("words", "words.yaml"), ("sources", "sources.yaml")]
    for attr, fixed_file in kinds:
        union: dict[str, str] = {}
        for code, lang in langs.items():
            for key in getattr(lang, attr):
                union.setdefault(key, code)
        for key, owner in union.items():
            if attr == "words" and key in crisis_words:
                continue   # reported by check_crisis_words, with what it means
            for code, lang in langs.items():
                if key in getattr(lang, attr) or (code, key) in project.broken:
                    continue
                if attr == "words":
                    file = langs[owner].word_files.get(key, fixed_file)
                else:
                    file = fixed_file or langs[owner].entries[key].file
                project.add(ERROR, f"{project.content_label}/{code}/{file}", key,
                            f"missing in {project.lang_name(code)}: "
                            f"{project.content_label}/{owner}/{file} has it; add a translation")


def check_code_texts(project: Project) -> None:
    """The texts only the code names: nothing else would notice one missing."""
    for code, key, file, message in code_texts.problems(project.languages):
        if (code, key) not in project.broken:
            project.add(ERROR, f"{project.content_label}/{code}/{file}", key, message)


def placeholders(text: str | None) -> set[str]:
    return {name[1:-1] for name in PLACEHOLDER.findall(text or "")}


def check_placeholders_match(project: Project) -> None:
    """A translation fills in the same ``{placeholders}`` as the default language."""
    default = project.content.default if project.content else None
    if default not in project.languages:
        return
    base = project.languages[default]
    for code, lang in project.languages.items():
        if code == default:
            continue
        for key, entry in lang.entries.items():
            other = base.entries.get(key)
            if other is None:
                continue
            for variant in ("text", "voice"):
                mine = placeholders(getattr(entry, variant) or entry.text)
                theirs = placeholders(getattr(other, variant) or other.text)
                if mine != theirs:
                    def shown(names):
                        return ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"
                    project.add(WARNING, project.entry_file(code, key), key,
                                f"'{variant}' fills in {shown(mine)}, but "
                                f"{project.entry_file(default, key)} fills in {shown(theirs)}: "
                                "a translation keeps the same placeholders")
                    break


def check_entries(project: Project, flows: list[Flow]) -> None:
    """Placeholders, sources and the fact rule, for every entry of every language."""
    crisis_texts = {k.text for flow in flows for k in flow.crisis}
    used = {key for flow in flows for key, _ in flow.text_references()}
    for code, lang in project.languages.items():
        for key, entry in lang.entries.items():
            file = project.entry_file(code, key)
            for variant, text in (("text", entry.text), ("voice", entry.voice)):
                if text:
                    _check_placeholders(project, file, key, variant, text)
            for src in entry.sources:
                if src not in lang.sources:
                    project.add(ERROR, file, key,
                                f"unknown source '{src}'{did_you_mean(src, lang.sources)}: "
                                f"sources are the keys of {project.content_label}/{code}/sources.yaml")
            known = ", ".join(lang.sources) or "none yet"
            add_sources = (f"add  sources: [...]  naming keys of "
                           f"{project.content_label}/{code}/sources.yaml ({known})")
            why = fact_reason(key, entry, crisis_texts)
            if why and not entry.sources:
                project.add(ERROR, file, key, f"a fact without a source ({why}): {add_sources}")
            number = long_number(entry.text)
            if not why and number and not entry.sources:
                project.add(WARNING, file, key, f"gives the number {number} but names no "
                            f"source; if it states a fact, {add_sources}")
            if flows and key.startswith(FACT_PREFIXES) and key not in used:
                project.add(WARNING, file, key,
                            "no flow uses this fact: add it to a node's 'pieces' in "
                            f"{project.flows_label}/{MAIN_FLOW}")
        for src, raw in lang.sources.items():
            if not raw.get("url"):
                project.add(WARNING, f"{project.content_label}/{code}/sources.yaml", src,
                            "no 'url': give the address where the facts can be read")


def fact_reason(key: str, entry, crisis_texts: set[str]) -> str | None:
    """Why an entry counts as a fact (see the module's docstring), or None."""
    if key.startswith(FACT_PREFIXES):
        return f"its key starts with {key.split('.')[0]}."
    if entry.file in FACT_FILES:
        return f"it is in {entry.file}"
    if key in crisis_texts:
        return "it answers a crisis"
    return None


def long_number(text: str) -> str | None:
    """The first number of three or more digits in ``text``, other than 911 and 988."""
    for number in NUMBER.findall(text):
        if any(run not in WELL_KNOWN_NUMBERS for run in LONG_DIGITS.findall(number)):
            return number
    return None


def _check_placeholders(project, file, key, variant, text) -> None:
    """A placeholder is filled in by the helpline (``{digit}``, ``{last4}``) or by the entry
    of that name (``{hours}``); only its spelling can be checked here."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        project.add(ERROR, file, key, f"'{variant}' has a broken {{placeholder}} ({exc}): "
                    "a { or } on its own is not allowed")
        return
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        project.add(ERROR, file, key, f"'{variant}' has {{{bad[0]}}}: a placeholder is one "
                    "word in braces, like {hours}")
    for name in sorted(set(names) & RESERVED):
        project.add(WARNING, file, key, f"'{variant}' has {{{name}}}, a name the helpline's "
                    "code cannot fill in (it is taken): it would read as nothing; ask for "
                    "another name")
