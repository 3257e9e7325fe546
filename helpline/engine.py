"""The flow engine: (state, input) -> (state', what to say). No Flask, no TwiML, no I/O.

Both channels and the simulator call :meth:`Engine.handle`; what a person hears is decided
here and nowhere else. The state is a plain JSON-able dict so any store can keep it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .content import Content
from .flows import CARRIER_KEYWORDS, Flow, Node
from .textnorm import contains_phrase, normalize

SMS, VOICE = "sms", "voice"
KEY_INPUTS = set("0123456789*#")
SMALL_TALK_WORDS = 8
ZIP_KEYS = 5
_DIGITS = re.compile(r"[0-9]+")
_ZIP_PLUS_4 = re.compile(r"(?<![0-9])([0-9]{5})-[0-9]{4}(?![0-9])")
_SPOKEN_APART = re.compile(r"(?<=[0-9])[\s.,-]+(?=[0-9])")


@dataclass(frozen=True)
class Input:
    """One thing that happened: ``text`` (SMS), ``digits`` or ``speech`` (voice),
    ``silence`` (voice, nothing usable), ``start`` (a call just connected), or the outcome
    of a node's action: ``done`` (went on to ``then``) or ``failed`` (to ``otherwise``)."""

    kind: str
    value: str = ""


@dataclass
class Turn:
    state: dict
    say: list[str] = field(default_factory=list)
    listen: bool = True
    hints: tuple[str, ...] = ()
    events: list[str] = field(default_factory=list)
    action: str | None = None
    # Filled by the service around the engine: texts to other numbers (a representative,
    # or a texter in a chat) and the representatives a call should ring.
    outbox: list[tuple[str, str]] = field(default_factory=list)
    ring: list[tuple[int, str]] = field(default_factory=list)
    ring_seconds: int | None = None
    # say[i] -> language, for a text in another language than the turn's (a language offer,
    # spoken in that language's own voice).
    langs: dict[int, str] = field(default_factory=dict)
    # Work for the task queue, queued once the turn is saved (helpline.queue.Later).
    later: list = field(default_factory=list)
    # A new ZIP code search ({"zip", "filter"}) for the service to carry out, and how many
    # keys a caller's answer has (a ZIP code is 5).
    search: dict | None = None
    keys: int = 1

    @property
    def lang(self) -> str:
        return self.state["lang"]

    @property
    def keyword(self) -> str | None:
        """The carrier keyword (stop, start, help) this turn answered, if any."""
        return next((e for e in self.events if e in CARRIER_KEYWORDS), None)

    @property
    def crisis(self) -> bool:
        return any(e.startswith("crisis:") for e in self.events)

    def text(self) -> str:
        return "\n".join(self.say)


