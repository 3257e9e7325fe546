"""Every text a person reads or hears, loaded from ``content/<lang>/*.yaml``.

Each language folder holds flat YAML mappings of ``key: entry``. An entry is either a
string, or a mapping with ``text`` (the SMS and default wording), an optional ``voice``
variant written for the ear, ``sources`` naming keys of ``sources.yaml``, and ``long_sms``:
why the text may make a reply over two SMS segments (read only by ``helpline.check``).
``words.yaml`` maps a name to the words and phrases that choose it; ``crisis.yaml`` is the
crisis vocabulary (:mod:`helpline.crisis`); ``sources.yaml`` maps a source key to its
``name`` and ``url``; ``language.yaml`` holds ``name`` and ``locale``. Loading stops at the
first problem for the app, or collects every one for ``flask --app helpline check``
(:mod:`helpline.findings`).
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from . import crisis_model
from .crisis import BARE_WORD, Vocabulary, VocabularyError, compile_vocabulary, unused_groups
from .findings import STRICT, Collect, Strict
from .textnorm import normalize

SPECIAL_FILES = {"words.yaml", "sources.yaml", "language.yaml", "crisis.yaml"}
ENTRY_FIELDS = {"text", "voice", "sources", "long_sms"}


class ContentError(ValueError):
    """A content file is broken; the message names the file and key."""


@dataclass(frozen=True)
class Entry:
    text: str
    voice: str | None
    sources: tuple[str, ...]
    file: str
    long_sms: str | None = None

    def for_channel(self, channel: str) -> str:
        return self.voice if channel == "voice" and self.voice else self.text


@dataclass
class Language:
    code: str
    name: str
    locale: str
    entries: dict[str, Entry] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    word_files: dict[str, str] = field(default_factory=dict)
    sources: dict[str, dict] = field(default_factory=dict)
    crisis: Vocabulary = field(default_factory=Vocabulary)


# libyaml's parser when PyYAML has it: the same safe loading, several times faster at start-up.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    return yaml.load(text, Loader=SAFE_LOADER)


def _read_yaml(path: Path) -> dict:
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentError(f"{path}: must be a mapping of key: value")
    return data


def _entry(file: str, raw) -> Entry:
    """One entry of ``file``; a ContentError says what is wrong with it (the caller says where)."""
    if isinstance(raw, str):
        return Entry(raw.strip(), None, (), file)
    if not isinstance(raw, dict) or "text" not in raw:
        raise ContentError("must be a string or a mapping with 'text'")
    unknown = set(raw) - ENTRY_FIELDS
    if unknown:
        raise ContentError(f"unknown field(s) {sorted(unknown)}")
    sources = raw.get("sources") or []
    if isinstance(sources, str):
        sources = [sources]
    voice = raw.get("voice")
    if not isinstance(raw["text"], str) or (voice is not None and not isinstance(voice, str)):
        raise ContentError("'text' and 'voice' must be strings")
    long_sms = raw.get("long_sms")
    if "long_sms" in raw and not (isinstance(long_sms, str) and long_sms.strip()):
        raise ContentError("'long_sms' must say why the text cannot be shorter")
    return Entry(raw["text"].strip(), voice.strip() if voice else None, tuple(sources), file,
                 long_sms.strip() if long_sms else None)


def load_language(folder: Path, problems: Strict | Collect = STRICT) -> Language:
    """One language folder. The app's way (:data:`~helpline.findings.STRICT`) raises the first
    problem; with a :class:`~helpline.findings.Collect` each problem is kept, worded for an
    editor, and the rest of the folder still loads."""
    label = f"{folder.parent.name}/{folder.name}"
    meta_path = folder / "language.yaml"
    meta = (problems.read(meta_path, f"{label}/language.yaml", _read_yaml) or {}) if meta_path.exists() else {}
    for need in ("name", "locale"):
        if need not in meta:
            problems.error(ContentError(f"{meta_path}: needs 'name' and 'locale'"),
                           f"{label}/language.yaml", need, "missing: language.yaml needs 'name' "
                           "(e.g. English) and 'locale' (e.g. en-US)")
    lang = Language(code=folder.name, name=str(meta.get("name", folder.name)),
                    locale=str(meta.get("locale", folder.name)))
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix != ".yaml" and not path.name.startswith("."):
            problems.warning(f"{label}/{path.name}", "", "ignored: only files ending in .yaml are read")
    for path in sorted(folder.glob("*.yaml")):
        if path.name in SPECIAL_FILES:
            continue
        file = f"{label}/{path.name}"
        for key, raw in (problems.read(path, file, _read_yaml) or {}).items():
            key = str(key)
            if key in lang.entries:
                problems.error(
                    ContentError(f"{path.name}: {key}: already defined in {lang.entries[key].file}"),
                    file, key, f"already written in {label}/{lang.entries[key].file}: each key is "
                    "written once per language")
                continue
            try:
                lang.entries[key] = _entry(path.name, raw)
            except ContentError as exc:
                problems.error(ContentError(f"{path.name}: {key}: {exc}"), file, key, str(exc),
                               broken=(lang.code, key))
    _load_words(folder, label, lang, problems)
    sources_path = folder / "sources.yaml"
    sources = problems.read(sources_path, f"{label}/sources.yaml", _read_yaml) if sources_path.exists() else {}
    for key, raw in (sources or {}).items():
        if not isinstance(raw, dict) or "name" not in raw:
            problems.error(ContentError(f"sources.yaml: {key}: needs a 'name' (and usually a 'url')"),
                           f"{label}/sources.yaml", str(key), "needs a 'name' (and a 'url')")
            continue
        lang.sources[str(key)] = raw
    return lang


def _load_words(folder: Path, label: str, lang: Language, problems: Strict | Collect) -> None:
    """``words.yaml``, then ``crisis.yaml``, whose word lists join the others."""
    words_path, file = folder / "words.yaml", f"{label}/words.yaml"
    for name, raw in ((problems.read(words_path, file, _read_yaml) if words_path.exists() else {})
                      or {}).items():
        if isinstance(raw, list) and any(isinstance(w, bool) for w in raw):
            problems.error(ContentError(f"words.yaml: {name}: {BARE_WORD} \"yes\""), file, str(name),
                           f'{BARE_WORD} "yes"')
            continue
        if not isinstance(raw, list) or not all(isinstance(w, (str, int)) for w in raw):
            problems.error(ContentError(f"words.yaml: {name}: must be a list of words or phrases"),
                           file, str(name), "must be a list of words or phrases, like [menu, main menu]")
            continue
        lang.words[str(name)] = tuple(normalize(str(w)) for w in raw if normalize(str(w)))
        lang.phrases[str(name)] = tuple(str(w) for w in raw)
        lang.word_files[str(name)] = "words.yaml"
    crisis_path, file = folder / "crisis.yaml", f"{label}/crisis.yaml"
    if not crisis_path.exists():
        return
    data = problems.read(crisis_path, file, _read_yaml) or {}
    try:
        add_crisis_vocabulary(lang, data)
    except VocabularyError as exc:
        key, _, message = str(exc).partition(": ")
        problems.error(ContentError(f"crisis.yaml: {exc}"), file, key if message else "",
                       message or key)
        return
    for group in unused_groups(data):
        problems.warning(file, f"groups.{group}",
                         "no line uses this group: name it in a line, like [someone, blue]")


def add_crisis_vocabulary(lang: Language, data: dict) -> None:
    """The compiled vocabulary with the language's second reader where one was trained
    (:mod:`helpline.crisis_model`), and each crisis word list's plain phrases as words (for a
    speech recognizer's hints and for what the flow checks)."""
    lang.crisis = compile_vocabulary(data)
    model = crisis_model.load(lang.code)
    if model:
        lang.crisis.reader = model.read
    for name, phrases in lang.crisis.hints.items():
        if name in lang.words:
            raise VocabularyError(f"{name}: also in {lang.word_files[name]}: keep it in one file")
        lang.words[name] = tuple(normalize(p) for p in phrases if normalize(p))
        lang.phrases[name] = phrases
        lang.word_files[name] = "crisis.yaml"


