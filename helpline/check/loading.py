"""Loads flows/ and content/ for content editors' check, so that a broken file is reported, not fatal.

The loaders are the app's own (:func:`helpline.content.load_language`,
:func:`helpline.flows.parse_file`) in their collect-errors mode (:class:`helpline.findings.Collect`):
every problem is a finding with its file, key and line, and loading carries on without what
was broken. What loaded, with every finding so far, is a :class:`Project` the rules read.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..content import Content, Language, load_language
from ..findings import ERROR, WARNING, Collect, Finding
from ..flows import Flow, parse_file

INFO, ALLOWED = "info", "allowed"
LEVELS = (INFO, ALLOWED, WARNING, ERROR)
MAIN_FLOW = "main.yaml"


@dataclass
class Project:
    """Everything that loaded, where it came from, and what could not be loaded."""

    content_label: str
    flows_label: str
    default: str
    languages: dict[str, Language] = field(default_factory=dict)
    content: Content | None = None
    flows: dict[str, Flow] = field(default_factory=dict)   # display file -> flow
    found: Collect = field(default_factory=Collect)   # the findings, and each file's key lines
    long_allowed: set[tuple[str, str]] = field(default_factory=set)   # long_sms that was needed

    @property
    def findings(self) -> list[Finding]:
        return self.found.findings

    @property
    def broken(self) -> set[tuple[str, str]]:
        """(language, key) of each entry that did not load."""
        return self.found.broken

    def add(self, level: str, file: str, key: str, message: str, path: str | None = None):
        self.found.add(level, file, key, message, path)

    def entry_file(self, code: str, key: str) -> str:
        return f"{self.content_label}/{code}/{self.languages[code].entries[key].file}"

    def lang_name(self, code: str) -> str:
        return f"{self.languages[code].name} ({code})"


def load(content_dir, flows_dir, default: str = "en") -> Project:
    content_dir, flows_dir = Path(content_dir), Path(flows_dir)
    project = Project(content_label=content_dir.name, flows_label=flows_dir.name, default=default)
    if not content_dir.is_dir():
        project.add(ERROR, project.content_label, "", f"no such folder: {content_dir}")
    else:
        for folder in sorted(p for p in content_dir.iterdir() if p.is_dir()):
            if not folder.name.startswith((".", "_")):
                project.languages[folder.name] = load_language(folder, project.found)
        if not project.languages:
            project.add(ERROR, project.content_label, "", "no language folders (such as en/)")
    if project.languages:
        if default not in project.languages:
            project.add(ERROR, project.content_label, default,
                        f"the default language '{default}' (HELPLINE_DEFAULT_LANGUAGE) has no "
                        f"folder; there are: {', '.join(project.languages)}")
            default = next(iter(project.languages))
        project.content = Content(project.languages, default)

    flow_files = sorted(flows_dir.glob("*.yaml")) if flows_dir.is_dir() else []
    if not (flows_dir / MAIN_FLOW).exists():
        project.add(ERROR, f"{project.flows_label}/{MAIN_FLOW}", "",
                    "missing: the helpline reads its menus from this file")
    for path in flow_files:
        label = f"{project.flows_label}/{path.name}"
        if path.name != MAIN_FLOW:
            project.add(WARNING, label, "", f"not used: the helpline reads only {MAIN_FLOW}")
        flow = parse_file(path, project.found, label)
        if flow is not None:
            project.flows[label] = flow
    return project


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean 'facts'?)`` when a name is close to one that exists."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