class Engine:
    def __init__(self, flow: Flow, content: Content, *, keyword_replies: bool = True):
        self.flow = flow
        self.content = content
        self.keyword_replies = keyword_replies
        self.crisis_names = frozenset(k.words for k in flow.crisis)
        self._hints: dict[tuple, tuple[str, ...]] = {}
        # How a question begins, in any language (a crisis may be asked about in another
        # language than the conversation's, as crisis words count in any language).
        self.question_openings = tuple(sorted({f"{phrase} " for code in content.languages
                                                for phrase in content.words(code, "question")}))

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
        names += [k.words for k in self.flow.crisis]
        phrases = [p for n in names for p in self.content.phrases(lang, n)]
        if first:
            phrases += [p for code in self.content.languages if code != lang
                        for k in self.flow.crisis for p in self.content.phrases(code, k.words)]
        return tuple(dict.fromkeys(phrases))

    def new_state(self, lang: str | None = None, opted_out: bool = False) -> dict:
        if lang not in self.content.languages:
            lang = self.content.default
        return {"lang": lang, "node": None, "step": 0, "trail": [], "misses": 0,
                "opted_out": opted_out}

    def is_crisis(self, raw: str) -> bool:
        """Whether words of any language say a crisis the flow answers; for a channel to
        keep what it would otherwise throw away (unsure speech)."""
        return any(self.crisis_names.intersection(lang.crisis.kinds(raw))
                   for lang in self.content.languages.values())

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

    def handle(self, state: dict | None, inp: Input, channel: str,
               context: dict | None = None) -> Turn:
        """``context`` carries what the engine cannot know by itself: flags a node ``needs``
        (``staffed``, ``callback_ok``) and values its texts use (``last4``)."""
        state = dict(state) if state else self.new_state()
        state["trail"] = list(state.get("trail", []))
        if state.get("lang") not in self.content.languages:
            state["lang"] = self.content.default
        if state.get("node") is not None and state["node"] not in self.flow.nodes:
            state["node"] = None
        return _Step(self, state, channel, context or {}).run(inp)

    def home(self, state: dict, channel: str, context: dict | None = None) -> Turn:
        """The main menu shown, for a texter leaving the line for a person."""
        state = dict(state, trail=[], misses=0)
        return _Step(self, state, channel, context or {}).goto(self.flow.home)

    def is_person(self, node_id: str | None) -> bool:
        node = self.flow.nodes.get(node_id) if node_id else None
        return node is not None and node.type == "person"

    def means(self, lang: str, raw: str, words: str) -> bool:
        """The whole message is one of the phrases of a word list (of the texter's language
        or any other): "MENU" means menu, "my brother can't find the menu" does not."""
        text = normalize(raw)
        codes = [lang] + [c for c in self.content.languages if c != lang]
        return bool(text) and any(text in self.content.words(c, words) for c in codes)


