"""For the channels: what a person module asks Twilio to do, and what Twilio reports back.

A *reply* is what the channel must do next (say these lines and listen, ring these
representatives, queue, record...); a *resume* is what Twilio reported on an action URL
(the dial ended, the caller left the queue, a recording). Both are plain values: the person
modules decide them, :mod:`helpline.twiml` renders replies, and nothing else reads an
action string. Every line said carries its language, so each is spoken in its own voice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

Said = tuple[str, str]   # (language, text)


@dataclass
class SmsReply:
    """The texter's answer (one message) and texts to others (a representative, a texter
    in a chat), all from the helpline's number."""

    say: list[str] = field(default_factory=list)
    outbox: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.say)


# -- a caller -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listen:
    """Say, then listen for keys or speech; ``step`` makes the answer's URL."""

    say: tuple[Said, ...]
    lang: str
    step: int
    hints: tuple[str, ...] = ()
    keys: int = 1


@dataclass(frozen=True)
class Ring:
    """Ring representatives (id, number) at once; each hears the whisper first."""

    say: tuple[Said, ...]
    step: int
    call_sid: str
    reps: tuple[tuple[int, str], ...]
    seconds: int | None = None


@dataclass(frozen=True)
class Queue:
    """Everyone is busy: wait in the queue until a representative takes the call."""

    say: tuple[Said, ...]
    step: int


@dataclass(frozen=True)
class Record:
    """A voicemail: a beep, up to two minutes, # to finish."""

    say: tuple[Said, ...]
    step: int


@dataclass(frozen=True)
class Lifeline:
    """Put the caller through to the 988 Lifeline."""

    say: tuple[Said, ...]
    step: int


@dataclass(frozen=True)
class Hangup:
    say: tuple[Said, ...] = ()


@dataclass(frozen=True)
class Offline:
    """The database is away: each language's apology with the national numbers, again
    and again until the caller hangs up."""

    say: tuple[Said, ...]


@dataclass(frozen=True)
class Gone:
    """The caller has hung up: nothing to say."""


@dataclass(frozen=True)
class HoldMessage:
    """Played to a caller waiting in the queue, with hold music and a key to leave."""

    say: tuple[Said, ...]


@dataclass(frozen=True)
class LeaveQueue:
    """A key pressed in the queue: out of it, to the queue's action URL."""


@dataclass(frozen=True)
class Announce:
    """Played to a person called back, before the representative is connected."""

    say: tuple[Said, ...]


# -- a representative's phone ------------------------------------------------------------------
@dataclass(frozen=True)
class Whisper:
    """Played to the representative who picked up: press 1 to take the call."""

    say: tuple[Said, ...]
    rep_id: int | None
    call_sid: str


@dataclass(frozen=True)
class Bridge:
    """The answer to a whisper: join the caller (``taken``), or hang up this leg only."""

    taken: bool


@dataclass(frozen=True)
class AskPasscode:
    say: tuple[Said, ...]
    tries: int


@dataclass(frozen=True)
class RepMenu:
    """How many are waiting; 1 takes the next caller, 2 returns a call by PIN."""

    say: tuple[Said, ...]
    step: int | None


@dataclass(frozen=True)
class TakeQueue:
    """Connect the representative to the longest-waiting caller in the queue."""


@dataclass(frozen=True)
class AskPin:
    say: tuple[Said, ...]
    step: int | None
    tries: int


@dataclass(frozen=True)
class Dialback:
    """Dial the person who asked for a callback, from the helpline's number."""

    say: tuple[Said, ...]
    callback_id: int
    number: str
    lang: str


VoiceReply = (Listen | Ring | Queue | Record | Lifeline | Hangup | Offline | Gone | HoldMessage
              | LeaveQueue | Announce | Whisper | Bridge | AskPasscode | RepMenu | TakeQueue | AskPin
              | Dialback)


# -- what Twilio reports on an action URL ---------------------------------------------------------
@dataclass(frozen=True)
class DialEnded:
    """The ring to representatives ended (DialCallStatus)."""

    status: str


@dataclass(frozen=True)
class LifelineEnded:
    status: str


@dataclass(frozen=True)
class QueueLeft:
    """The caller left the queue (QueueResult: bridged, hangup, leave...)."""

    result: str


@dataclass(frozen=True)
class Recorded:
    url: str
    sid: str
    duration: int


Resume = DialEnded | LifelineEnded | QueueLeft | Recorded