class Content:
    """All languages, loaded once at start-up; lookups never touch the disk."""

    def __init__(self, languages: dict[str, Language], default: str):
        if default not in languages:
            raise ContentError(f"content: default language '{default}' has no folder")
        self.languages = languages
        self.default = default

    @classmethod
    def load(cls, root: Path, default: str = "en") -> Content:
        folders = [p for p in sorted(Path(root).iterdir()) if p.is_dir()]
        if not folders:
            raise ContentError(f"{root}: no language folders")
        languages = {}
        for folder in folders:
            try:
                languages[folder.name] = load_language(folder)
            except ContentError as exc:
                raise ContentError(f"content/{folder.name}/{exc}") from None
        content = cls(languages, default)
        content.validate()
        return content

    def validate(self) -> None:
        """Fail fast on what would break a conversation: missing keys, bad placeholders."""
        for code, lang in self.languages.items():
            for key, entry in lang.entries.items():
                for variant in filter(None, (entry.text, entry.voice)):
                    _check_placeholders(f"content/{code}/{entry.file}: {key}", variant)
                for src in entry.sources:
                    if src not in lang.sources:
                        raise ContentError(
                            f"content/{code}/{entry.file}: {key}: unknown source '{src}'"
                            " (add it to sources.yaml)")

    def has(self, lang: str, key: str) -> bool:
        return key in self.languages[lang].entries

    def text(self, lang: str, key: str, channel: str = "sms", **values) -> str:
        raw = self.languages[lang].entries[key].for_channel(channel)
        if "{" not in raw:
            return raw
        return raw.format_map(_Values(values, lambda name: self._plain(lang, name, channel)))

    def placeholders(self, lang: str, key: str, channel: str) -> frozenset[str]:
        """The names a text fills in (``{last4}``): a value costly to work out is then
        worked out only for a text that names it."""
        return _names(self.languages[lang].entries[key].for_channel(channel))

    def _plain(self, lang: str, key: str, channel: str) -> str:
        """An entry named as a placeholder (``{hours}``), itself without placeholders."""
        entry = self.languages[lang].entries.get(key)
        if entry is None:
            return ""
        return entry.for_channel(channel).format_map(_Values({}, lambda name: ""))

    def words(self, lang: str, name: str) -> tuple[str, ...]:
        return self.languages[lang].words.get(name, ())

    def phrases(self, lang: str, name: str) -> tuple[str, ...]:
        """The words as written, for a speech recognizer's hints."""
        return self.languages[lang].phrases.get(name, ())

    def locale(self, lang: str) -> str:
        return self.languages[lang].locale


class _Values(dict):
    """Placeholders come from the caller's values, else from the entry of that name
    (``{hours}`` reads the ``hours`` text); one nobody can fill reads as nothing rather
    than breaking a reply."""

    def __init__(self, values: dict, fallback):
        super().__init__(values)
        self.fallback = fallback

    def __missing__(self, key):
        return self.fallback(key)


@cache
def _names(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _check_placeholders(where: str, text: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ContentError(f"{where}: broken {{placeholder}}: {exc}") from None
    bad = [f for f in fields if not f.isidentifier()]
    if bad:
        raise ContentError(f"{where}: placeholders must be plain names, not {bad}")
