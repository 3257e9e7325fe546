"""One turn of a texter or caller through the flow's nodes: carrier keywords, a crisis, a
language switch, the first contact, and at a node an option, a command, a ZIP code or a miss;
then the node walked to, shown. Pure: no Flask, no TwiML, no I/O.

:class:`helpline.engine.Engine` starts each walk; :mod:`helpline.matching` reads what was
sent and :mod:`helpline.showing` words what is said.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .flow_parts import Node
from .showing import SMS, VOICE, Showing
from .textnorm import normalize

if TYPE_CHECKING:
    from .engine import Engine, Input, Turn


class Walk:
    """One turn's working space: the state being changed (the turn's), the node walked to
    and what is said there."""

    def __init__(self, engine: Engine, turn: Turn, channel: str, context: dict):
        self.e = engine
        self.match = engine.matcher
        self.context = context
        self.flow = engine.flow
        self.state = turn.state
        self.channel = channel
        self.turn = turn
        self.show = Showing(engine, turn, channel, context)
        self.came_from = self.state.get("node")

    # -- the turn ------------------------------------------------------------------------
    def run(self, inp: Input) -> Turn:
        raw = inp.value or ""
        text = normalize(raw) if inp.kind in ("text", "speech") else ""

        if self.channel == SMS and inp.kind == "text":
            keyword = self.match.carrier_keyword(raw)
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
            if self.match.asks_about(raw, text):
                self.turn.say += [self.show.text(k.answer) for k in kinds if k.answer]
            self.state["misses"] = 0
            return self.goto(self.after_crisis(kinds))

        code = self.match.language_word(text)
        if code:
            self.state["lang"] = code
            self.turn.events.append(f"language:{code}")
            self.state["trail"] = []
            self.show.welcome()
            return self.goto(self.flow.home)

        if self.state["node"] is None:
            start = self.flow.nodes[self.flow.start[self.channel]]
            self.show.welcome()
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
            self.show.say(kind.text)
            self.turn.events.append(f"crisis:{kind.name}")

    def crisis_kinds(self, raw: str) -> list:
        """The crisis kinds the words say; the turn goes on in the language of those words.
        Right after a crisis answer the second reader is left out: there, whatever is not a
        choice already gets the crisis follow-up ("a nadie le importa": you matter, 988),
        which answers better than the crisis answer again."""
        read = self.state["node"] not in self.flow.crisis_nodes
        code, kinds = self.match.crisis_kinds(raw, self.state["lang"], read)
        if kinds:
            self.state["lang"] = code
        return kinds

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
            self.show.role(keyword)
        return self.turn

    def choose(self, node: Node, inp: Input, raw: str, text: str) -> Turn:
        search = self.flow.search
        if search and node.id in search.at:
            found = self.zip_search(search, node, inp, raw, text)
            if found is not None:
                return found
        lang, options = self.state["lang"], self.show.options(node)
        key = self.match.key(lang, inp.kind, raw, text)
        if key:
            picked = self.match.by_digit(node, options, key)
        elif inp.kind == "digits":
            picked = None
        elif not node.miss and self.match.small_talk(lang, text, "thanks"):
            picked = self.match.by_words(lang, options, self.match.without(lang, text, "thanks"))
            if picked is None:
                return self.thanks(node)
        else:
            picked = self.match.by_words(lang, options, text)
        if picked is None:
            if self.match.small_talk(lang, text, "greeting"):
                self.state.update(misses=0, trail=[])
                self.show.welcome()
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
            self.show.welcome()
            return self.goto(self.flow.home)
        return self.command(node, value)

    def thanks(self, node: Node) -> Turn:
        """A short thank-you or goodbye ("thanks for the help") that asks for nothing else
        gets a kind close: never "didn't get that", never a person asked for by its "help"."""
        self.state["misses"] = 0
        self.turn.events.append("thanks")
        self.show.role("thanks")
        if self.channel == VOICE:
            return self.goto(node.id, self.state["step"])
        return self.turn

    def zip_search(self, search, node: Node, inp: Input, raw: str, text: str) -> Turn | None:
        """A ZIP code goes to the places (the search for the service to carry out), a
        mistyped one to where it is asked for again (:meth:`Matcher.zip_search`)."""
        found = self.match.zip_search(search, inp.kind, raw, text)
        if found is None:
            return None
        target, self.turn.search = found
        self.state["misses"] = 0
        self.remember(node)
        return self.goto(target)

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
            self.show.role("offer_person")
            return self.command(node, "person")
        self.show.role("didnt_get")
        self.show.role("lifeline")
        return self.goto(node.id, self.state["step"], again=self.channel == SMS)

    def goto(self, node_id: str, step: int = 0, again: bool = False) -> Turn:
        """Walk to a node (or, when the world lacks what it ``needs``, to its ``otherwise``)
        and show it; ``again`` (after a miss) shows only its choices."""
        node = self.flow.nodes[node_id]
        if node.needs and not self.context.get(node.needs):
            self.turn.events.append(f"unmet:{node.needs}")
            return self.goto(node.otherwise, again=again)
        self.state["node"], self.state["step"] = node_id, step
        self.turn.action = node.action
        self.show.node(node, step, again)
        if node.type == "person" and self.came_from != node_id:
            self.turn.events.append("handoff")
        return self.turn
