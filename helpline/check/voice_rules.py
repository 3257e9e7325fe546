"""Checks what a caller hears, for content editors: wording a voice reads badly, and how long it takes.

Warnings: in what a caller hears, a web address, a symbol (``& / % # @ ( )`` ...) or a run of
two or more digits ("911" may be read "nine hundred eleven"), a sentence beginning "For
<verb>ing" ("For leaving a message, press 1": nobody talks like that), also as a menu option
is composed, or one piece longer than 30 seconds at 150 words a minute; more than 10 seconds
before a caller hears the first option. Info (``--verbose``): every voice text's length.

What a caller hears is checked in the ``voice`` variant when an entry has one, else in
``text``, for the entries a caller can hear: those of nodes reachable from ``start.voice``,
the crisis answers, the engine's texts, the texts ``helpline/texts.py`` says the code speaks,
and every entry that has a ``voice`` variant.
"""
from __future__ import annotations

import re

from ..engine import VOICE, Engine, Input
from ..flows import Flow
from .loading import INFO, WARNING, Project
from .text_rules import PLACEHOLDER

WORDS_PER_SECOND = 2.5      # about 150 words a minute
VOICE_WARNING_SECONDS = 30
FRONT_END_SECONDS = 10
URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:gov|org|com|net|edu|us|info)\b",
                 re.IGNORECASE)
VOICE_SYMBOLS = "&/%#@()*+=<>|_~[]{}"
DIGIT_RUN = re.compile(r"\d{2,}")
FOR_ING = re.compile(r"(?:^|[.!?:]\s+)(For \w+ing)\b")


def spoken_seconds(text: str) -> float:
    return len(PLACEHOLDER.sub("word", text).split()) / WORDS_PER_SECOND


def seconds_until(spoken: list[str], text: str) -> float | None:
    """Seconds of speech, at 150 words a minute, from the start of ``spoken`` (the Say
    verbs of a TwiML answer, in order) until ``text`` has been said; None if it never is.
    The front end of a call is timed so: answer to first option, target 10 seconds."""
    words = 0
    for said in spoken:
        at = said.find(text)
        if at >= 0:
            return (words + len(said[:at + len(text)].split())) / WORDS_PER_SECOND
        words += len(said.split())
    return None


def voice_problems(text: str) -> list[str]:
    """What a text-to-speech voice would read badly in ``text``."""
    plain = PLACEHOLDER.sub(" ", text)
    problems = []
    urls = [u.rstrip(".,;:") for u in URL.findall(plain)]
    if urls:
        problems.append(f"a web address ({', '.join(urls)}) is read out letter by letter and "
                        "cannot be clicked")
        for url in urls:
            plain = plain.replace(url, " ")
    symbols = sorted({c for c in plain if c in VOICE_SYMBOLS}, key=VOICE_SYMBOLS.index)
    if symbols:
        problems.append(f"the symbol{'s' if len(symbols) > 1 else ''} {' '.join(symbols)} "
                        "may be read out or skipped: write the words (and, or, percent)")
    runs = DIGIT_RUN.findall(plain)
    if runs:
        spaced = " ".join(runs[0])
        problems.append(f"the number{'s' if len(runs) > 1 else ''} {', '.join(runs)} may be "
                        f"read as one big number: write the digits apart, like '{spaced}'")
    problems += [for_ing_problem(m) for m in FOR_ING.findall(text)]
    return problems


def for_ing_problem(phrase: str) -> str:
    return (f"'{phrase} ...' is not how a person says it: write 'To <verb> ...' "
            "(\"To leave a message, press 1.\", not \"For leaving a message, press 1.\")")


def check_front_end(project: Project, file: str, flow: Flow, codes) -> None:
    """How long a caller listens before the first option, as the engine composes a call's
    first answer; over FRONT_END_SECONDS is a warning (callers hang up on dead air)."""
    engine = Engine(flow, project.content)
    for code in codes:
        turn = engine.handle(engine.new_state(code), Input("start"), VOICE, {})
        options = [o for o in flow.nodes[flow.start[VOICE]].options if VOICE in o.channels]
        if not options:
            continue
        first = project.content.text(code, flow.texts["option"], VOICE, digit=1,
                                     label=project.content.text(code, options[0].label, VOICE))
        seconds = seconds_until(turn.say, first)
        if seconds is None:
            continue
        level = WARNING if seconds > FRONT_END_SECONDS else INFO
        project.add(level, file, f"start.{VOICE}",
                    f"in {project.lang_name(code)}, a caller hears the first option after about "
                    f"{seconds:.1f} seconds (at 150 words a minute; aim for {FRONT_END_SECONDS} "
                    "or less)")


def check_voice_options(project: Project, flows: list[Flow]) -> None:
    """Menu options as a caller hears them: the option format around each label."""
    for code, lang in project.languages.items():
        for flow in flows:
            role = flow.texts.get("option")
            for node in flow.nodes.values():
                options = [o for o in node.options if VOICE in o.channels]
                for digit, option in enumerate(options, 1):
                    if role not in lang.entries or option.label not in lang.entries:
                        continue
                    label = project.content.text(code, option.label, VOICE)
                    heard = project.content.text(code, role, VOICE, digit=digit, label=label)
                    for phrase in set(FOR_ING.findall(heard)) - set(FOR_ING.findall(label)):
                        project.add(WARNING, project.entry_file(code, option.label), option.label,
                                    f"a caller hears \"{heard}\": {for_ing_problem(phrase)}")


def check_voice_entries(project: Project, used: set[str] | None) -> None:
    for code, lang in project.languages.items():
        for key, entry in lang.entries.items():
            if used is not None and key not in used and not entry.voice:
                continue
            file = project.entry_file(code, key)
            variant = "voice" if entry.voice else "text"
            text = entry.voice or entry.text
            fix = ("change the 'voice' wording" if entry.voice else
                   "add a 'voice' wording, written for the ear")
            for problem in voice_problems(text):
                project.add(WARNING, file, key, f"a caller hears this ('{variant}'): "
                            f"{problem}; {fix}")
            seconds = spoken_seconds(text)
            if seconds > VOICE_WARNING_SECONDS:
                project.add(WARNING, file, key,
                            f"about {seconds:.0f} seconds spoken ('{variant}', at 150 words a "
                            f"minute; aim for {VOICE_WARNING_SECONDS} or less): a caller has to "
                            "wait through it; shorten it or split it into pieces")
            else:
                project.add(INFO, file, key, f"voice: about {seconds:.0f} seconds spoken")
