"""The flow engine, for the channels, the simulator and the checker: (state, input) ->
(state', what to say). No Flask, no TwiML, no I/O.

Both channels and the simulator call :meth:`Engine.handle`; what a person hears is decided
by the engine and nowhere else: :mod:`helpline.walk` takes a turn through the flow's nodes,
:mod:`helpline.matching` reads what was sent and :mod:`helpline.showing` words what a node
shows. The state is a plain JSON-able dict so any store can keep it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .content import Content
from .flows import CARRIER_KEYWORDS, Flow
from .matching import Matcher
from .showing import SMS, VOICE
from .walk import Walk

__all__ = ["SMS", "VOICE", "Engine", "Input", "Turn"]


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
    # Filled by the modules around the engine: texts to other numbers (a representative,
    # a texter in a chat, a caller's own phone for places they asked to be texted).
    outbox: list[tuple[str, str]] = field(default_factory=list)
    # say[i] -> language, for a text in another language than the turn's (a language offer,
    # spoken in that language's own voice).
    langs: dict[int, str] = field(default_factory=dict)
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
    """Built once at start-up from the flow and content; every turn of every conversation
    goes through :meth:`handle`."""

    def __init__(self, flow: Flow, content: Content, *, keyword_replies: bool = True):
        self.flow = flow
        self.content = content
        self.keyword_replies = keyword_replies
        self.matcher = Matcher(flow, content)

    def hints(self, lang: str, node_id: str, options: tuple[str | None, ...],
              first: bool) -> tuple[str, ...]:
        """A node's speech hints (:meth:`helpline.matching.Matcher.hints`)."""
        return self.matcher.hints(lang, node_id, options, first)

    def new_state(self, lang: str | None = None, opted_out: bool = False) -> dict:
        if lang not in self.content.languages:
            lang = self.content.default
        return {"lang": lang, "node": None, "step": 0, "trail": [], "misses": 0,
                "opted_out": opted_out}

    def is_crisis(self, raw: str) -> bool:
        """Whether words of any language say a crisis the flow answers; for a channel to
        keep what it would otherwise throw away (unsure speech)."""
        return self.matcher.is_crisis(raw)

    def carrier_keyword(self, raw: str) -> str | None:
        """"stop", "start" or "help" when the whole message is a carrier keyword."""
        return self.matcher.carrier_keyword(raw)

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
        return Walk(self, Turn(state=state), channel, context or {}).run(inp)

    def home(self, state: dict, channel: str, context: dict | None = None) -> Turn:
        """The main menu shown, for a texter leaving the line for a person."""
        state = dict(state, trail=[], misses=0)
        return Walk(self, Turn(state=state), channel, context or {}).goto(self.flow.home)

    def is_person(self, node_id: str | None) -> bool:
        node = self.flow.nodes.get(node_id) if node_id else None
        return node is not None and node.type == "person"

    def means(self, lang: str, raw: str, words: str) -> bool:
        """The whole message is one of the phrases of a word list (of the texter's language
        or any other): "MENU" means menu, "my brother can't find the menu" does not."""
        return self.matcher.means(lang, raw, words)
