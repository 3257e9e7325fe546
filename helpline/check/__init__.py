"""Checks ``flows/`` and ``content/`` for content editors, before anything reaches a texter or a caller.

``flask --app helpline check`` calls :func:`run`, which loads every flow and every language
with the app's own loaders in their collect-errors mode (so a broken file is reported, not
fatal; :mod:`.loading`) and returns :class:`Finding` objects: a level, the file, the key
inside it, a message and the line. No Flask here. Editors read about each rule, with
examples, in ``content/README.md``; each module here lists the rules it checks:

- :mod:`.loading`, as the files load: a file that is not valid YAML or not UTF-8, a key
  written twice in a file, an entry or a flow with an unknown field or a wrong value, a
  language without ``name`` or ``locale``, a word list that is not a list, a source without
  a ``name``, a ``crisis.yaml`` that cannot be compiled (an unknown field, a phrase with no
  letters, a bare ``no`` that YAML reads as false, a misplaced ``*``), no ``main.yaml``
  (errors); a file that is not read, a crisis word group no line uses (warnings);
- :mod:`.flow_rules`: references, reachability, a way home and a way to a person;
- :mod:`.text_rules`: translations, declared texts, placeholders, sources and the fact rule;
- :mod:`.crisis_rules`: the crisis word lists, in every language and used by a flow;
- :mod:`.sms_rules`: what a texter receives, entry by entry and as the engine composes it;
- :mod:`.voice_rules`: what a caller hears, its wording and its length.

Errors make the command exit non-zero; warnings do not; info is shown with ``--verbose``;
``allowed`` (a long SMS with a reason) is listed in the summary. When nothing else is an
error, the app's own loaders have the last word: what they refuse is an error too.
"""
from __future__ import annotations

from pathlib import Path

from .. import texts as code_texts
from ..content import Content, ContentError
from ..engine import SMS, VOICE
from ..findings import Finding
from ..flows import FlowError
from ..flows import load as load_main_flow
from .crisis_rules import check_crisis_words
from .flow_rules import check_flow, used_texts
from .loading import ALLOWED, ERROR, INFO, LEVELS, WARNING, Project, load
from .sms_rules import (
    check_place_lists,
    check_sms_entries,
    check_sms_replies,
    check_unneeded_allowances,
    segment_summary,
)
from .text_rules import FACT_PREFIXES, check_code_texts, check_entries, check_languages_match, check_placeholders_match
from .voice_rules import check_front_end, check_voice_entries, check_voice_options, seconds_until, spoken_seconds

__all__ = ["ALLOWED", "ERROR", "FACT_PREFIXES", "INFO", "LEVELS", "WARNING", "Finding", "load_main_flow",
           "ordered", "run", "seconds_until", "segment_summary", "spoken_seconds", "summary"]


def run(content_dir, flows_dir, default: str = "en") -> list[Finding]:
    """Every finding for these folders, in a stable order; errors mean: do not ship."""
    project = load(content_dir, flows_dir, default)
    flows = list(project.flows.values())
    sound = {file: check_flow(project, file, flow) for file, flow in project.flows.items()}
    check_crisis_words(project, flows)
    check_languages_match(project, {k.words for f in flows for k in f.crisis})
    check_code_texts(project)
    check_entries(project, flows)
    check_placeholders_match(project)
    sms_used = set().union(*(used_texts(f, SMS) for f in flows)) if flows else set()
    voice_used = set().union(*(used_texts(f, VOICE) for f in flows)) if flows else None
    sms_used |= code_texts.read_on(SMS)
    if voice_used is not None:
        voice_used |= code_texts.read_on(VOICE)
    if project.content is not None:
        check_sms_entries(project, (voice_used or set()) - sms_used)
    check_voice_entries(project, voice_used)
    if project.content is not None:
        check_voice_options(project, flows)
    for file, flow in project.flows.items():
        if not sound[file] or project.content is None:
            continue
        keys = {k for k, _ in flow.text_references()}
        complete = [c for c, lang in project.languages.items()
                    if keys <= set(lang.entries)
                    and all(n in lang.words for n, _ in flow.word_references() if n)]
        check_sms_replies(project, file, flow, complete)
        check_front_end(project, file, flow, complete)
        check_place_lists(project, file, flow, complete)
    if project.content is not None and all(sound.values()):
        check_unneeded_allowances(project)
    if not any(f.level == ERROR for f in project.findings):
        _check_as_the_app_loads(project, content_dir, flows_dir, default)
    return ordered(project.findings)


def _check_as_the_app_loads(project: Project, content_dir, flows_dir, default: str) -> None:
    """The app's own loaders are the last word: what they refuse is an error here too."""
    try:
        content = Content.load(Path(content_dir), default)
        code_texts.require(content)
        load_main_flow(Path(flows_dir), content)
    except (ContentError, FlowError) as exc:
        file, key, message = (str(exc).split(": ", 2) + ["", ""])[:3]
        if not file.endswith(".yaml") or not message:
            file, key, message = "", "", str(exc)
        project.add(ERROR, file, key, f"the helpline would not start: {message}")


def ordered(findings: list[Finding]) -> list[Finding]:
    """Info first, then warnings, then errors, so errors are last on the screen."""
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (LEVELS.index(f.level), f.file, f.line or 0, f.key))


def summary(findings: list[Finding]) -> str:
    """The counts, last, after every text allowed to be long and why."""
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    allowed = [str(f) for f in findings if f.level == ALLOWED]
    verdict = "fix the errors before this reaches anyone" if errors else "no errors"
    return "\n".join(allowed + [f"{errors} error{'s' if errors != 1 else ''}, {warnings} "
                                f"warning{'s' if warnings != 1 else ''}: {verdict}"])
