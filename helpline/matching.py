"""How the flow engine reads what a texter or caller sent: what a message or key picks, and
what a caller's speech recognizer should listen for. Pure: no Flask, no TwiML, no I/O.

The engine (:mod:`helpline.engine`) decides what follows; this module only reads: carrier
keywords, crisis words and question openings, language names, small talk, ZIP codes, and
options and commands by key or by words, all as written in content (any language's words
count where a person may mix them).
"""
from __future__ import annotations

import re
import unicodedata
from itertools import zip_longest

from .content import Content
from .flow_parts import Node, Option, Search
from .flows import Flow
from .textnorm import contains_phrase, normalize

KEY_INPUTS = set("0123456789*#")
SMALL_TALK_WORDS = 8
STRIPPED = ("thanks", "choice")   # word lists that :meth:`Matcher.without` takes out
ZIP_KEYS = 5
_DIGITS = re.compile(r"[0-9]+")
_ZIP_PLUS_4 = re.compile(r"(?<![0-9])([0-9]{5})-[0-9]{4}(?![0-9])")
_SPOKEN_APART = re.compile(r"(?<=[0-9])[\s.,-]+(?=[0-9])")


class Matcher:
    """Built once per engine from the flow and content; holds what every turn would otherwise
    rebuild (crisis word-list names, question openings, speech hints)."""

    def __init__(self, flow: Flow, content: Content):
        self.flow = flow
        self.content = content
        self.crisis_names = frozenset(k.words for k in flow.crisis)
        self._hints: dict[tuple, tuple[str, ...]] = {}
        # How a question begins, in any language (a crisis may be asked about in another
        # language than the conversation's, as crisis words count in any language).
        self.question_openings = tuple(sorted({f"{phrase} " for code in content.languages
                                                for phrase in content.words(code, "question")}))
        # A caller may say a ZIP code as words ("uno cero cero cero uno"), in any language.
        self.digit_words = {word: str(digit) for code in content.languages
                            for digit, word in enumerate(content.words(code, "digits"))}
        # The word lists taken out of a message, longest phrase first ("thank you" before "thank").
        self._longest_first = {(code, name): tuple(sorted(content.words(code, name), key=len, reverse=True))
                               for code in content.languages for name in STRIPPED}

    # -- whole messages ------------------------------------------------------------------
    def carrier_keyword(self, raw: str) -> str | None:
        """"stop", "start" or "help" when the whole message is a carrier keyword. Read as
        carriers do, whatever the keyboard sent: full-width letters (NFKC) and invisible
        format characters (zero-width spaces) do not hide a STOP."""
        folded = unicodedata.normalize("NFKC", raw)
        squeezed = "".join("".join(c for c in folded if unicodedata.category(c) != "Cf").split()).casefold()
        for name, words in self.flow.carrier.items():
            if squeezed in words:
                return name
        return None

    def language_word(self, text: str) -> str | None:
        """A whole message (or utterance) that names a language switches to it."""
        if not text:
            return None
        for code in self.content.languages:
            for lang in self.content.languages.values():
                if text in lang.words.get(f"language.{code}", ()):
                    return code
        return None

    def means(self, lang: str, raw: str, words: str) -> bool:
        """The whole message is one of the phrases of a word list (of the texter's language
        or any other): "MENU" means menu, "my brother can't find the menu" does not."""
        text = normalize(raw)
        codes = [lang] + [c for c in self.content.languages if c != lang]
        return bool(text) and any(text in self.content.words(c, words) for c in codes)

    # -- a crisis ------------------------------------------------------------------------
    def is_crisis(self, raw: str) -> bool:
        """Whether words of any language say a crisis the flow answers; for a channel to
        keep what it would otherwise throw away (unsure speech)."""
        return any(self.crisis_names.intersection(lang.crisis.kinds(raw))
                   for lang in self.content.languages.values())

    def crisis_kinds(self, raw: str, lang: str, read: bool = True) -> tuple[str, list]:
        """The crisis kinds the words say, and the language whose words said them. A crisis
        in the words of any language counts (:mod:`helpline.crisis`), the conversation's
        first; the answer comes in the language whose words were used, so "sobredosis" in
        an English conversation is answered in Spanish. ``read=False`` leaves the second
        reader out (:mod:`helpline.crisis_model`)."""
        if not raw.strip():
            return lang, []
        languages = self.content.languages
        for code in [lang] + [c for c in languages if c != lang]:
            names = languages[code].crisis.kinds(raw, read)
            kinds = [k for k in self.flow.crisis if k.words in names]
            if kinds:
                return code, kinds
        return lang, []

    def asks_about(self, raw: str, text: str) -> bool:
        """A question ("what is an overdose", "signs of overdose?") may be about a crisis
        rather than one happening: after the crisis answer, it gets its own answer too."""
        return raw.rstrip().endswith("?") or f"{text} ".startswith(self.question_openings)

    # -- small talk ----------------------------------------------------------------------
    def small_talk(self, lang: str, text: str, name: str) -> bool:
        """A short message with a phrase of the word list ``name`` (a greeting, a thank-you)."""
        return (bool(text) and len(text.split()) <= SMALL_TALK_WORDS
                and any(contains_phrase(text, w) for w in self.content.words(lang, name)))

    def without(self, lang: str, text: str, name: str) -> str:
        """``text`` with the phrases of a word list taken out, longest first."""
        text = f" {text} "
        for phrase in self._longest_first[lang, name]:
            text = text.replace(f" {phrase} ", " ")
        return text.strip()

    # -- ZIP codes -----------------------------------------------------------------------
    def zip_search(self, search: Search, kind: str, raw: str, text: str) -> tuple[str, dict | None] | None:
        """Where a ZIP code leads, with the search to carry out: a 5-digit ZIP code (a ZIP+4
        counts; a caller's spoken digits may come apart), with the words of what to look
        for, goes to the places; a number of 4 or 6 to 9 digits is taken for a ZIP code
        mistyped. None when the message holds neither. Spoken, digits may be words too."""
        value = _ZIP_PLUS_4.sub(r"\1", raw)
        if kind != "text":
            value = " ".join(self.digit_words.get(word, word) for word in normalize(value).split())
            value = _SPOKEN_APART.sub("", value)
        runs = _DIGITS.findall(value)
        zips = [r for r in runs if len(r) == ZIP_KEYS]
        if len(zips) == 1 and not any(len(r) > 3 for r in runs if r != zips[0]):
            filters = [name for words, name in search.filters
                       if any(contains_phrase(text, w) for lang in self.content.languages
                              for w in self.content.words(lang, words))]
            return search.goto, {"zip": zips[0], "filter": (filters or [search.default])[0]}
        if any(3 < len(r) < 10 for r in runs):
            return search.invalid, None
        return None

    # -- options and commands ------------------------------------------------------------
    def key(self, lang: str, kind: str, raw: str, text: str) -> str | None:
        """The one phone key a message is (a texter may send one too), or asks for with words
        around it that change nothing ("2 please", "la 3 porfa"): politeness is not a miss."""
        if kind == "digits":
            key = raw.strip()
        else:
            key = text if len(text) == 1 else raw.strip()
            if key not in KEY_INPUTS:
                key = self.without(lang, text, "choice")
        return key if key in KEY_INPUTS else None

    def by_digit(self, node: Node, options: list[Option], key: str):
        """What a key picks at a node: an option by its position, a language, a command."""
        for i, option in enumerate(options, start=1):
            if key == str(i):
                return "option", option
        for digit, code in node.choices:
            if key == digit:
                return "language", code
        for cmd in self.flow.commands.values():
            if key in cmd.digits:
                return "command", cmd.name
        return None

    def by_words(self, lang: str, options: list[Option], text: str):
        """The one target the words point at; a phrase inside a longer matched phrase
        ("help" in "crisis help") does not count, and two targets are no choice at all."""
        if not text:
            return None
        candidates: list[tuple[str, tuple, tuple[str, ...]]] = []
        for option in options:
            candidates.append((f"option:{option.goto}", ("option", option), self._words(lang, option.words)))
        for cmd in self.flow.commands.values():
            target = f"option:{cmd.goto}" if cmd.goto else f"command:{cmd.name}"
            candidates.append((target, ("command", cmd.name), self._words(lang, cmd.words)))
        matches = [(target, picked, phrase) for target, picked, phrases in candidates
                   for phrase in phrases if contains_phrase(text, phrase)]
        kept = {target: picked for target, picked, phrase in matches
                if not any(t != target and len(p) > len(phrase) and contains_phrase(p, phrase)
                           for t, _, p in matches)}
        return next(iter(kept.values())) if len(kept) == 1 else None

    def _words(self, lang: str, name: str | None) -> tuple[str, ...]:
        return self.content.words(lang, name) if name else ()

    # -- speech hints --------------------------------------------------------------------
    def hints(self, lang: str, node_id: str, options: tuple[str | None, ...],
              first: bool) -> tuple[str, ...]:
        """A node's speech hints, built once per node, language and options on offer (they
        depend on nothing else): its options, language choices, commands and crisis words;
        at a call's first prompt, where the language is still being chosen, every
        language's crisis words."""
        key = (lang, node_id, options, first)
        if key not in self._hints:
            self._hints[key] = self._build_hints(*key)
        return self._hints[key]

    def _build_hints(self, lang: str, node_id: str, options, first: bool) -> tuple[str, ...]:
        node = self.flow.nodes[node_id]
        names = list(options) + [f"language.{code}" for _, code in node.choices]
        names += [c.words for c in self.flow.commands.values() if c.words]
        phrases = [p for n in names for p in self.content.phrases(lang, n)]
        # Crisis words, the caller's language's (and on the first prompt every language's),
        # taken in turn from each list: a list's first lines are its plainest words, and
        # Twilio keeps only the first MAX_HINTS, so no language or kind loses those.
        codes = [lang] + ([c for c in self.content.languages if c != lang] if first else [])
        lists = [self.content.phrases(code, k.words) for code in codes for k in self.flow.crisis]
        phrases += [p for turn in zip_longest(*lists) for p in turn if p]
        return tuple(dict.fromkeys(phrases))
