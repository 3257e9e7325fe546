"""Recognising a crisis however it is written: concepts, not sentences.

A language's ``crisis.yaml`` (see content/README.md) names word ``groups`` and, for each
crisis word list the flow uses (``crisis.overdose``, ``crisis.suicide``), lines that say
it: one part ("overdose") matches anywhere; several parts (``[someone, blue]``) match
when each appears within :data:`WINDOW` words of the others, in any order. A part is a
group name or a phrase; ``|`` separates alternatives; a word ending in ``*`` matches any
ending. ``ignore`` phrases (idioms such as "my back is killing me") are taken out of a text
before matching; ``not_typos`` are real words never read as a typo of a crisis word.

Texts and vocabulary are folded alike (:func:`fold`): NFKC, apostrophes dropped, accents
and punctuation folded, repeated letters collapsed ("wanna dieee" = "wana die"). A word
the vocabulary does not know, of :data:`FUZZY_MIN` letters or more, is read as the
vocabulary word one edit away (two from ten letters): "sucide", "overdoesd", "resira".
Everything is compiled once, when content loads; a text costs a few dictionary lookups
per word. Nothing of a text is kept (no cache): its words are health data. What no line
says, a second reader (:mod:`helpline.crisis_model`, set as :attr:`Vocabulary.reader`) may
still recognise; it can only add to what the lines found.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .textnorm import normalize

WINDOW = 6          # the parts of a line lie within this many words of each other
FUZZY_MIN = 6       # shorter words are too easily another real word
FUZZY_TWO = 10      # from this length, two edits are still a typo
MAX_PHRASE = 8
SPECIAL_KEYS = ("groups", "ignore", "not_typos")

_REPEATS = re.compile(r"([a-z])\1+")
# What YAML makes of an unquoted yes, no, on or off, said wherever words are listed.
BARE_WORD = "a bare yes, no, on or off is read as true/false: write the word in quotes, like"


class VocabularyError(ValueError):
    """A crisis.yaml that cannot be compiled; the message names the key."""


def fold(text: str) -> list[str]:
    return _REPEATS.sub(r"\1", normalize(text)).split()


Term = str                      # a word, or a stem ending in "*"
Phrase = tuple[Term, ...]


def _matches(term: Term, word: str) -> bool:
    return word.startswith(term[:-1]) if term.endswith("*") else word == term


@dataclass
class Vocabulary:
    """One language's compiled crisis vocabulary."""

    lines: dict[str, list[tuple[frozenset[Phrase], ...]]] = field(default_factory=dict)
    ignore: tuple[Phrase, ...] = ()
    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_typos: frozenset[str] = frozenset()
    # A second reader for what no line says (helpline.crisis_model): words -> word list names.
    reader: Callable[[list[str]], list[str]] | None = None

    def __post_init__(self):
        part_ids: dict[frozenset[Phrase], int] = {}
        self._lines = {name: [tuple(part_ids.setdefault(part, len(part_ids)) for part in line)
                              for line in lines]
                       for name, lines in self.lines.items()}
        # A line matches only if its first part was found: a text is checked against the
        # lines its words can start, not against every line of the vocabulary.
        self._lines_from: dict[int, list[tuple[str, tuple[int, ...]]]] = {}
        for name, lines in self._lines.items():
            for line in lines:
                self._lines_from.setdefault(line[0], []).append((name, line))
        self._parts_of: dict[Phrase, list[int]] = {}
        for part, i in part_ids.items():
            for phrase in part:
                self._parts_of.setdefault(phrase, []).append(i)
        phrases = set(self._parts_of) | set(self.ignore)
        self._by_word: dict[str, list[Phrase]] = {}
        self._by_stem: dict[str, list[tuple[str, Phrase]]] = {}    # by a stem's first 3 letters
        for phrase in phrases:
            if phrase[0].endswith("*"):
                stem = phrase[0][:-1]
                self._by_stem.setdefault(stem[:3], []).append((stem, phrase))
            else:
                self._by_word.setdefault(phrase[0], []).append(phrase)
        words = {t for p in phrases for t in p if not t.endswith("*")}
        self._known = frozenset(words) | self.not_typos
        self._targets: dict[int, list[str]] = {}    # by length: a typo is one or two letters off
        for word in sorted(w for w in words if len(w) >= FUZZY_MIN):
            self._targets.setdefault(len(word), []).append(word)
        self._stems = tuple(s for stems in self._by_stem.values() for s, _ in stems)
        self._ignore = frozenset(self.ignore)

    # -- matching ---------------------------------------------------------------------------
    def kinds(self, text: str, read: bool = True) -> list[str]:
        """The names of the word lists whose lines the text matches, or (unless ``read`` is
        False) that the second reader is sure of, in vocabulary order. A text holding an
        ``ignore`` phrase is left to the lines: without its idiom, what is left of "me voy a
        morir de aburrimiento" ("me voy a") reads to the reader like the start of a crisis,
        and so may the whole text."""
        folded = fold(text)
        words = [self._correct(w) for w in folded]
        matched = self._matched(words)
        if read and self.reader and all(words):
            matched.update(self.reader(folded))
        return [name for name in self._lines if name in matched]

    def _matched(self, words: list[str]) -> set[str]:
        """The word lists whose lines ``words`` match; ignored phrases are blanked in place."""
        if not words:
            return set()
        found = self._occurrences(words)
        ignored = [span for phrase in self._ignore.intersection(found) for span in found[phrase]]
        for start, end in ignored:
            words[start:end] = [""] * (end - start)
        if ignored:
            found = self._occurrences(words)
        places: dict[int, list[tuple[int, int]]] = {}
        for phrase, spans in found.items():
            for part in self._parts_of.get(phrase, ()):
                places.setdefault(part, []).extend(spans)
        return {name for part in places for name, line in self._lines_from.get(part, ())
                if _line_matches(line, places)}

    def _occurrences(self, words: list[str]) -> dict[Phrase, list[tuple[int, int]]]:
        found: dict[Phrase, list[tuple[int, int]]] = {}
        for i, word in enumerate(words):
            if not word:
                continue
            candidates = list(self._by_word.get(word, ()))
            candidates += [p for stem, p in self._by_stem.get(word[:3], ()) if word.startswith(stem)]
            for phrase in candidates:
                end = i + len(phrase)
                if end <= len(words) and all(_matches(t, w) for t, w in zip(phrase[1:], words[i + 1:end], strict=True)):
                    found.setdefault(phrase, []).append((i, end))
        return found

    def _correct(self, word: str) -> str:
        if len(word) < FUZZY_MIN or word in self._known or word.isdigit() \
                or word.startswith(self._stems):
            return word
        edits = 2 if len(word) >= FUZZY_TWO else 1
        targets = [t for n in range(len(word) - edits, len(word) + edits + 1)
                   for t in self._targets.get(n, ())]
        best = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=edits)
        return best[0] if best else word


