"""The menus as data: ``flows/main.yaml`` loaded and checked against the content once.

A flow names nodes and the content keys they show; it never holds wording. Node types:

- ``menu``: an optional ``text`` intro, numbered ``options`` (digit = position) and an
  optional ``footer``; a menu with no options is a plain prompt.
- ``series``: ``pieces`` read one at a time, NEXT/MORE continues, then ``then`` (or back).
- ``person``: where "talk to a person" leads.

Any node may set ``silence``: where a voice caller who says nothing goes, without a miss,
and ``choices``: keys that switch the language (``"8": es``), each offered to a caller in its
own language and voice. A language key is a key nowhere else, so no key means one thing in
one prompt and another in the next.
An option may set ``needs``: it is offered only when the service says so (like a node's).

``search`` (optional): a 5-digit ZIP code, alone or with the words of a kind of care, said
at one of the nodes ``at`` goes to ``goto`` (a node whose ``action: search`` the service
layer fills with places near it); a number of 4 or 6 to 9 digits there goes to ``invalid``.
Texters read ``invite`` after the nodes ``invite_at``; callers hear it at the nodes
``keypad``, where they key 5 digits. ``filters`` maps word lists to what places must offer.
A node may set ``miss``: where an answer that picks nothing goes instead of "didn't get
that" (after a crisis answer: the next steps, however the question is put).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from .content import Content, ContentError, safe_load
from .findings import STRICT, Collect, Strict
from .flow_parts import CHANNELS, Command, CrisisKind, Node, Option, Search
from .locator import FILTERS

NODE_TYPES = {"menu", "series", "person"}
ACTIONS = {"connect", "record", "callback", "hangup", "lifeline", "search", "text_search"}
SEARCH_FIELDS = {"goto", "invalid", "at", "invite", "invite_at", "keypad", "filters"}
ENGINE_TEXTS = {"welcome", "option", "didnt_get", "lifeline", "offer_person", "series_more",
                "series_last", "stop", "start", "help", "thanks", "language_offer"}
# Word lists the code itself reads: small talk, leaving the line for a person, how a
# question begins (a question about a crisis gets its answer after the crisis answer), and
# the words around a number that leave it a choice ("la 3 porfa").
ENGINE_WORDS = ("greeting", "thanks", "leave", "question", "choice")
CARRIER_KEYWORDS = {"stop", "start", "help"}
COMMANDS = {"person", "menu", "back", "repeat", "next", "sources"}


class FlowError(ValueError):
    """A flow file is broken; the message names the file and key."""


@dataclass
class Flow:
    file: str
    start: dict[str, str]
    home: str
    nodes: dict[str, Node]
    commands: dict[str, Command]
    crisis: tuple[CrisisKind, ...]
    crisis_then: str
    texts: dict[str, str] = field(default_factory=dict)
    carrier: dict[str, frozenset[str]] = field(default_factory=dict)
    search: Search | None = None

    @cached_property
    def crisis_nodes(self) -> frozenset[str]:
        """Where a crisis answer leads."""
        return frozenset(k.then for k in self.crisis if k.then) | {self.crisis_then}

    @classmethod
    def load(cls, path: Path, content: Content) -> Flow:
        flow = parse_file(Path(path))
        flow.validate(content)
        return flow

    def validate(self, content: Content) -> None:
        """Every goto names a node and every text key exists in every language."""
        where = self.file
        for channel in CHANNELS:
            self._need_node(f"{where}: start.{channel}", self.start.get(channel))
        self._need_node(f"{where}: home", self.home)
        self._need_node(f"{where}: crisis.then", self.crisis_then)
        for kind in self.crisis:
            if kind.then:
                self._need_node(f"{where}: crisis.kinds.{kind.name}.then", kind.then)
        for node in self.nodes.values():
            for target in node.targets():
                self._need_node(f"{where}: nodes.{node.id}", target)
            for _, code in node.choices:
                if code not in content.languages:
                    raise FlowError(f"{where}: nodes.{node.id}: no content for language '{code}'")
        taken = self.keys_taken()
        for node in self.nodes.values():
            for digit, code in node.choices:
                if digit in taken:
                    raise FlowError(f"{where}: nodes.{node.id}.choices: key {digit} for '{code}' "
                                    f"is also {taken[digit]}; pick a key no prompt uses")
        missing = ENGINE_TEXTS - set(self.texts)
        if missing:
            raise FlowError(f"{where}: texts: missing {sorted(missing)}")
        missing = CARRIER_KEYWORDS - set(self.carrier)
        if missing:
            raise FlowError(f"{where}: carrier: missing {sorted(missing)}")
        for cmd in self.commands.values():
            if cmd.goto:
                self._need_node(f"{where}: commands.{cmd.name}", cmd.goto)
        if self.search:
            s = self.search
            for node_id in [s.goto, s.invalid, *s.at, *s.invite_at, *s.keypad]:
                self._need_node(f"{where}: search", node_id)
        if "person" not in self.commands or not self.commands["person"].goto:
            raise FlowError(f"{where}: commands.person needs a goto: every menu needs a way to a person")
        for key, user in self.text_references():
            for code in content.languages:
                if not content.has(code, key):
                    raise FlowError(f"{where}: {user}: text '{key}' missing in content/{code}/")
        for name, user in self.word_references():
            for code, lang in content.languages.items():
                if name not in lang.words:
                    raise FlowError(
                        f"{where}: {user}: words '{name}' missing in content/{code}/words.yaml")

    def keys_taken(self) -> dict[str, str]:
        """Keys that mean something besides a language: options and commands."""
        taken = {d: f"the command '{c.name}'" for c in self.commands.values() for d in c.digits}
        for node in self.nodes.values():
            for i in range(1, len(node.options) + 1):
                taken.setdefault(str(i), f"an option in '{node.id}'")
        return taken

    def _need_node(self, where: str, node_id: str | None) -> None:
        if node_id not in self.nodes:
            raise FlowError(f"{where}: unknown node '{node_id}'")

    def text_references(self) -> list[tuple[str, str]]:
        """(content key, where in the flow) for every text the flow names."""
        refs = []
        for node in self.nodes.values():
            base = f"nodes.{node.id}"
            if node.text:
                refs.append((node.text, f"{base}.text"))
            if node.footer:
                refs.append((node.footer, f"{base}.footer"))
            refs += [(o.label, f"{base}.options[{i}].label") for i, o in enumerate(node.options, 1)]
            refs += [(p, f"{base}.pieces[{i}]") for i, p in enumerate(node.pieces, 1)]
        refs += [(k.text, f"crisis.kinds.{k.name}.text") for k in self.crisis]
        refs += [(k.answer, f"crisis.kinds.{k.name}.answer") for k in self.crisis if k.answer]
        refs += [(key, f"texts.{role}") for role, key in self.texts.items()]
        if self.search:
            refs.append((self.search.invite, "search.invite"))
        return refs

    def word_references(self) -> list[tuple[str, str]]:
        """(word list, where in the flow) for every word list the flow or the engine reads."""
        refs = []
        for node in self.nodes.values():
            refs += [(o.words, f"nodes.{node.id}.options[{i}].words")
                     for i, o in enumerate(node.options, 1)]
            refs += [(f"language.{code}", f"nodes.{node.id}.choices.{digit}")
                     for digit, code in node.choices]
        refs += [(c.words, f"commands.{c.name}.words") for c in self.commands.values() if c.words]
        refs += [(k.words, f"crisis.kinds.{k.name}.words") for k in self.crisis]
        refs += [(name, "the engine's own word lists") for name in ENGINE_WORDS]
        if self.search:
            refs += [(words, "search.filters") for words, _ in self.search.filters]
        return refs


def parse_file(path: Path, problems: Strict | Collect = STRICT, file: str | None = None) -> Flow | None:
    """The flow in ``path`` (named ``file``), not yet checked against the content. The app's
    way raises the first problem; with a :class:`~helpline.findings.Collect` it is kept, with
    its key and line, and None is returned."""
    file = file or path.name
    raw = problems.read(path, file, _read_yaml)
    if raw is None:
        return None
    try:
        return _parse(file, raw)
    except FlowError as exc:
        message = str(exc).removeprefix(f"{file}: ")
        key, _, rest = message.partition(": ")
        problems.error(exc, file, key if rest else "", rest or message)
        return None


def _read_yaml(path: Path):
    try:
        return safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise FlowError(f"{path.name}: not valid YAML: {exc}") from None


def _parse(file: str, raw: dict) -> Flow:
    def need(mapping, key, where):
        if not isinstance(mapping, dict) or key not in mapping:
            raise FlowError(f"{file}: {where}: missing '{key}'")
        return mapping[key]

    nodes = {}
    for node_id, spec in (need(raw, "nodes", "top level") or {}).items():
        where = f"nodes.{node_id}"
        if not isinstance(spec, dict):
            raise FlowError(f"{file}: {where}: must be a mapping")
        kind = need(spec, "type", where)
        if kind not in NODE_TYPES:
            raise FlowError(f"{file}: {where}: type '{kind}' is not one of {sorted(NODE_TYPES)}")
        unknown = set(spec) - {"type", "text", "footer", "options", "pieces", "then", "silence",
                               "choices", "action", "needs", "otherwise", "miss"}
        if unknown:
            raise FlowError(f"{file}: {where}: unknown field(s) {sorted(unknown)}")
        options = tuple(
            Option(need(o, "label", f"{where}.options"), need(o, "words", f"{where}.options"),
                   need(o, "goto", f"{where}.options"),
                   tuple(o.get("channels") or CHANNELS), o.get("needs"))
            for o in spec.get("options") or [])
        for option in options:
            if set(option.channels) - set(CHANNELS):
                raise FlowError(f"{file}: {where}.options: channels must be among {CHANNELS}")
        action = spec.get("action") or ("connect" if kind == "person" else None)
        if action is not None and action not in ACTIONS:
            raise FlowError(f"{file}: {where}: action '{action}' is not one of {sorted(ACTIONS)}")
        if spec.get("needs") and not spec.get("otherwise"):
            raise FlowError(f"{file}: {where}: 'needs' goes with 'otherwise' (where to go instead)")
        if len(options) > 8:
            raise FlowError(f"{file}: {where}: at most 8 options (digits 1-8; 0 and 9 are taken)")
        if kind == "series" and not spec.get("pieces"):
            raise FlowError(f"{file}: {where}: a series needs 'pieces'")
        choices = tuple((str(d), str(code)) for d, code in (spec.get("choices") or {}).items())
        nodes[str(node_id)] = Node(
            id=str(node_id), type=kind, text=spec.get("text"), footer=spec.get("footer"),
            options=options, pieces=tuple(spec.get("pieces") or ()), then=spec.get("then"),
            silence=spec.get("silence"), choices=choices, action=action,
            needs=spec.get("needs"), otherwise=spec.get("otherwise"), miss=spec.get("miss"))

    commands = {}
    for name, spec in (raw.get("commands") or {}).items():
        if name not in COMMANDS:
            raise FlowError(f"{file}: commands.{name}: not one of {sorted(COMMANDS)}")
        spec = spec or {}
        commands[name] = Command(name, tuple(str(d) for d in spec.get("digits") or ()),
                                 spec.get("words"), spec.get("goto"))

    crisis_raw = need(raw, "crisis", "top level")
    crisis = tuple(
        CrisisKind(str(name), need(spec, "words", f"crisis.{name}"), need(spec, "text", f"crisis.{name}"),
                   spec.get("then"), spec.get("answer"))
        for name, spec in (need(crisis_raw, "kinds", "crisis") or {}).items())
    start = need(raw, "start", "top level")
    if not isinstance(start, dict):
        raise FlowError(f"{file}: start: must map each channel to a node")
    texts = raw.get("texts") or {}
    carrier = {str(k): frozenset(str(w).replace(" ", "").lower() for w in v)
               for k, v in (raw.get("carrier") or {}).items()}
    return Flow(file=file, start={str(k): str(v) for k, v in start.items()},
                home=str(need(raw, "home", "top level")), nodes=nodes, commands=commands,
                crisis=crisis, crisis_then=str(need(crisis_raw, "then", "crisis")),
                texts={str(k): str(v) for k, v in texts.items()}, carrier=carrier,
                search=_parse_search(file, raw.get("search"), need))


def _parse_search(file: str, raw, need) -> Search | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FlowError(f"{file}: search: must be a mapping")
    unknown = set(raw) - SEARCH_FIELDS
    if unknown:
        raise FlowError(f"{file}: search: unknown field(s) {sorted(unknown)}")
    filters = raw.get("filters") or {}
    if not isinstance(filters, dict):
        raise FlowError(f"{file}: search.filters: must map word lists to filters")
    for words, name in filters.items():
        if name not in FILTERS:
            raise FlowError(f"{file}: search.filters.{words}: '{name}' is not one of "
                            f"{sorted(FILTERS)}")

    def nodes(key):
        return frozenset(str(n) for n in raw.get(key) or ())
    return Search(goto=str(need(raw, "goto", "search")), invalid=str(need(raw, "invalid", "search")),
                  at=nodes("at"), invite=str(need(raw, "invite", "search")),
                  invite_at=nodes("invite_at"), keypad=nodes("keypad"),
                  filters=tuple((str(w), str(n)) for w, n in filters.items()))


def load(flows_dir: Path, content: Content) -> Flow:
    try:
        return Flow.load(Path(flows_dir) / "main.yaml", content)
    except (FlowError, ContentError) as exc:
        raise FlowError(f"flows/{exc}") from None
