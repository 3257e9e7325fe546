"""Every content key (and word list) the Python code names itself, and the channels it is
read on.

The flows name most texts, and :mod:`helpline.flows` refuses a flow naming a text that is
missing. The keys below are named only in code (``content.text(lang, "rep.sms.new")``), so
nothing else would notice one missing until the first person who needs it got an error.
:func:`problems` finds them: :func:`helpline.create_app` refuses to start on any, and
``flask --app helpline check`` reports each. A key the code builds (``f"search.med.{m}"``)
is declared by every value it can take. ``tests/test_texts.py`` fails on a key in the code's
text look-ups that is not declared here.
"""
from __future__ import annotations

from dataclasses import dataclass

from .content import Content, ContentError, Language
from .engine import SMS, VOICE
from .locator import FILTERS, MEDICATIONS

BOTH = (SMS, VOICE)


@dataclass(frozen=True)
class Group:
    readers: str                 # who reads or hears these texts
    file: str                    # where a missing one belongs in content/<lang>/
    channels: tuple[str, ...]
    keys: tuple[str, ...]


GROUPS = (
    # Representatives' text alerts and the replies to their commands, in the default language.
    Group("representatives, by SMS", "representatives.yaml", (SMS,), (
        "rep.sms.accepted", "rep.sms.busy", "rep.sms.callback", "rep.sms.crisis_waiting",
        "rep.sms.done", "rep.sms.duty_off", "rep.sms.duty_on", "rep.sms.help", "rep.sms.kept",
        "rep.sms.locked", "rep.sms.locked_all", "rep.sms.locked_one", "rep.sms.new",
        "rep.sms.next_none", "rep.sms.off", "rep.sms.on", "rep.sms.relay", "rep.sms.status",
        "rep.sms.taken", "rep.sms.texter_stopped", "rep.sms.unknown_code", "rep.sms.unstaffed",
        "rep.sms.voicemail", "rep.sms.voicemail_nopin", "rep.sms.withdrawn")),
    # Representatives' reminders about a texter still waiting (helpline.waiting, check-ins).
    Group("representatives, by SMS, later", "later.yaml", (SMS,), (
        "rep.sms.checkin_offered", "rep.sms.escalate", "rep.sms.idle", "rep.sms.idle_closed",
        "rep.sms.reminder", "rep.sms.withdrawn_timeout")),
    # Representatives calling in: passcode, PIN, taking a caller, and the whisper on answering.
    Group("representatives, on the phone", "representatives.yaml", (VOICE,), (
        "rep.call.dialback_done", "rep.call.dialback_failed", "rep.call.dialing",
        "rep.call.goodbye", "rep.call.locked", "rep.call.no_passcode", "rep.call.none",
        "rep.call.off_duty", "rep.call.passcode", "rep.call.passcode_ended",
        "rep.call.passcode_wrong", "rep.call.pin", "rep.call.pin_locked", "rep.call.pin_wrong",
        "rep.call.return", "rep.call.waiting", "rep.whisper", "rep.whisper.language")),
    # Texters waiting in line for a person, and in a chat with one.
    Group("texters asking for a person", "safety.yaml", (SMS,), (
        "chat.connected", "chat.ended", "chat.kept", "chat.left", "chat.left_keeping_place",
        "chat.place", "rate.limited")),
    # Texters who waited long, and the check-in a representative offers after a chat.
    Group("texters, later", "later.yaml", (SMS,), (
        "chat.gave_up", "chat.wait_notice", "checkin.confirmed", "checkin.message",
        "checkin.offer")),
    # Callers waiting in line, and the person a representative calls back.
    Group("callers", "safety.yaml", (VOICE,), (
        "callback.announce", "queue.leave", "queue.position")),
    # Everyone, when the database is down: texters and callers.
    Group("texters and callers when the helpline is offline", "safety.yaml", BOTH, (
        "offline",)),
    # Treatment near a ZIP code: the list of places, and why there is none.
    Group("texters and callers looking for treatment", "treatment_search.yaml", BOTH, (
        "search.call_ahead", "search.found", "search.no_more", "search.no_spanish",
        "search.none", "search.place", "search.unavailable", "search.zip_help",
        "search.zip_po_box", "search.zip_unknown",
        *(f"search.filter.{name}" for name in FILTERS))),
    # What only the texted list of places says.
    Group("texters looking for treatment", "treatment_search.yaml", (SMS,), (
        "search.link", "search.looking", "search.more", "search.offers",
        *(f"search.med.{name}" for name in MEDICATIONS))),
)

DECLARED: dict[str, Group] = {key: group for group in GROUPS for key in group.keys}

# Word lists the code reads itself (the flows name the rest): in content/<lang>/words.yaml.
WORD_LISTS = {
    "callback": "texters waiting for a person, asking to be called back",
    "checkin_yes": "texters answering a check-in",
    "digits": "callers saying a ZIP code in words: the words for 0 to 9, in that order",
}
WORDS_BY_POSITION = {"digits": 10}   # word lists read by position: how many words each has


def read_on(channel: str) -> set[str]:
    """The declared keys the code reads on ``channel`` (for the checker's SMS and voice rules)."""
    return {key for key, group in DECLARED.items() if channel in group.channels}


def problems(languages: dict[str, Language]) -> list[tuple[str, str, str, str]]:
    """(language, key, file where it belongs, what is wrong) for every declared key a
    language lacks, or has with nothing to say on a channel the code reads it on; and every
    declared word list a language lacks or leaves empty."""
    found = []
    for code, lang in languages.items():
        for name, readers in WORD_LISTS.items():
            if not lang.words.get(name):
                found.append((code, name, lang.word_files.get(name, "words.yaml"),
                              f"missing or empty: the helpline's code reads this word list "
                              f"({readers}); add it"))
            elif name in WORDS_BY_POSITION and len(lang.words[name]) != WORDS_BY_POSITION[name]:
                found.append((code, name, lang.word_files.get(name, "words.yaml"),
                              f"has {len(lang.words[name])} words: the code reads them by position "
                              f"({readers}), so it needs exactly {WORDS_BY_POSITION[name]}"))
        for key, group in DECLARED.items():
            entry = lang.entries.get(key)
            if entry is None:
                file = _file_elsewhere(languages, key) or group.file
                found.append((code, key, file, f"missing: the helpline's code reads it "
                              f"({group.readers}); add it"))
                continue
            for channel in group.channels:
                if not entry.for_channel(channel).strip():
                    found.append((code, key, entry.file, f"empty for {channel} ({group.readers})"
                                  ": a person would get nothing"))
    return found


def _file_elsewhere(languages: dict[str, Language], key: str) -> str | None:
    """The file another language keeps the key in."""
    for lang in languages.values():
        if key in lang.entries:
            return lang.entries[key].file
    return None


def require(content: Content) -> None:
    """Refuse content the code would fail on, naming the first problem and how many more."""
    found = problems(content.languages)
    if found:
        code, key, file, message = found[0]
        more = (f" (and {len(found) - 1} more: run `flask --app helpline check`)"
                if found[1:] else "")
        raise ContentError(f"content/{code}/{file}: {key}: {message}{more}")