def _line_matches(line: tuple[int, ...], places: dict[int, list[tuple[int, int]]]) -> bool:
    """Every part found, all within :data:`WINDOW` words of each other."""
    if not all(part in places for part in line):
        return False
    if len(line) == 1:
        return True
    return any(max(e for _, e in combo) - min(b for b, _ in combo) <= WINDOW
               for combo in product(*(places[part] for part in line)))


# -- compiling ---------------------------------------------------------------------------------
def _plain(value, where: str) -> str:
    """YAML reads a bare no, yes, on or off as true/false, not as the word."""
    if isinstance(value, bool):
        raise VocabularyError(f'{where}: {BARE_WORD} "no"')
    if not isinstance(value, (str, int)):
        raise VocabularyError(f"{where}: must be a word or phrase")
    return str(value)


def _phrases(raw, where: str) -> list[str]:
    if not isinstance(raw, list):
        raw = [raw]
    return [alt for w in raw for alt in _plain(w, where).split("|")]


def _phrase(text: str, where: str) -> Phrase:
    terms: list[str] = []
    for chunk in text.split():
        words = fold(chunk)
        star = chunk.endswith("*")
        if "*" in chunk[:-1] or (star and not words):
            raise VocabularyError(f"{where}: '{text}': a '*' ends a word, as in overdos*")
        if star:
            words[-1] += "*"
        terms += words
    if not terms:
        raise VocabularyError(f"{where}: '{text}' has no letters or digits")
    if len(terms) > MAX_PHRASE:
        raise VocabularyError(f"{where}: '{text}' is longer than {MAX_PHRASE} words")
    if any(t.endswith("*") and len(t) < 4 for t in terms):
        raise VocabularyError(f"{where}: '{text}': give at least 3 letters before a '*'")
    return tuple(terms)


def compile_vocabulary(data: dict) -> Vocabulary:
    """A crisis.yaml mapping, compiled; :class:`VocabularyError` names what is wrong."""
    if not isinstance(data, dict):
        raise VocabularyError("must be a mapping of names to lists")
    groups_raw = data.get("groups") or {}
    if not isinstance(groups_raw, dict):
        raise VocabularyError("groups: must map a group name to its words")
    groups = {str(name): frozenset(_phrase(p, f"groups: {name}")
                                   for p in _phrases(words, f"groups: {name}"))
              for name, words in groups_raw.items()}
    lines: dict[str, list] = {}
    hints: dict[str, tuple[str, ...]] = {}
    for name, raw in data.items():
        name = str(name)
        if name in SPECIAL_KEYS:
            continue
        if not isinstance(raw, list) or not raw:
            raise VocabularyError(f"{name}: must be a list of lines (a phrase, or [part, part])")
        compiled, said = [], []
        for i, line in enumerate(raw, start=1):
            where = f"{name}[{i}]"
            parts = [_plain(p, where) for p in (line if isinstance(line, list) else [line])]
            if not parts:
                raise VocabularyError(f"{where}: a line is a phrase or a list of parts")
            compiled_parts = []
            for part in parts:
                if part in groups:
                    compiled_parts.append(groups[part])
                else:
                    compiled_parts.append(frozenset(_phrase(p, where) for p in part.split("|")))
            compiled.append(tuple(compiled_parts))
            if len(parts) == 1 and parts[0] not in groups:
                said += [p.strip() for p in parts[0].split("|") if "*" not in p]
        lines[name] = compiled
        hints[name] = tuple(dict.fromkeys(p for p in said if p))
    ignore = tuple(_phrase(p, "ignore") for p in _phrases(data.get("ignore") or [], "ignore"))
    not_typos = frozenset(w for p in _phrases(data.get("not_typos") or [], "not_typos")
                          for w in fold(p))
    return Vocabulary(lines=lines, ignore=ignore, hints=hints, not_typos=not_typos)


def unused_groups(data: dict) -> list[str]:
    """Groups no line names: probably a typo in a line or a group's name."""
    groups = set((data.get("groups") or {}) if isinstance(data, dict) else ())
    named = {str(p) for name, raw in data.items() if name not in SPECIAL_KEYS
             for line in (raw if isinstance(raw, list) else [])
             for p in (line if isinstance(line, list) else [line])}
    return sorted(groups - named)
