"""Checks each flow's structure for content editors: every reference resolves, every node is reached.

Errors: a reference to a node, text, word list or language that does not exist; a node no
path reaches (from ``start``, ``home``, commands, ``crisis.then`` and each crisis kind's
``then``, options, ``then``, ``silence``, ``miss``); a node with no way back to ``home``; no
``person`` command; missing engine texts or carrier words. Warnings: a word that picks two
things in one menu. Also what the flows lead to, for the other rules: the nodes reached on a
channel, and the texts a texter or a caller can be shown.
"""
from __future__ import annotations

from collections import defaultdict

from ..engine import SMS
from ..flows import CARRIER_KEYWORDS, CHANNELS, ENGINE_TEXTS, Flow, Node
from .loading import ERROR, WARNING, Project, did_you_mean

SMS_ONLY_ROLES = {"stop", "start", "help"}
VOICE_ONLY_ROLES = {"offer_person"}


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
                        f"unknown node '{target}'{did_you_mean(target, nodes)}")

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
                        f"{did_you_mean(key, known)}")
    for name, where in flow.word_references():
        if not name:
            continue
        have = [c for c in languages if name in languages[c].words]
        if languages and not have and not where.startswith("crisis."):
            ok = False
            known = {w for lang in languages.values() for w in lang.words}
            project.add(ERROR, file, where, f"word list '{name}' is in no language's "
                        f"words.yaml{did_you_mean(name, known)}")

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
