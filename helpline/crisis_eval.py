"""How well crisis texts are recognised: the labelled corpus in ``tests/crisis_corpus/``
run through the engine exactly as a first text, per language and part.

A file ``<lang>.<part>.yaml`` maps a label to texts. ``overdose`` and ``suicide`` are
crises and must get that crisis answer (recall); ``idiom``, ``info`` and ``none`` are not,
and any crisis answer to them counts as a false positive (informational questions may get
the crisis line first, so ``info`` has no target, but they must get their own answer after
it: ``answered`` counts those that do). The ``heldout`` part is never tuned on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .engine import SMS, Engine, Input

CRISES = ("overdose", "suicide")
NOT_CRISES = ("idiom", "info", "none")
RECALL_TARGET = 0.95
IDIOM_TARGET = 0.10
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "crisis_corpus"
TUNING_PART = "tune"   # the second reader (helpline.crisis_model) learns from this part only
KINDS = {f"crisis.{label}": label for label in CRISES}   # a word list's name -> its label
OTHER_LANGUAGE = "other language"


@dataclass
class Result:
    lang: str
    part: str
    counts: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    answered: int = 0   # info texts given the crisis line and then their own answer

    def rate(self, label: str) -> float:
        return self.hits.get(label, 0) / self.counts[label] if self.counts.get(label) else 0.0

    @property
    def crises(self) -> int:
        return sum(self.counts.get(k, 0) for k in CRISES)

    @property
    def recall(self) -> float:
        return sum(self.hits.get(k, 0) for k in CRISES) / self.crises if self.crises else 0.0

    @property
    def meets_targets(self) -> bool:
        """Recall where the part has crisis texts; idioms and everyday texts in any case."""
        return ((not self.crises or self.recall >= RECALL_TARGET)
                and self.rate("idiom") <= IDIOM_TARGET and self.rate("none") <= IDIOM_TARGET)


def recognised(engine: Engine, text: str) -> set[str]:
    """The crisis kinds a first text gets an answer for."""
    return answered(engine, text)[0]


def answered(engine: Engine, text: str) -> tuple[set[str], bool]:
    """The crisis kinds a first text gets an answer for, and whether it also got the answer
    to a question about them ("what is an overdose")."""
    turn = engine.handle(engine.new_state(), Input("text", text), SMS, {"open": True})
    kinds = {e.split(":", 1)[1] for e in turn.events if e.startswith("crisis:")}
    answers = {engine.content.text(turn.lang, k.answer, SMS)
               for k in engine.flow.crisis if k.answer and k.name in kinds}
    return kinds, bool(answers) and answers <= set(turn.say)


def evaluate(engine: Engine, corpus: Path) -> list[Result]:
    results = []
    for path in sorted(Path(corpus).glob("*.yaml")):
        lang, _, part = path.stem.partition(".")
        result = Result(lang, part)
        for label, texts in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if label not in CRISES + NOT_CRISES:
                raise ValueError(f"{path.name}: unknown label '{label}'")
            result.counts[label] = len(texts)
            for text in texts:
                kinds, got_answer = answered(engine, str(text))
                hit = label in kinds if label in CRISES else bool(kinds)
                result.answered += label == "info" and got_answer
                result.hits[label] = result.hits.get(label, 0) + hit
                if hit != (label in CRISES):
                    result.misses.append((label, ",".join(sorted(kinds)) or "-", str(text)))
        results.append(result)
    return results


def training_sets(corpus: Path) -> dict[str, list[tuple[str, str]]]:
    """Each language's tuning texts as (text, label), and every other language's tuning texts
    labelled ``other language``: a language's second reader then answers for crises written
    in its own language only, so a crisis is answered in the language it was written in, and
    an everyday text in one language is never read by another language's reader as a crisis.
    Nothing of the held-out parts, not even a text the tuning part repeats: they still
    measure what the second reader has never seen."""
    parts, held_out = {}, set()
    for path in sorted(Path(corpus).glob("*.yaml")):
        lang, _, part = path.stem.partition(".")
        texts = [(str(text), label) for label, texts in
                 (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items() for text in texts]
        if part == TUNING_PART:
            parts[lang] = texts
        else:
            held_out.update(text for text, _ in texts)
    parts = {lang: [(t, label) for t, label in texts if t not in held_out] for lang, texts in parts.items()}
    return {lang: own + [(text, OTHER_LANGUAGE) for other, texts in parts.items() if other != lang
                         for text, _ in texts]
            for lang, own in parts.items()}


def report(results: list[Result]) -> list[str]:
    lines, width = [], max((len(r.part) for r in results), default=0) + 1
    for r in results:
        recall = (f"recall {r.recall:.2f} (overdose {r.rate('overdose'):.2f} of "
                  f"{r.counts.get('overdose', 0)}, suicide {r.rate('suicide'):.2f} of "
                  f"{r.counts.get('suicide', 0)})" if r.crises else "no crisis texts")
        lines.append(
            f"{r.lang} {r.part:{width}} {recall}  false positives: idiom {r.rate('idiom'):.2f} of "
            f"{r.counts.get('idiom', 0)}, none {r.rate('none'):.2f} of {r.counts.get('none', 0)}"
            f", info {r.rate('info'):.2f} of {r.counts.get('info', 0)}"
            f" (then answered {r.answered} of {r.hits.get('info', 0)})"
            f"  {'meets targets' if r.meets_targets else 'BELOW TARGET'}")
    for r in results:
        for label, got, text in r.misses:
            lines.append(f"  miss {r.lang} {r.part} [{label} -> {got}] {text}")
    return lines
