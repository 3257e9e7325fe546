"""Try the helpline in a terminal: the real engine, content and webhooks, no Twilio, no server.

``flask --app helpline simulate sms|voice`` reads lines (from the keyboard, a file or stdin)
and prints exactly what would be sent or spoken. Nothing is copied from the webhooks: each
line is a signed POST to the app's own ``/sms`` or ``/voice`` URLs through Flask's test
client, so it goes through the person modules (:mod:`helpline.texter`, :mod:`helpline.caller`)
and the TwiML renderer like a real text or call, and the TwiML that comes back is read the way Twilio
reads it (a Gather verb's action gets the next key, a Dial verb rings, and so on).

The app is built again by ``create_app`` with the same settings but a throwaway SQLite file
(unless a database is given) and throwaway files (``*_PATH`` settings, such as the spool), a
signing token of its own and no Twilio account, so nothing real is touched and nothing can
be sent. It needs no secrets: without them the app it copies was built on made-up ones.
The per-number rate limit is off: a script sends lines faster than anyone types.

SMS input: a line is a text from the texter; a line ``+15555550901: ACCEPT`` is a text from
that number instead, so a representative's side (``--representative``) can be played in the
same conversation: the waiting, the chat and what follows it.

Voice input: a key (``1``, ``0``, ``*``, ``#``; ``12`` presses 1 then 2), ``say: words`` to
speak, an empty line for silence; ``answer`` when the call rings representatives or waits
in line, to have the first one take it.

This module is the terminal loop; :mod:`~helpline.simulate.sandbox` builds the copy of the app,
:mod:`~helpline.simulate.webhooks` posts to it, and :mod:`~helpline.simulate.texter` and
:mod:`~helpline.simulate.caller` play the person texting or calling.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from .caller import Caller
from .sandbox import locator_standin, throwaway_app
from .texter import Texter
from .webhooks import SimulateError, Twilio

__all__ = ["DEFAULT_NUMBER", "Caller", "SimulateError", "Texter", "Twilio", "banner", "keyboard_lines",
           "locator_standin", "run", "throwaway_app"]

DEFAULT_NUMBER = "+12025550142"  # a valid US line, so callbacks are offered


def run(twilio: Twilio, channel: str, lines: Iterable[str], out: Callable[[str], None], *,
        number: str = DEFAULT_NUMBER, echo: bool = True) -> None:
    """Feed each line to a texter or caller and print what comes back. ``echo`` prints each
    line first (as ``> line``), so a scripted run reads as a conversation."""
    person = Texter(twilio, number, out) if channel == "sms" else Caller(twilio, number, out)
    person.begin()
    out("")
    for line in lines:
        if echo:
            out(f"> {line}")
        person.send(line)
        out("")
        if person.ended:
            break
    person.finish()


def keyboard_lines(prompt: str = "> "):
    """Lines typed at a terminal, until Ctrl-D."""
    while True:
        try:
            yield input(prompt)
        except EOFError:
            print()
            return


def banner(channel: str, number: str, lang: str) -> str:
    if channel == "sms":
        return (f"Texting the helpline from {number} ({lang}). Type a message and press Enter "
                "('+NUMBER: text' texts from another number, such as a representative's); "
                "Ctrl-D ends.")
    return (f"Calling the helpline from {number} ({lang}). Type a key (1, 0, *, #), "
            "'say: words' to speak, or an empty line for silence; Ctrl-D hangs up.")