class _Step:
    """One turn's working space: the state being changed and what is said."""

    def __init__(self, engine: Engine, state: dict, channel: str, context: dict):
        self.e = engine
        self.context = context
        self.flow = engine.flow
        self.state = state
        self.channel = channel
        self.turn = Turn(state=state)
        self.came_from = state.get("node")
        self.welcomed = False

    # -- saying things -------------------------------------------------------------------
    def text(self, key: str, **values) -> str:
        return self.e.content.text(self.state["lang"], key, self.channel,
                                   **{**self.context, **values})

    def say(self, key: str, **values) -> None:
        self.turn.say.append(self.text(key, **values))

    def say_role(self, role: str, **values) -> None:
        self.say(self.flow.texts[role], **values)

    def welcome(self) -> None:
        """The welcome always carries the line with the emergency and crisis numbers. On the
        phone it stands in for the next menu's heading, so the first option is heard sooner."""
        self.say_role("welcome")
        self.say_role("lifeline")
        self.welcomed = True

    def words(self, name: str | None) -> tuple[str, ...]:
        return self.e.content.words(self.state["lang"], name) if name else ()

    # -- the turn ------------------------------------------------------------------------
    def run(self, inp: Input) -> Turn:
        raw = inp.value or ""
        text = normalize(raw) if inp.kind in ("text", "speech") else ""

        if self.channel == SMS and inp.kind == "text":
            keyword = self.e.carrier_keyword(raw)
            if keyword:
                return self.carrier(keyword)

        kinds = self.crisis_kinds(raw) if inp.kind in ("text", "speech") else []
        if self.channel == SMS and inp.kind == "text" and self.state.get("opted_out"):
            # Opted out: nothing, except a crisis gets its answer alone (README.md, "A crisis
            # text from an opted-out number").
            self.turn.listen = False
            self.answer_crisis(kinds)
            return self.turn
        if kinds:
            self.answer_crisis(kinds)
            if self.asks_about(raw, text):
                self.turn.say += [self.text(k.answer) for k in kinds if k.answer]
            self.state["misses"] = 0
            return self.goto(self.after_crisis(kinds))

        code = self.language_word(text)
        if code:
            self.state["lang"] = code
            self.turn.events.append(f"language:{code}")
            self.state["trail"] = []
            self.welcome()
            return self.goto(self.flow.home)

        if self.state["node"] is None:
            start = self.flow.nodes[self.flow.start[self.channel]]
            self.welcome()
            search = self.flow.search
            if self.channel == SMS and search and start.id in search.at:
                found = self.zip_search(search, start, inp, raw, text)  # a first text may be a ZIP code
                if found is not None:
                    return found
            return self.goto(start.id)

        node = self.flow.nodes[self.state["node"]]
        if inp.kind == "start":
            return self.goto(node.id, self.state["step"])
        if inp.kind == "done" and node.then:
            return self.goto(node.then)
        if inp.kind == "failed" and node.otherwise:
            return self.goto(node.otherwise)
        if inp.kind == "silence" or (inp.kind in ("text", "speech") and not text and not raw.strip()):
            if node.silence:
                return self.goto(node.silence)
            return self.miss(node)
        return self.choose(node, inp, raw, text)

    def answer_crisis(self, kinds) -> None:
        for kind in kinds:
            self.say(kind.text)
            self.turn.events.append(f"crisis:{kind.name}")

    def asks_about(self, raw: str, text: str) -> bool:
        """A question ("what is an overdose", "signs of overdose?") may be about a crisis
        rather than one happening: after the crisis answer, it gets its own answer too."""
        return raw.rstrip().endswith("?") or f"{text} ".startswith(self.e.question_openings)

    def crisis_kinds(self, raw: str) -> list:
        """A crisis in the words of any language counts (:mod:`helpline.crisis`); the answer
        comes in the language whose words were used, so "sobredosis" in an English
        conversation is answered in Spanish."""
        if not raw.strip():
            return []
        languages = self.e.content.languages
        for code in [self.state["lang"]] + [c for c in languages if c != self.state["lang"]]:
            names = languages[code].crisis.kinds(raw)
            kinds = [k for k in self.flow.crisis if k.words in names]
            if kinds:
                self.state["lang"] = code
                return kinds
        return []

    def after_crisis(self, kinds: list) -> str:
        """One kind of crisis leads to its own follow-up (its next steps); several, or a
        kind without one, to the flow's ``crisis.then``."""
        if len(kinds) == 1 and kinds[0].then:
            return kinds[0].then
        return self.flow.crisis_then

    def carrier(self, keyword: str) -> Turn:
        """STOP / START / HELP as carriers require: whole message, always honoured."""
        self.turn.events.append(keyword)
        self.turn.listen = False
        if keyword == "stop":
            self.state.update(opted_out=True, node=None, step=0, trail=[], misses=0)
        elif keyword == "start":
            self.state.update(opted_out=False, node=self.flow.home, step=0, trail=[], misses=0)
        if self.e.keyword_replies:
            self.say_role(keyword)
        return self.turn

    def language_word(self, text: str) -> str | None:
        """A whole message (or utterance) that names a language switches to it."""
        if not text:
            return None
        for code in self.e.content.languages:
            for lang in self.e.content.languages.values():
                if text in lang.words.get(f"language.{code}", ()):
                    return code
        return None

    def choose(self, node: Node, inp: Input, raw: str, text: str) -> Turn:
        search = self.flow.search
        if search and node.id in search.at:
            found = self.zip_search(search, node, inp, raw, text)
            if found is not None:
                return found
        key = raw.strip() if inp.kind == "digits" else (text if len(text) == 1 else raw.strip())
        if key in KEY_INPUTS and len(key) == 1:
            picked = self.by_digit(node, key)
        elif inp.kind == "digits":
            picked = None
        elif not node.miss and self.short(text) and self.has_words(text, "thanks"):
            picked = self.by_words(node, self.without(text, "thanks"))
            if picked is None:
                return self.thanks(node)
        else:
            picked = self.by_words(node, text)
        if picked is None:
            if self.short(text) and self.has_words(text, "greeting"):
                self.state.update(misses=0, trail=[])
                self.welcome()
                return self.goto(self.flow.home)
            return self.miss(node)
        self.state["misses"] = 0
        what, value = picked
        if what == "option":
            self.remember(node)
            self.turn.events.append(f"choice:{value.goto}")
            return self.goto(value.goto)
        if what == "language":
            self.state.update(lang=value, trail=[])
            self.turn.events.append(f"language:{value}")
            self.welcome()
            return self.goto(self.flow.home)
        return self.command(node, value)

    @staticmethod
    def short(text: str) -> bool:
        return bool(text) and len(text.split()) <= SMALL_TALK_WORDS

    def has_words(self, text: str, name: str) -> bool:
        return any(contains_phrase(text, w) for w in self.words(name))

    def without(self, text: str, name: str) -> str:
        """``text`` with the phrases of a word list taken out, longest first."""
        text = f" {text} "
        for phrase in sorted(self.words(name), key=len, reverse=True):
            text = text.replace(f" {phrase} ", " ")
        return text.strip()

    def thanks(self, node: Node) -> Turn:
        """A short thank-you or goodbye ("thanks for the help") that asks for nothing else
        gets a kind close: never "didn't get that", never a person asked for by its "help"."""
        self.state["misses"] = 0
        self.turn.events.append("thanks")
        self.say_role("thanks")
        if self.channel == VOICE:
            return self.goto(node.id, self.state["step"])
        return self.turn

    def zip_search(self, search, node: Node, inp: Input, raw: str, text: str) -> Turn | None:
        """A 5-digit ZIP code (a ZIP+4 counts; a caller's spoken digits may come apart),
        with the words of what to look for, goes to the places; a number of 4 or 6 to 9
        digits is taken for a ZIP code mistyped."""
        value = _ZIP_PLUS_4.sub(r"\1", raw)
        if inp.kind != "text":
            value = _SPOKEN_APART.sub("", value)
        runs = _DIGITS.findall(value)
        zips = [r for r in runs if len(r) == ZIP_KEYS]
        if len(zips) == 1 and not any(len(r) > 3 for r in runs if r != zips[0]):
            filters = [name for words, name in search.filters
                       if any(contains_phrase(text, w) for lang in self.e.content.languages
                              for w in self.e.content.words(lang, words))]
            self.turn.search = {"zip": zips[0], "filter": (filters or [search.default])[0]}
            target = search.goto
        elif any(3 < len(r) < 10 for r in runs):
            target = search.invalid
        else:
            return None
        self.state["misses"] = 0
        self.remember(node)
        return self.goto(target)

    def options(self, node: Node):
        return [o for o in node.options if self.channel in o.channels
                and (o.needs is None or self.context.get(o.needs))]

    def by_digit(self, node: Node, key: str):
        for i, option in enumerate(self.options(node), start=1):
            if key == str(i):
                return "option", option
        for digit, code in node.choices:
            if key == digit:
                return "language", code
        for cmd in self.flow.commands.values():
            if key in cmd.digits:
                return "command", cmd.name
        return None

    def by_words(self, node: Node, text: str):
        """The one target the words point at; a phrase inside a longer matched phrase
        ("help" in "crisis help") does not count, and two targets are no choice at all."""
        if not text:
            return None
        candidates: list[tuple[str, tuple, tuple[str, ...]]] = []
        for option in self.options(node):
            candidates.append((f"option:{option.goto}", ("option", option), self.words(option.words)))
        for cmd in self.flow.commands.values():
            target = f"option:{cmd.goto}" if cmd.goto else f"command:{cmd.name}"
            candidates.append((target, ("command", cmd.name), self.words(cmd.words)))
        matches = [(target, picked, phrase) for target, picked, phrases in candidates
                   for phrase in phrases if contains_phrase(text, phrase)]
        kept = {target: picked for target, picked, phrase in matches
                if not any(t != target and len(p) > len(phrase) and contains_phrase(p, phrase)
                           for t, _, p in matches)}
        return next(iter(kept.values())) if len(kept) == 1 else None

    def command(self, node: Node, name: str) -> Turn:
        trail = self.state["trail"]
        if name == "menu":
            self.state["trail"] = []
            return self.goto(self.flow.home)
        if name == "back":
            return self.goto(trail.pop() if trail else self.flow.home)
        if name == "repeat":
            return self.goto(node.id, self.state["step"])
        if name == "next":
            if node.action == "search":  # the next places
                return self.goto(node.id, self.state["step"] + 1)
            if node.type != "series":
                return self.miss(node)
            if self.state["step"] + 1 < len(node.pieces):
                return self.goto(node.id, self.state["step"] + 1)
            return self.goto(node.then or (trail.pop() if trail else self.flow.home))
        target = self.flow.commands[name].goto
        if target != node.id:
            self.remember(node)
        self.turn.events.append(f"choice:{target}")
        return self.goto(target)

    def remember(self, node: Node) -> None:
        """BACK returns to menus and facts, never to a prompt that acts (records, hangs up)."""
        if node.type in ("menu", "series") and node.action is None:
            self.state["trail"].append(node.id)

    def miss(self, node: Node) -> Turn:
        """Nothing picked: the node's ``miss`` node (after a crisis: the next steps, as often
        as asked), else "didn't get that" with the emergency and crisis numbers, so a crisis
        the words did not catch still gets them, and the node again: a texter, who can
        scroll back, gets only its choices; a caller hears it all."""
        self.turn.events.append("miss")
        if node.miss:
            return self.goto(node.miss)
        self.state["misses"] = self.state.get("misses", 0) + 1
        if self.channel == VOICE and self.state["misses"] >= 2:
            self.state["misses"] = 0
            self.say_role("offer_person")
            return self.command(node, "person")
        self.say_role("didnt_get")
        self.say_role("lifeline")
        return self.goto(node.id, self.state["step"], again=self.channel == SMS)

    # -- showing a node ------------------------------------------------------------------
    def goto(self, node_id: str, step: int = 0, again: bool = False) -> Turn:
        """Show a node; ``again`` (after a miss) shows only its choices, not the piece or
        text just read, unless it has nothing else to show."""
        node = self.flow.nodes[node_id]
        if node.needs and not self.context.get(node.needs):
            self.turn.events.append(f"unmet:{node.needs}")
            return self.goto(node.otherwise, again=again)
        self.state["node"], self.state["step"] = node_id, step
        self.turn.action = node.action
        if node.type == "series":
            if not again:
                self.say(node.pieces[step])
            more = step + 1 < len(node.pieces)
            self.say_role("series_more" if more else "series_last",
                          n=step + 1, total=len(node.pieces))
        else:
            if (node.text and not (self.welcomed and self.channel == VOICE)
                    and not (again and (self.options(node) or node.footer))):
                self.say(node.text)
            if self.channel == VOICE:
                self.offer_languages(node)
            lines = [self.text(self.flow.texts["option"], digit=i, label=self.text(o.label))
                     for i, o in enumerate(self.options(node), start=1)]
            if lines:
                self.turn.say.append(("\n" if self.channel == SMS else " ").join(lines))
            if node.footer:
                self.say(node.footer)
            if node.type == "person" and self.came_from != node_id:
                self.turn.events.append("handoff")
        search = self.flow.search
        if search and node_id in (search.invite_at if self.channel == SMS else search.keypad):
            self.say(search.invite)
        if search and self.channel == VOICE and node_id in search.keypad:
            self.turn.keys = ZIP_KEYS
        self.turn.hints = self.hints(node)
        return self.turn

    def offer_languages(self, node: Node) -> None:
        """A node's language keys, each offered in its own language (and voice)."""
        for digit, code in node.choices:
            if code != self.state["lang"]:
                self.turn.langs[len(self.turn.say)] = code
                self.turn.say.append(self.e.content.text(
                    code, self.flow.texts["language_offer"], self.channel, digit=digit))

    def hints(self, node: Node) -> tuple[str, ...]:
        """What a speech recognizer should listen for at this node, as written in content."""
        names = tuple(o.words for o in self.options(node))
        return self.e.hints(self.state["lang"], node.id, names,
                            first=node.id == self.flow.start[self.channel])

