"""Checks the crisis word lists for content editors, so that nobody in crisis misses the crisis answer.

Errors: a crisis word list a flow uses, missing or empty in a language (a ``crisis.yaml``
that cannot be compiled, with an unknown field, a phrase with no letters, a bare ``no`` that
YAML reads as false or a misplaced ``*``, is reported as it loads). Warnings: a crisis word
list no flow uses (and, as it loads, a group no line uses).
"""
from __future__ import annotations

from ..content import Language
from ..flows import Flow
from .loading import ERROR, MAIN_FLOW, WARNING, Project


def crisis_lists(lang: Language) -> list[str]:
    """The word lists of the language's ``crisis.yaml``, when it compiled and none of them is
    also in ``words.yaml``; else none."""
    names = list(lang.crisis.hints)
    return names if all(lang.word_files.get(name) == "crisis.yaml" for name in names) else []


def check_crisis_words(project: Project, flows: list[Flow]) -> None:
    used = {kind.words for flow in flows for kind in flow.crisis}
    for code, lang in project.languages.items():
        for name in crisis_lists(lang):
            if flows and name not in used:
                project.add(WARNING, f"{project.content_label}/{code}/crisis.yaml", name,
                            "no flow uses these crisis words: name them in a 'crisis.kinds' "
                            f"entry of {project.flows_label}/{MAIN_FLOW}")
    for flow in flows:
        for kind in flow.crisis:
            for code, lang in project.languages.items():
                if not lang.words.get(kind.words):
                    missing = "missing" if kind.words not in lang.words else "empty"
                    file = lang.word_files.get(kind.words, "crisis.yaml")
                    project.add(ERROR, f"{project.content_label}/{code}/{file}", kind.words,
                                f"{missing}: the crisis words for '{kind.name}' in "
                                f"{project.lang_name(code)}; without them a texter or caller "
                                f"who uses them does not get the crisis answer first")
