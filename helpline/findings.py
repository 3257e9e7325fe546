"""What the content and flow loaders do with a problem: the app stops at the first, editors see all.

The app loads with :data:`STRICT`: the first problem is raised as the loader words it for the
log (a ``ContentError`` or ``FlowError`` naming the file and key), and a bad file stops the
helpline before it serves anyone. ``flask --app helpline check`` loads with a :class:`Collect`:
every problem becomes a :class:`Finding` with its file, key and line, worded for the editor
who fixes it, and loading carries on without what was broken. Each loader call names both
wordings, so the two modes can never drift apart on what counts as a problem.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import yaml

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: how serious (error, warning, info, allowed), where, and what to do."""

    level: str
    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{self.level}: {where}:{key} {self.message}"


class Strict:
    """The app's mode: files are read fast (libyaml), the first problem is raised, warnings
    are dropped."""

    def read(self, path: Path, label: str, fast: Callable[[Path], dict]) -> dict:
        return fast(path)

    def error(self, exc: Exception, file: str, key: str, message: str,
              broken: tuple[str, str] | None = None) -> NoReturn:
        raise exc from None

    def warning(self, file: str, key: str, message: str) -> None:
        pass


STRICT = Strict()


@dataclass
class Collect:
    """The checker's mode: every problem kept as a finding, each file's key lines noted."""

    findings: list[Finding] = field(default_factory=list)
    lines: dict[str, dict[str, int]] = field(default_factory=dict)   # file -> key path -> line
    broken: set[tuple[str, str]] = field(default_factory=set)   # (language, key) that did not load

    def add(self, level: str, file: str, key: str, message: str, path: str | None = None,
            line: int | None = None) -> None:
        """A finding, on the line of ``path`` (a key path such as ``nodes.main.options[1]``;
        ``key`` itself when not given) unless ``line`` says where."""
        if line is None:
            line = self.lines.get(file, {}).get(path if path is not None else key)
        self.findings.append(Finding(level, file, key, message, line))

    def error(self, exc: Exception, file: str, key: str, message: str,
              broken: tuple[str, str] | None = None) -> None:
        """``exc`` is what the app would raise; an editor reads ``message`` instead. ``broken``:
        the (language, key) of an entry left out, so that it is not reported again as missing."""
        self.add(ERROR, file, key, message)
        if broken:
            self.broken.add(broken)

    def warning(self, file: str, key: str, message: str) -> None:
        self.add(WARNING, file, key, message)

    def read(self, path: Path, label: str, fast=None) -> dict | None:
        """The file's data (None when it cannot be read), noting each key's line and any key
        written twice in one mapping (YAML would silently keep only the last)."""
        try:
            text = path.read_text(encoding="utf-8")
            tree = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except UnicodeDecodeError:
            self.add(ERROR, label, "", "not UTF-8 text: save the file as UTF-8")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            self.findings.append(Finding(
                ERROR, label, "", f"not valid YAML ({problem}): check the quotes, colons and "
                "indentation; put a text with a colon in it inside double quotes",
                mark.line + 1 if mark else None))
            return None
        lines: dict[str, int] = {}
        self._walk(label, tree, "", lines)
        self.lines[label] = lines
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.add(ERROR, label, "", "must be a list of 'key: value' lines")
            return None
        return data

    def _walk(self, label: str, node, path: str, lines: dict[str, int]) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value in node.value:
                name = str(key_node.value)
                sub = f"{path}.{name}" if path else name
                line = key_node.start_mark.line + 1
                if name in seen:
                    self.add(ERROR, label, sub, f"written twice (first on line {seen[name]}); only "
                             "the last one would be used: delete or rename one", line=line)
                else:
                    seen[name] = line
                    lines.setdefault(sub, line)
                self._walk(label, value, sub, lines)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value, start=1):
                sub = f"{path}[{i}]"
                lines.setdefault(sub, value.start_mark.line + 1)
                self._walk(label, value, sub, lines)
