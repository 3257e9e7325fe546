"""Checks what a texter receives, for content editors: each SMS text and each whole reply, in segments.

Errors: an SMS text, or a whole reply a texter gets, longer than 4 segments (a list of three
places near a ZIP code included, built from the ``search.*`` entries with long names); a reply
the engine cannot build. Warnings: an SMS reply longer than 2 segments (the characters that
forced UCS-2 are named). Info (``--verbose``): every SMS text's encoding and segments.

Allowed: an entry whose ``long_sms`` says why it cannot be shorter may make a reply over 2
segments (never over 4): no warning, and the summary lists each such entry with its reason.
A ``long_sms`` no reply needs is a warning.

What a texter receives is checked as composed by the engine itself (welcome + main menu,
"didn't get that" with the crisis numbers + a menu's choices, a series piece + its prompt,
a crisis answer + what follows, the carrier keyword replies), not only entry by entry. Every
entry's ``text`` is checked for SMS except the ones only the voice flow, or the code only on
the phone, uses.
"""
from __future__ import annotations

import unicodedata

from ..content import Language
from ..engine import SMS, Engine, Input
from ..flows import Flow, Node
from ..segments import sms_segments
from .flow_rules import reachable
from .loading import ALLOWED, ERROR, INFO, WARNING, Project
from .text_rules import PLACEHOLDER, RESERVED

SMS_ERROR_SEGMENTS = 4      # more than this is an error
SMS_WARNING_SEGMENTS = 2    # more than this is a warning
SAMPLE_VALUE = "0000"   # stands in for a value the helpline fills in ({last4}, {position})
REPLACEMENTS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                "\u2014": "-", "\u2026": "...", "\u00a0": "a plain space"}


def char_name(c: str) -> str:
    label = f"'{c}'" if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"
    hint = REPLACEMENTS.get(c)
    if hint:
        name = unicodedata.name(c, "").lower()
        return f"{label} ({name}; use {hint} instead)"
    return label


def segment_summary(text: str) -> str:
    """``GSM-7, 1 segment, 87 characters``, and the characters that forced UCS-2."""
    seg = sms_segments(text)
    out = f"{seg.encoding}, {seg.count} segment{'s' if seg.count != 1 else ''}, " \
          f"{len(text)} characters"
    if seg.ucs2_chars:
        out += "; UCS-2 because of " + " ".join(char_name(c) for c in seg.ucs2_chars)
    return out


def _segments_finding(project: Project, file: str, key: str, what: str, text: str,
                      fix: str, code: str, keys) -> None:
    """``keys``: the entries of language ``code`` the text is made of; one with ``long_sms``
    allows it over 2 segments."""
    count = sms_segments(text).count
    summary = segment_summary(text)
    allowing = [k for k in dict.fromkeys(keys)
                if k in project.languages[code].entries
                and project.languages[code].entries[k].long_sms]
    if count > SMS_ERROR_SEGMENTS:
        project.add(ERROR, file, key, f"{what} is too long for SMS ({summary}; at most "
                    f"{SMS_ERROR_SEGMENTS}): {fix}")
    elif count > SMS_WARNING_SEGMENTS and not allowing:
        project.add(WARNING, file, key, f"{what} is long for SMS ({summary}; aim for "
                    f"{SMS_WARNING_SEGMENTS} or fewer): {fix}")
    elif count > SMS_WARNING_SEGMENTS:
        project.add(INFO, file, key, f"{what}: {summary}; allowed by long_sms of "
                    f"{', '.join(allowing)}")
        for name in allowing:
            project.long_allowed.add((code, name))
            project.add(ALLOWED, project.entry_file(code, name), name,
                        f"over {SMS_WARNING_SEGMENTS} SMS segments: "
                        f"{project.languages[code].entries[name].long_sms}")
    else:
        project.add(INFO, file, key, f"{what}: {summary}")


