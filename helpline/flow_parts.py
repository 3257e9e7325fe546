"""The parts a flow is made of (nodes, options, commands, crisis kinds, the ZIP code search),
for the engine that walks them and :mod:`helpline.flows`, which reads them from
``flows/main.yaml`` (where each field is described).
"""
from __future__ import annotations

from dataclasses import dataclass

from .locator import DEFAULT_FILTER

CHANNELS = ("sms", "voice")


@dataclass(frozen=True)
class Option:
    label: str
    words: str
    goto: str
    channels: tuple[str, ...] = CHANNELS
    needs: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    text: str | None = None
    footer: str | None = None
    options: tuple[Option, ...] = ()
    pieces: tuple[str, ...] = ()
    then: str | None = None
    silence: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    action: str | None = None
    needs: str | None = None
    otherwise: str | None = None
    miss: str | None = None

    def text_keys(self) -> list[str]:
        keys = [k for k in (self.text, self.footer) if k]
        return keys + [o.label for o in self.options] + list(self.pieces)

    def targets(self) -> list[str]:
        return [o.goto for o in self.options] + [
            t for t in (self.then, self.silence, self.otherwise, self.miss) if t]


@dataclass(frozen=True)
class Command:
    name: str
    digits: tuple[str, ...] = ()
    words: str | None = None
    goto: str | None = None


@dataclass(frozen=True)
class CrisisKind:
    name: str
    words: str
    text: str
    then: str | None = None   # where this kind alone leads; else the flow's crisis.then
    answer: str | None = None  # said too when the message asks about it ("what is an overdose")


@dataclass(frozen=True)
class Search:
    goto: str
    invalid: str
    at: frozenset[str]
    invite: str
    invite_at: frozenset[str]
    keypad: frozenset[str]
    filters: tuple[tuple[str, str], ...]   # (word list, filter name), first match wins
    default: str = DEFAULT_FILTER
