"""Check ``flows/`` and ``content/`` before anything reaches a texter or a caller.

``flask --app helpline check`` calls :func:`run`, which loads every flow and every language
itself (so a broken file is reported, not fatal) and returns :class:`Finding` objects:
a level, the file, the key inside it and a message. No Flask here. Editors read about each
rule, with examples, in ``content/README.md``.

Errors (the command exits non-zero):

- a file that is not valid YAML, an entry with unknown fields, a key written twice in a file;
- a reference to a node, text, word list, source or language that does not exist;
- a language missing a text, word list or source that another language has;
- a text the Python code names (declared in ``helpline/texts.py``) missing in a language, or
  empty on a channel the code reads it on;
- a node no path reaches (from ``start``, ``home``, commands, ``crisis.then`` and each crisis
  kind's ``then``, options, ``then``, ``silence``, ``miss``); a node with no way back to
  ``home``; no ``person`` command;
- a broken placeholder (a ``{`` or ``}`` on its own);
- an SMS text, or a whole reply a texter gets, longer than 4 segments (a list of three
  places near a ZIP code included, built from the ``search.*`` entries with long names);
- a fact without a source (the fact rule below);
- a crisis word list missing or empty in a language; a ``crisis.yaml`` that cannot be
  compiled (an unknown field, a phrase with no letters, a bare ``no`` that YAML reads as
  false, a misplaced ``*``).

Warnings: an SMS reply longer than 2 segments (the characters that forced UCS-2 are named);
in what a caller hears, a web address, a symbol (``& / % # @ ( )`` ...) or a run of two or
more digits ("911" may be read "nine hundred eleven"), a sentence beginning "For <verb>ing"
("For leaving a message, press 1": nobody talks like that), also as a menu option is
composed, or one piece longer than 30 seconds at 150 words a minute; a text giving a long
number with no source; a fact no flow uses; a
source without a ``url``; a word that picks two things in one menu; a file that is not read;
a translation whose ``{placeholders}`` differ from the default language's, or one named
``{channel}``, ``{lang}`` or ``{key}``, which the code cannot fill in; in ``crisis.yaml``, a
group no line uses or a word list no flow uses.
Info (``--verbose``): every SMS text's encoding and segments, every voice text's length.

Allowed: an entry whose ``long_sms`` says why it cannot be shorter may make a reply over 2
segments (never over 4): no warning, and the summary lists each such entry with its reason.
A ``long_sms`` no reply needs is a warning.

What a texter receives is checked as composed by the engine itself (welcome + main menu,
"didn't get that" with the crisis numbers + a menu's choices, a series piece + its prompt,
a crisis answer + what follows,
the carrier keyword replies), not only entry by entry. Every entry's ``text`` is checked for
SMS except the ones only the voice flow, or the code only on the phone, uses. What a caller
hears is checked in the ``voice`` variant when an entry has one, else in ``text``, for the
entries a caller can hear: those of nodes reachable from ``start.voice``, the crisis answers,
the engine's texts, the texts ``helpline/texts.py`` says the code speaks, and every entry
that has a ``voice`` variant.

The fact rule: an entry states a fact, and must name its ``sources``, when its key starts
with ``facts.``, ``forms.``, ``treatment.``, ``safety.`` or ``families.``; when it is in
``facts.yaml``; or
when it is a crisis answer (``crisis.kinds.*.text`` in the flow). Any other entry whose
``text`` gives a number of three or more digits other than 911 and 988 (a phone number, a
statistic, a year) without naming a source gets a warning. Menus and prompts such as
``crisis.offer`` are not facts.
"""
from __future__ import annotations

import difflib
import re
import string
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import content as content_module
from . import texts as code_texts
from .content import SPECIAL_FILES, Content, ContentError, Language, add_crisis_vocabulary, sms_segments
from .crisis import SPECIAL_KEYS as CRISIS_SPECIAL_KEYS
from .crisis import VocabularyError, unused_groups
from .engine import SMS, VOICE, Engine, Input
from .flows import CARRIER_KEYWORDS, CHANNELS, ENGINE_TEXTS, Flow, FlowError, Node
from .flows import _parse as parse_flow
from .flows import load as load_main_flow
from .textnorm import normalize