def check_unneeded_allowances(project: Project) -> None:
    for code, lang in project.languages.items():
        for key, entry in lang.entries.items():
            if entry.long_sms and (code, key) not in project.long_allowed:
                project.add(WARNING, project.entry_file(code, key), key,
                            f"has long_sms, but no reply with it is over {SMS_WARNING_SEGMENTS} "
                            "SMS segments: remove long_sms")


class _Samples(dict):
    """Placeholders as the helpline fills them: ``{hours}`` from the entry of that name,
    any other value as a sample of typical length."""

    def __init__(self, lang: Language, channel: str):
        super().__init__()
        self.lang, self.channel = lang, channel

    def __missing__(self, name: str) -> str:
        entry = self.lang.entries.get(name)
        if entry is None:
            return SAMPLE_VALUE
        return PLACEHOLDER.sub("", entry.for_channel(self.channel))


def filled_in(project: Project, code: str, key: str, channel: str) -> str:
    """The entry as it is sent or spoken, placeholders filled in."""
    raw = project.languages[code].entries[key].for_channel(channel)
    try:
        return raw.format_map(_Samples(project.languages[code], channel))
    except (ValueError, KeyError, IndexError, AttributeError):
        return PLACEHOLDER.sub(SAMPLE_VALUE, raw)


def check_sms_entries(project: Project, voice_only: set[str]) -> None:
    for code, lang in project.languages.items():
        for key in lang.entries:
            if key not in voice_only:
                _segments_finding(project, project.entry_file(code, key), key, "SMS text",
                                  filled_in(project, code, key, SMS),
                                  "shorten it, or replace the characters named", code, [key])


NONSENSE = "zqxjv"


def sms_replies(engine: Engine, flow: Flow, code: str):
    """(flow key, description, content keys, reply) for what a texter can receive, built
    by the engine itself."""
    lang = engine.content.languages[code]
    state = dict(engine.new_state(code), node=flow.home, trail=[])
    # Every node shows itself (a node that ``needs`` something is checked as if it is
    # there; where it goes ``otherwise`` is checked on its own), values as samples.
    context = {n.needs: True for n in flow.nodes.values() if getattr(n, "needs", None)}
    for entry in lang.entries.values():
        for text in filter(None, (entry.text, entry.voice)):
            for name in PLACEHOLDER.findall(text):
                name = name[1:-1]
                if name not in lang.entries and name not in context and name not in RESERVED:
                    context[name] = SAMPLE_VALUE

    def handle(st, inp):
        return engine.handle(st, inp, SMS, context).text()

    def node_keys(node: Node, step: int) -> list[str]:
        if node.type == "series":
            last = step + 1 >= len(node.pieces)
            return [node.pieces[step], flow.texts["series_last" if last else "series_more"]]
        return node.text_keys() + ([flow.texts["option"]] if node.options else [])

    start = flow.nodes[flow.start[SMS]]
    welcome = [flow.texts["welcome"], flow.texts["lifeline"]]
    yield (f"start.{SMS}", f"the first reply to a new texter (welcome + '{start.id}')",
           welcome + node_keys(start, 0),
           handle(engine.new_state(code), Input("text", NONSENSE)))
    for node_id in sorted(reachable(flow, (SMS,))):
        node = flow.nodes[node_id]
        for step in range(len(node.pieces) or 1):
            here = dict(state, node=node_id, step=step, trail=[flow.home])
            key = f"nodes.{node_id}" + (f".pieces[{step + 1}]" if node.type == "series" else "")
            shown = handle(here, Input("start"))
            missed = handle(here, Input("text", NONSENSE))
            keys = node_keys(node, step)
            if not node.miss and sms_segments(missed).count > sms_segments(shown).count:
                yield key, f"'{node_id}' after \"didn't get that\"", \
                    [flow.texts["didnt_get"], flow.texts["lifeline"]] + keys, missed
            else:
                yield key, f"the reply showing '{node_id}'" + (
                    f" piece {step + 1}" if node.type == "series" else ""), keys, shown
    home = flow.nodes[flow.home]
    for word in lang.words.get(f"language.{code}", ())[:1]:
        yield "texts.welcome", f"the reply to switching to {lang.name} (welcome + '{home.id}')", \
            welcome + node_keys(home, 0), handle(state, Input("text", word))
    then = flow.nodes[flow.crisis_then]
    phrases = []
    for kind in flow.crisis:
        words = lang.words.get(kind.words, ())
        if words:
            phrases.append(words[0])
            follow = flow.nodes.get(getattr(kind, "then", None) or "", then)
            yield f"crisis.kinds.{kind.name}", f"the crisis answer + '{follow.id}'", \
                [kind.text] + node_keys(follow, 0), handle(state, Input("text", words[0]))
            for question in lang.words.get("question", ())[:1]:
                if kind.answer:
                    yield f"crisis.kinds.{kind.name}.answer", \
                        f"a question about it: the crisis answer + its answer + '{follow.id}'", \
                        [kind.text, kind.answer] + node_keys(follow, 0), \
                        handle(state, Input("text", f"{question} {words[0]}"))
    if len(phrases) > 1:
        yield "crisis", f"all crisis answers together + '{then.id}'", \
            [k.text for k in flow.crisis] + node_keys(then, 0), \
            handle(state, Input("text", " ".join(phrases)))
    for name, words in sorted(flow.carrier.items()):
        if name in flow.texts and words:
            yield f"carrier.{name}", f"the reply to {sorted(words)[0].upper()}", \
                [flow.texts[name]], handle(state, Input("text", sorted(words)[0]))


