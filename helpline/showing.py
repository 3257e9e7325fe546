"""What a texter reads or a caller hears when the flow engine shows a node: its text or
piece, numbered options, footer, language offers and the ZIP code invite, and what a caller's
speech recognizer should listen for there. Pure: no Flask, no TwiML, no I/O.

The engine (:mod:`helpline.engine`) decides which node, step and texts; this module words
them with content's texts, in the turn's language and the channel's wording.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .flow_parts import Node, Option
from .matching import ZIP_KEYS

if TYPE_CHECKING:
    from .engine import Engine, Turn

# The channels, as flows/ and content/ name them (importable from helpline.engine).
SMS, VOICE = "sms", "voice"


class Showing:
    """One turn's words, added to the turn: each in the turn's language as it is when said
    (a crisis in other words, or a language switch, changes it mid-turn)."""

    def __init__(self, engine: Engine, turn: Turn, channel: str, context: dict):
        self.e = engine
        self.flow = engine.flow
        self.turn = turn
        self.channel = channel
        self.context = context
        self.welcomed = False

    def text(self, key: str, **values) -> str:
        lang, context = self.turn.state["lang"], self.context
        named = {name: context[name] for name in self.e.content.placeholders(lang, key, self.channel)
                 if name not in values and name in context}
        return self.e.content.text(lang, key, self.channel, **named, **values)

    def say(self, key: str, **values) -> None:
        self.turn.say.append(self.text(key, **values))

    def role(self, role: str, **values) -> None:
        """Say the text the flow names for one of the engine's roles (``texts:``)."""
        self.say(self.flow.texts[role], **values)

    def welcome(self) -> None:
        """The welcome always carries the line with the emergency and crisis numbers. On the
        phone it stands in for the next menu's heading, so the first option is heard sooner."""
        self.role("welcome")
        self.role("lifeline")
        self.welcomed = True

    def options(self, node: Node) -> list[Option]:
        """A node's options on this channel, and those the service says may be offered."""
        return [o for o in node.options if self.channel in o.channels
                and (o.needs is None or self.context.get(o.needs))]

    def node(self, node: Node, step: int, again: bool) -> None:
        """A node's words at a step; ``again`` (after a miss) only its choices, not the piece
        or text just read, unless it has nothing else to show."""
        if node.type == "series":
            if not again:
                self.say(node.pieces[step])
            more = step + 1 < len(node.pieces)
            self.role("series_more" if more else "series_last", n=step + 1, total=len(node.pieces))
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
        search = self.flow.search
        if search and node.id in (search.invite_at if self.channel == SMS else search.keypad):
            self.say(search.invite)
        if search and self.channel == VOICE and node.id in search.keypad:
            self.turn.keys = ZIP_KEYS
        self.turn.hints = self.hints(node)

    def offer_languages(self, node: Node) -> None:
        """A node's language keys, each offered in its own language (and voice)."""
        for digit, code in node.choices:
            if code != self.turn.state["lang"]:
                self.turn.langs[len(self.turn.say)] = code
                self.turn.say.append(self.e.content.text(
                    code, self.flow.texts["language_offer"], self.channel, digit=digit))

    def hints(self, node: Node) -> tuple[str, ...]:
        """What a speech recognizer should listen for at this node, as written in content."""
        names = tuple(o.words for o in self.options(node))
        return self.e.hints(self.turn.state["lang"], node.id, names,
                            first=node.id == self.flow.start[self.channel])
