"""content/ and flows/ copied to a temporary folder for tests that break them on purpose."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpline import check

ROOT = Path(__file__).resolve().parent.parent


def only(findings, file=None, key=None, contains=None):
    """The one finding that matches; fails with everything found when there isn't one."""
    hits = [f for f in findings
            if (file is None or f.file == file) and (key is None or f.key == key)
            and (contains is None or contains in f.message)]
    assert len(hits) == 1, "\n".join(map(str, findings))
    return hits[0]


class Copy:
    """content/ and flows/ copied into a temporary folder, to be broken on purpose."""

    def __init__(self, tmp_path: Path):
        self.content = tmp_path / "content"
        self.flows = tmp_path / "flows"
        shutil.copytree(ROOT / "content", self.content, ignore=shutil.ignore_patterns("*.md"))
        shutil.copytree(ROOT / "flows", self.flows)

    def file(self, rel: str) -> Path:
        return self.content.parent / rel

    def replace(self, rel: str, old: str, new: str) -> None:
        path = self.file(rel)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def set_entry(self, rel: str, key: str, text: str, voice: str | None = None,
                  sources: str | None = "[samhsa]") -> None:
        """Replace an entry (key, text, voice, sources lines) with a new one."""
        path = self.file(rel)
        lines = path.read_text(encoding="utf-8").splitlines()
        start = lines.index(f"{key}:") if f"{key}:" in lines else next(
            i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        end = start + 1
        while end < len(lines) and lines[end].startswith("  "):
            end += 1
        block = [f"{key}:", f"  text: {json.dumps(text, ensure_ascii=False)}"]
        if voice:
            block.append(f"  voice: {json.dumps(voice, ensure_ascii=False)}")
        if sources:
            block.append(f"  sources: {sources}")
        lines[start:end] = block
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def findings(self, level: str | None = None) -> list[check.Finding]:
        found = check.run(self.content, self.flows, "en")
        return [f for f in found if level is None or f.level == level]