def check_sms_replies(project: Project, file: str, flow: Flow, codes) -> None:
    engine = Engine(flow, project.content, keyword_replies=True)
    for code in codes:
        try:
            for key, what, keys, reply in sms_replies(engine, flow, code):
                parts = ", ".join(dict.fromkeys(keys))
                _segments_finding(project, file, key, f"in {project.lang_name(code)}, {what}",
                                  reply, f"shorten the texts it is made of ({parts})", code, keys)
        except Exception as exc:  # the engine itself failed: say so, never crash the check
            project.add(ERROR, file, "", f"in {project.lang_name(code)}, a reply cannot be "
                        f"built ({type(exc).__name__}: {exc}); fix the errors above first")


PLACES = 3   # a texter's list of places near a ZIP code


def check_place_lists(project: Project, file: str, flow: Flow, codes) -> None:
    """A list of three places near a ZIP code, with long names, as it is sent (followed by
    the places node's footer): it must fit the SMS budget without leaving a place off."""
    from ..locator import MEDICATIONS, Place
    from ..places_text import PlacesText

    search = getattr(flow, "search", None)
    if search is None:
        return
    footer = flow.nodes[search.goto].footer
    sample = [Place(name="A Long Sample Name For A Treatment And Recovery Center", phone="212-555-0100",
                    town="Sample Town Name", state="NY", miles=99.9, medications=MEDICATIONS)] * PLACES
    for code in codes:
        texts = PlacesText(project.content)
        try:
            rest = [texts.text(code, footer)] if footer else []
            reply = texts.sms(code, "10001", "medication", 100, sample, 1, more=True,
                              spanish_note=True, rest=rest)
        except (KeyError, ValueError) as exc:
            project.add(ERROR, file, "search", f"in {project.lang_name(code)}, a list of places "
                        f"cannot be built ({type(exc).__name__}: {exc})")
            continue
        shown = sum(1 for line in reply.splitlines() if "555-0100" in line)
        whole = "\n".join([reply, *rest])
        if shown < PLACES:
            project.add(ERROR, file, "search", f"in {project.lang_name(code)}, a list of "
                        f"{PLACES} places does not fit in {SMS_ERROR_SEGMENTS} segments even with "
                        f"short names ({segment_summary(whole)}): shorten search.found, "
                        "search.place, search.offers, search.call_ahead, search.more, "
                        "search.no_spanish or the footer")
        else:
            project.add(INFO, file, "search", f"in {project.lang_name(code)}, a list of "
                        f"{PLACES} places: {segment_summary(whole)}")