ERROR, WARNING, INFO, ALLOWED = "error", "warning", "info", "allowed"
LEVELS = (INFO, ALLOWED, WARNING, ERROR)

SMS_ERROR_SEGMENTS = 4      # more than this is an error
SMS_WARNING_SEGMENTS = 2    # more than this is a warning
WORDS_PER_SECOND = 2.5      # about 150 words a minute
VOICE_WARNING_SECONDS = 30
FRONT_END_SECONDS = 10

MAIN_FLOW = "main.yaml"
FACT_PREFIXES = ("facts.", "forms.", "treatment.", "safety.", "families.")
FACT_FILES = {"facts.yaml"}
WELL_KNOWN_NUMBERS = {"911", "988"}
SMS_ONLY_ROLES = {"stop", "start", "help"}
VOICE_ONLY_ROLES = {"offer_person"}

URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:gov|org|com|net|edu|us|info)\b",
                 re.IGNORECASE)
VOICE_SYMBOLS = "&/%#@()*+=<>|_~[]{}"
DIGIT_RUN = re.compile(r"\d{2,}")
FOR_ING = re.compile(r"(?:^|[.!?:]\s+)(For \w+ing)\b")
NUMBER = re.compile(r"\d(?:[\d,.\-]*\d)?")
LONG_DIGITS = re.compile(r"\d{3,}")
SAMPLE_VALUE = "0000"   # stands in for a value the helpline fills in ({last4}, {position})
# Content.text(lang, key, channel, **values) can never be given a value with these names.
RESERVED = {"lang", "key", "channel", "self", "values"}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
REPLACEMENTS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                "\u2014": "-", "\u2026": "...", "\u00a0": "a plain space"}


@dataclass(frozen=True)
class Finding:
    level: str
    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{self.level}: {where}:{key} {self.message}"


# -- loading, without stopping at the first problem ----------------------------------------------

@dataclass
class Project:
    """Everything that loaded, where it came from, and what could not be loaded."""

    content_label: str
    flows_label: str
    default: str
    languages: dict[str, Language] = field(default_factory=dict)
    content: Content | None = None
    flows: dict[str, Flow] = field(default_factory=dict)   # display file -> flow
    lines: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    broken: set[tuple[str, str]] = field(default_factory=set)   # (language, key) not loaded
    long_allowed: set[tuple[str, str]] = field(default_factory=set)   # long_sms that was needed
    crisis_lists: dict[str, list[str]] = field(default_factory=dict)  # language -> crisis.yaml lists

    def add(self, level: str, file: str, key: str, message: str, path: str | None = None):
        line = self.lines.get(file, {}).get(path if path is not None else key)
        self.findings.append(Finding(level, file, key, message, line))

    def entry_file(self, code: str, key: str) -> str:
        return f"{self.content_label}/{code}/{self.languages[code].entries[key].file}"

    def lang_name(self, code: str) -> str:
        return f"{self.languages[code].name} ({code})"


def read_yaml(project: Project, path: Path, label: str):
    """The file's data (None when it cannot be read), noting each key's line and any key
    written twice in one mapping (YAML would silently keep only the last)."""
    try:
        text = path.read_text(encoding="utf-8")
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        project.add(ERROR, label, "", "not UTF-8 text: save the file as UTF-8")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        project.findings.append(Finding(
            ERROR, label, "", f"not valid YAML ({problem}): check the quotes, colons and "
            "indentation; put a text with a colon in it inside double quotes",
            mark.line + 1 if mark else None))
        return None
    lines: dict[str, int] = {}
    _walk(project, label, tree, "", lines)
    project.lines[label] = lines
    if data is None:
        return {}
    if not isinstance(data, dict):
        project.add(ERROR, label, "", "must be a list of 'key: value' lines")
        return None
    return data


def _walk(project: Project, label: str, node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value in node.value:
            name = str(key_node.value)
            sub = f"{path}.{name}" if path else name
            line = key_node.start_mark.line + 1
            if name in seen:
                project.findings.append(Finding(
                    ERROR, label, sub, f"written twice (first on line {seen[name]}); only the "
                    "last one would be used: delete or rename one", line))
            else:
                seen[name] = line
                lines.setdefault(sub, line)
            _walk(project, label, value, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value, start=1):
            sub = f"{path}[{i}]"
            lines.setdefault(sub, value.start_mark.line + 1)
            _walk(project, label, value, sub, lines)


def _without_prefix(message: str, *prefixes: str) -> str:
    for prefix in prefixes:
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def load_language(project: Project, folder: Path) -> Language:
    """Like :func:`helpline.content.load_language`, but a broken entry is a finding and the
    rest of the folder still loads."""
    code = folder.name
    label = f"{project.content_label}/{code}"
    meta = {}
    if (folder / "language.yaml").exists():
        meta = read_yaml(project, folder / "language.yaml", f"{label}/language.yaml") or {}
    for need in ("name", "locale"):
        if need not in meta:
            project.add(ERROR, f"{label}/language.yaml", need,
                        "missing: language.yaml needs 'name' (e.g. English) and 'locale' "
                        "(e.g. en-US)")
    lang = Language(code=code, name=str(meta.get("name", code)),
                    locale=str(meta.get("locale", code)))
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix != ".yaml" and not path.name.startswith("."):
            project.add(WARNING, f"{label}/{path.name}", "",
                        "ignored: only files ending in .yaml are read")
    for path in sorted(folder.glob("*.yaml")):
        if path.name in SPECIAL_FILES:
            continue
        file = f"{label}/{path.name}"
        data = read_yaml(project, path, file)
        for key, raw in (data or {}).items():
            key = str(key)
            if key in lang.entries:
                project.add(ERROR, file, key,
                            f"already written in {label}/{lang.entries[key].file}: "
                            "each key is written once per language")
                continue
            try:
                lang.entries[key] = content_module._entry(path, key, raw)
            except ContentError as exc:
                project.broken.add((code, key))
                project.add(ERROR, file, key, _without_prefix(str(exc), f"{path.name}: {key}: "))
    words_path = folder / "words.yaml"
    data = read_yaml(project, words_path, f"{label}/words.yaml") if words_path.exists() else {}
    for name, raw in (data or {}).items():
        if not isinstance(raw, list) or not all(isinstance(w, (str, int)) for w in raw):
            project.add(ERROR, f"{label}/words.yaml", str(name),
                        "must be a list of words or phrases, like [menu, main menu]")
            continue
        lang.words[str(name)] = tuple(normalize(str(w)) for w in raw if normalize(str(w)))
        lang.word_files[str(name)] = "words.yaml"
    crisis_path = folder / "crisis.yaml"
    if crisis_path.exists():
        data = read_yaml(project, crisis_path, f"{label}/crisis.yaml") or {}
        try:
            add_crisis_vocabulary(lang, data)
        except VocabularyError as exc:
            key, _, message = str(exc).partition(": ")
            project.add(ERROR, f"{label}/crisis.yaml", key if message else "", message or key)
        else:
            for group in unused_groups(data):
                project.add(WARNING, f"{label}/crisis.yaml", f"groups.{group}",
                            "no line uses this group: name it in a line, like [someone, blue]")
            project.crisis_lists[code] = [str(k) for k in data if k not in CRISIS_SPECIAL_KEYS]
    sources_path = folder / "sources.yaml"
    data = read_yaml(project, sources_path, f"{label}/sources.yaml") if sources_path.exists() else {}
    for key, raw in (data or {}).items():
        if not isinstance(raw, dict) or "name" not in raw:
            project.add(ERROR, f"{label}/sources.yaml", str(key),
                        "needs a 'name' (and a 'url')")
            continue
        lang.sources[str(key)] = raw
    return lang


def load(content_dir, flows_dir, default: str = "en") -> Project:
    content_dir, flows_dir = Path(content_dir), Path(flows_dir)
    project = Project(content_label=content_dir.name, flows_label=flows_dir.name, default=default)
    if not content_dir.is_dir():
        project.add(ERROR, project.content_label, "", f"no such folder: {content_dir}")
    else:
        for folder in sorted(p for p in content_dir.iterdir() if p.is_dir()):
            if not folder.name.startswith((".", "_")):
                project.languages[folder.name] = load_language(project, folder)
        if not project.languages:
            project.add(ERROR, project.content_label, "", "no language folders (such as en/)")
    if project.languages:
        if default not in project.languages:
            project.add(ERROR, project.content_label, default,
                        f"the default language '{default}' (HELPLINE_DEFAULT_LANGUAGE) has no "
                        f"folder; there are: {', '.join(project.languages)}")
            default = next(iter(project.languages))
        project.content = Content(project.languages, default)

    flow_files = sorted(flows_dir.glob("*.yaml")) if flows_dir.is_dir() else []
    if not (flows_dir / MAIN_FLOW).exists():
        project.add(ERROR, f"{project.flows_label}/{MAIN_FLOW}", "",
                    "missing: the helpline reads its menus from this file")
    for path in flow_files:
        label = f"{project.flows_label}/{path.name}"
        if path.name != MAIN_FLOW:
            project.add(WARNING, label, "", f"not used: the helpline reads only {MAIN_FLOW}")
        raw = read_yaml(project, path, label)
        if raw is None:
            continue
        try:
            project.flows[label] = parse_flow(label, raw)
        except FlowError as exc:
            message = _without_prefix(str(exc), f"{label}: ")
            key, _, rest = message.partition(": ")
            if not rest:
                key, rest = "", message
            project.add(ERROR, label, key, rest)
    return project


# -- what the flows use --------------------------------------------------------------------------

def _options(node: Node, channels=CHANNELS):
    return [o for o in node.options if set(getattr(o, "channels", CHANNELS)) & set(channels)]


def targets(node: Node, channels=CHANNELS) -> list[str]:
    """Where a node leads on these channels: its options, ``then``, ``silence``, ``otherwise``."""
    ways = (node.then, node.silence, getattr(node, "otherwise", None), getattr(node, "miss", None))
    return [o.goto for o in _options(node, channels)] + [t for t in ways if t]


def reachable(flow: Flow, channels=CHANNELS) -> set[str]:
    """Nodes a texter or caller can get to on these channels."""
    roots = [flow.start.get(c) for c in channels] + [flow.home, flow.crisis_then]
    roots += [k.then for k in flow.crisis if getattr(k, "then", None)]
    roots += [c.goto for c in flow.commands.values() if c.goto]
    search = getattr(flow, "search", None)
    roots += [search.goto, search.invalid] if search else []
    seen: set[str] = set()
    todo = [r for r in roots if r in flow.nodes]
    while todo:
        node_id = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        todo += [t for t in targets(flow.nodes[node_id], channels) if t in flow.nodes]
    return seen


def _usable(flow: Flow, name: str) -> bool:
    cmd = flow.commands.get(name)
    return bool(cmd and (cmd.digits or cmd.words))


def ways_home(flow: Flow) -> set[str]:
    """Nodes from which the home node can be reached: by options, ``then``, ``silence``,
    ``otherwise``, command gotos, the ``menu`` or ``back`` command, or the end of a series
    without ``then`` (which goes back where it was chosen from: the node whose option leads
    there; home when it is where a conversation starts)."""
    if _usable(flow, "menu") or _usable(flow, "back"):
        return set(flow.nodes)
    parents: dict[str, set[str]] = defaultdict(set)
    for node in flow.nodes.values():
        for target in targets(node):
            parents[target].add(node.id)
    command_targets = {c.goto for c in flow.commands.values() if c.goto and _usable(flow, c.name)}
    entry_points = set(flow.start.values()) | {flow.crisis_then}
    entry_points |= {k.then for k in flow.crisis if getattr(k, "then", None)}
    edges: dict[str, set[str]] = {}
    for node in flow.nodes.values():
        out = set(targets(node)) | command_targets
        if node.type == "series" and not node.then:
            out |= parents[node.id]
            if node.id in entry_points:
                out.add(flow.home)
        edges[node.id] = out
    good = {flow.home}
    changed = True
    while changed:
        changed = False
        for node_id, out in edges.items():
            if node_id not in good and out & good:
                good.add(node_id)
                changed = True
    return good


def used_texts(flow: Flow, channel: str) -> set[str]:
    """The content keys the flow can show a texter (sms) or a caller (voice)."""
    keys = set()
    for node_id in reachable(flow, (channel,)):
        node = flow.nodes[node_id]
        keys |= {k for k in (node.text, node.footer) if k} | set(node.pieces)
        keys |= {o.label for o in _options(node, (channel,))}
    keys |= {k.text for k in flow.crisis} | {k.answer for k in flow.crisis if k.answer}
    skip = VOICE_ONLY_ROLES if channel == SMS else SMS_ONLY_ROLES
    keys |= {key for role, key in flow.texts.items() if role not in skip}
    return keys


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- the checks --------------------------------------------------------------------------------

def check_flow(project: Project, file: str, flow: Flow) -> bool:
    """References, reachability, a way home and a way to a person. True when the flow's
    structure is sound enough to run the engine on it."""
    ok = True
    nodes = flow.nodes
    languages = project.languages

    def need_node(path: str, target) -> None:
        nonlocal ok
        if target is None:
            ok = False
            project.add(ERROR, file, path, "missing: name the node to go to")
        elif target not in nodes:
            ok = False
            project.add(ERROR, file, path,
                        f"unknown node '{target}'{_did_you_mean(target, nodes)}")

    for channel in CHANNELS:
        need_node(f"start.{channel}", flow.start.get(channel))
    need_node("home", flow.home)
    need_node("crisis.then", flow.crisis_then)
    for kind in flow.crisis:
        if getattr(kind, "then", None):
            need_node(f"crisis.kinds.{kind.name}.then", kind.then)
    for node in nodes.values():
        for i, option in enumerate(node.options, 1):
            need_node(f"nodes.{node.id}.options[{i}].goto", option.goto)
        for name in ("then", "silence", "otherwise", "miss"):
            if getattr(node, name, None):
                need_node(f"nodes.{node.id}.{name}", getattr(node, name))
        for digit, code in node.choices:
            if code not in languages:
                ok = False
                project.add(ERROR, file, f"nodes.{node.id}.choices.{digit}",
                            f"no content for language '{code}' (no folder "
                            f"{project.content_label}/{code}/)")
    for cmd in flow.commands.values():
        if cmd.goto:
            need_node(f"commands.{cmd.name}.goto", cmd.goto)
    missing = ENGINE_TEXTS - set(flow.texts)
    if missing:
        ok = False
        project.add(ERROR, file, "texts", f"missing the texts for: {', '.join(sorted(missing))}")
    missing = CARRIER_KEYWORDS - set(flow.carrier)
    if missing:
        project.add(ERROR, file, "carrier", f"missing the words for: {', '.join(sorted(missing))}")

    person = flow.commands.get("person")
    if person is None or not person.goto:
        project.add(ERROR, file, "commands.person" if person else "commands",
                    "no way to a person: add  person: {digits: [\"0\"], words: person, "
                    "goto: person}  under commands")
    elif not (person.digits or person.words):
        project.add(ERROR, file, "commands.person",
                    "no way to a person: give it digits (such as \"0\") or words")

    for key, where in flow.text_references():
        have = [c for c in languages if key in languages[c].entries]
        if languages and not have:
            ok = False
            known = {k for lang in languages.values() for k in lang.entries}
            project.add(ERROR, file, where, f"text '{key}' is in no language's content"
                        f"{_did_you_mean(key, known)}")
    for name, where in flow.word_references():
        if not name:
            continue
        have = [c for c in languages if name in languages[c].words]
        if languages and not have and not where.startswith("crisis."):
            ok = False
            known = {w for lang in languages.values() for w in lang.words}
            project.add(ERROR, file, where, f"word list '{name}' is in no language's "
                        f"words.yaml{_did_you_mean(name, known)}")

    if not ok:
        return False
    seen = reachable(flow)
    for node_id in nodes:
        if node_id not in seen:
            project.add(ERROR, file, f"nodes.{node_id}",
                        "no path reaches this node: lead to it from a menu option, a 'then', "
                        "a 'silence' or a command, or delete it")
    home = ways_home(flow)
    for node_id in sorted(seen - home):
        project.add(ERROR, file, f"nodes.{node_id}",
                    f"no way back to the main menu ('{flow.home}'): add a 'menu' command, "
                    f"or a 'then' or an option that leads there")
    _check_ambiguous_words(project, file, flow)
    return True


def _check_ambiguous_words(project: Project, file: str, flow: Flow) -> None:
    for node in flow.nodes.values():
        for code, lang in project.languages.items():
            picks: dict[str, set[str]] = defaultdict(set)
            for option in node.options:
                for phrase in lang.words.get(option.words, ()):
                    picks[phrase].add(f"option '{option.goto}'")
            for cmd in flow.commands.values():
                for phrase in lang.words.get(cmd.words, ()) if cmd.words else ():
                    picks[phrase].add(f"option '{cmd.goto}'" if cmd.goto else f"command '{cmd.name}'")
            for phrase, targets in sorted(picks.items()):
                if len(targets) > 1:
                    project.add(WARNING, file, f"nodes.{node.id}",
                                f"in {project.lang_name(code)}, '{phrase}' picks "
                                f"{' and '.join(sorted(targets))}, so it picks nothing: keep it "
                                f"in one list in {project.content_label}/{code}/words.yaml")


def check_languages_match(project: Project, crisis_words: set[str]) -> None:
    """Every language has every text, word list and source another language has."""
    langs = project.languages
    kinds = [("entries", None), ("words", "words.yaml"), ("sources", "sources.yaml")]
    for attr, fixed_file in kinds:
        union: dict[str, str] = {}
        for code, lang in langs.items():
            for key in getattr(lang, attr):
                union.setdefault(key, code)
        for key, owner in union.items():
            if attr == "words" and key in crisis_words:
                continue   # reported by check_crisis_words, with what it means
            for code, lang in langs.items():
                if key in getattr(lang, attr) or (code, key) in project.broken:
                    continue
                if attr == "words":
                    file = langs[owner].word_files.get(key, fixed_file)
                else:
                    file = fixed_file or langs[owner].entries[key].file
                project.add(ERROR, f"{project.content_label}/{code}/{file}", key,
                            f"missing in {project.lang_name(code)}: "
                            f"{project.content_label}/{owner}/{file} has it; add a translation")


def check_code_texts(project: Project) -> None:
    """The texts only the code names: nothing else would notice one missing."""
    for code, key, file, message in code_texts.problems(project.languages):
        if (code, key) not in project.broken:
            project.add(ERROR, f"{project.content_label}/{code}/{file}", key, message)


def placeholders(text: str | None) -> set[str]:
    return {name[1:-1] for name in PLACEHOLDER.findall(text or "")}


def check_placeholders_match(project: Project) -> None:
    """A translation fills in the same ``{placeholders}`` as the default language."""
    default = project.content.default if project.content else None
    if default not in project.languages:
        return
    base = project.languages[default]
    for code, lang in project.languages.items():
        if code == default:
            continue
        for key, entry in lang.entries.items():
            other = base.entries.get(key)
            if other is None:
                continue
            for variant in ("text", "voice"):
                mine = placeholders(getattr(entry, variant) or entry.text)
                theirs = placeholders(getattr(other, variant) or other.text)
                if mine != theirs:
                    def shown(names):
                        return ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"
                    project.add(WARNING, project.entry_file(code, key), key,
                                f"'{variant}' fills in {shown(mine)}, but "
                                f"{project.entry_file(default, key)} fills in {shown(theirs)}: "
                                "a translation keeps the same placeholders")
                    break


def check_crisis_words(project: Project, flows: list[Flow]) -> None:
    used = {kind.words for flow in flows for kind in flow.crisis}
    for code, names in project.crisis_lists.items():
        for name in names:
            if flows and name not in used:
                project.add(WARNING, f"{project.content_label}/{code}/crisis.yaml", name,
                            "no flow uses these crisis words: name them in a 'crisis.kinds' "
                            f"entry of {project.flows_label}/{MAIN_FLOW}")
    for flow in flows:
        for kind in flow.crisis:
            for code, lang in project.languages.items():
                if not lang.words.get(kind.words):
                    missing = "missing" if kind.words not in lang.words else "empty"
                    file = lang.word_files.get(kind.words, "crisis.yaml")
                    project.add(ERROR, f"{project.content_label}/{code}/{file}", kind.words,
                                f"{missing}: the crisis words for '{kind.name}' in "
                                f"{project.lang_name(code)}; without them a texter or caller "
                                f"who uses them does not get the crisis answer first")


def check_entries(project: Project, flows: list[Flow]) -> None:
    """Placeholders, sources and the fact rule, for every entry of every language."""
    crisis_texts = {k.text for flow in flows for k in flow.crisis}
    used = {key for flow in flows for key, _ in flow.text_references()}
    for code, lang in project.languages.items():
        for key, entry in lang.entries.items():
            file = project.entry_file(code, key)
            for variant, text in (("text", entry.text), ("voice", entry.voice)):
                if text:
                    _check_placeholders(project, file, key, variant, text)
            for src in entry.sources:
                if src not in lang.sources:
                    project.add(ERROR, file, key,
                                f"unknown source '{src}'{_did_you_mean(src, lang.sources)}: "
                                f"sources are the keys of {project.content_label}/{code}/sources.yaml")
            known = ", ".join(lang.sources) or "none yet"
            add_sources = (f"add  sources: [...]  naming keys of "
                           f"{project.content_label}/{code}/sources.yaml ({known})")
            why = fact_reason(key, entry, crisis_texts)
            if why and not entry.sources:
                project.add(ERROR, file, key, f"a fact without a source ({why}): {add_sources}")
            number = long_number(entry.text)
            if not why and number and not entry.sources:
                project.add(WARNING, file, key, f"gives the number {number} but names no "
                            f"source; if it states a fact, {add_sources}")
            if flows and key.startswith(FACT_PREFIXES) and key not in used:
                project.add(WARNING, file, key,
                            "no flow uses this fact: add it to a node's 'pieces' in "
                            f"{project.flows_label}/{MAIN_FLOW}")
        for src, raw in lang.sources.items():
            if not raw.get("url"):
                project.add(WARNING, f"{project.content_label}/{code}/sources.yaml", src,
                            "no 'url': give the address where the facts can be read")


def fact_reason(key: str, entry, crisis_texts: set[str]) -> str | None:
    """Why an entry counts as a fact (see the module's docstring), or None."""
    if key.startswith(FACT_PREFIXES):
        return f"its key starts with {key.split('.')[0]}."
    if entry.file in FACT_FILES:
        return f"it is in {entry.file}"
    if key in crisis_texts:
        return "it answers a crisis"
    return None


def long_number(text: str) -> str | None:
    """The first number of three or more digits in ``text``, other than 911 and 988."""
    for number in NUMBER.findall(text):
        if any(run not in WELL_KNOWN_NUMBERS for run in LONG_DIGITS.findall(number)):
            return number
    return None


def _check_placeholders(project, file, key, variant, text) -> None:
    """A placeholder is filled in by the helpline (``{digit}``, ``{last4}``) or by the entry
    of that name (``{hours}``); only its spelling can be checked here."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        project.add(ERROR, file, key, f"'{variant}' has a broken {{placeholder}} ({exc}): "
                    "a { or } on its own is not allowed")
        return
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        project.add(ERROR, file, key, f"'{variant}' has {{{bad[0]}}}: a placeholder is one "
                    "word in braces, like {hours}")
    for name in sorted(set(names) & RESERVED):
        project.add(WARNING, file, key, f"'{variant}' has {{{name}}}, a name the helpline's "
                    "code cannot fill in (it is taken): it would read as nothing; ask for "
                    "another name")


# -- SMS ---------------------------------------------------------------------------------------

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
    from .locator import MEDICATIONS, Place
    from .places_text import PlacesText

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


# -- voice ---------------------------------------------------------------------------------------

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


# -- all together ----------------------------------------------------------------------------------

def run(content_dir, flows_dir, default: str = "en") -> list[Finding]:
    """Every finding for these folders, in a stable order; errors mean: do not ship."""
    project = load(content_dir, flows_dir, default)
    flows = list(project.flows.values())
    sound = {file: check_flow(project, file, flow) for file, flow in project.flows.items()}
    check_crisis_words(project, flows)
    check_languages_match(project, {k.words for f in flows for k in f.crisis})
    check_code_texts(project)
    check_entries(project, flows)
    check_placeholders_match(project)
    sms_used = set().union(*(used_texts(f, SMS) for f in flows)) if flows else set()
    voice_used = set().union(*(used_texts(f, VOICE) for f in flows)) if flows else None
    sms_used |= code_texts.read_on(SMS)
    if voice_used is not None:
        voice_used |= code_texts.read_on(VOICE)
    if project.content is not None:
        check_sms_entries(project, (voice_used or set()) - sms_used)
    check_voice_entries(project, voice_used)
    if project.content is not None:
        check_voice_options(project, flows)
    for file, flow in project.flows.items():
        if not sound[file] or project.content is None:
            continue
        keys = {k for k, _ in flow.text_references()}
        complete = [c for c, lang in project.languages.items()
                    if keys <= set(lang.entries)
                    and all(n in lang.words for n, _ in flow.word_references() if n)]
        check_sms_replies(project, file, flow, complete)
        check_front_end(project, file, flow, complete)
        check_place_lists(project, file, flow, complete)
    if project.content is not None and all(sound.values()):
        check_unneeded_allowances(project)
    if not any(f.level == ERROR for f in project.findings):
        _check_as_the_app_loads(project, content_dir, flows_dir, default)
    return ordered(project.findings)


def _check_as_the_app_loads(project: Project, content_dir, flows_dir, default: str) -> None:
    """The app's own loaders are the last word: what they refuse is an error here too."""
    try:
        content = Content.load(Path(content_dir), default)
        code_texts.require(content)
        load_main_flow(Path(flows_dir), content)
    except (ContentError, FlowError) as exc:
        file, key, message = (str(exc).split(": ", 2) + ["", ""])[:3]
        if not file.endswith(".yaml") or not message:
            file, key, message = "", "", str(exc)
        project.add(ERROR, file, key, f"the helpline would not start: {message}")


def ordered(findings: list[Finding]) -> list[Finding]:
    """Info first, then warnings, then errors, so errors are last on the screen."""
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (LEVELS.index(f.level), f.file, f.line or 0, f.key))


def summary(findings: list[Finding]) -> str:
    """The counts, last, after every text allowed to be long and why."""
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    allowed = [str(f) for f in findings if f.level == ALLOWED]
    verdict = "fix the errors before this reaches anyone" if errors else "no errors"
    return "\n".join(allowed + [f"{errors} error{'s' if errors != 1 else ''}, {warnings} "
                                f"warning{'s' if warnings != 1 else ''}: {verdict}"])
