"""A caller in the simulator: the TwiML the app answers with, carried out as Twilio would.

Each verb is shown as it runs; the next line typed answers the verb that waits (Gather, Dial,
Enqueue, Record), and a representative who answers hears the whisper first.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable

from ..check import spoken_seconds
from .webhooks import SimulateError, Twilio

KEYS = set("0123456789*#")
SPEECH_CONFIDENCE = "0.95"
ANSWER = "answer"
MAX_REDIRECTS = 10


class Caller:
    """One call, following the TwiML the app answers with, as Twilio does."""

    def __init__(self, twilio: Twilio, number: str, out: Callable[[str], None]):
        self.twilio, self.number, self.out = twilio, number, out
        self.sid = "CA" + secrets.token_hex(16)
        self.waiting: tuple[ET.Element, list[ET.Element]] | None = None
        self.hold: ET.Element | None = None     # the Gather of the waiting-in-line music
        self.ended = False
        self.voice: tuple | None = None
        self.spoken = 0.0

    # -- talking to the app --------------------------------------------------------------
    def form(self, **extra) -> dict:
        return {"CallSid": self.sid, "From": self.number, "To": self.twilio.number,
                "Direction": "inbound", "CallStatus": "in-progress", **extra}

    def post(self, url: str, **extra) -> list[ET.Element]:
        return list(self.twilio.post(url, self.form(**extra)))

    def begin(self) -> None:
        self.out(f"(call from {self.number} connected)")
        self.execute(self.post("/voice"))

    def finish(self) -> None:
        if not self.ended:
            self.out("(the caller hangs up)")

    # -- what the app said ---------------------------------------------------------------
    def say(self, verb: ET.Element, prefix: str = "") -> None:
        voice = (verb.get("voice"), verb.get("language"))
        if voice != self.voice and not prefix:
            self.voice = voice
            self.out(f"[voice {voice[0] or 'default'}, {voice[1] or 'default language'}]")
        self.spoken += spoken_seconds(verb.text or "")
        self.out(f"{prefix}Say: {verb.text or ''}")

    def show(self, verb: ET.Element, prefix: str = "") -> None:
        if verb.tag == "Say":
            self.say(verb, prefix)
        elif verb.tag == "Play":
            self.out(f"{prefix}Play: {verb.text or ''}")
        elif verb.tag != "Gather":
            details = " ".join(filter(None, [(verb.text or "").strip()] + [
                f'{k}="{v}"' for k, v in verb.attrib.items()]))
            self.out(f"{prefix}{verb.tag}" + (f": {details}" if details else ""))

    def execute(self, verbs: list[ET.Element], redirects: int = 0) -> None:
        """Carry out verbs until one waits for the caller (Gather, Dial, Enqueue, Record)."""
        self.waiting = None
        while verbs:
            verb = verbs.pop(0)
            if verb.tag in ("Say", "Play"):
                self.show(verb)
            elif verb.tag == "Gather":
                for child in verb:
                    self.show(child)
                self.out(self.describe_gather(verb))
                self.waiting = (verb, verbs)
                return
            elif verb.tag == "Redirect":
                if redirects >= MAX_REDIRECTS:
                    raise SimulateError(f"more than {MAX_REDIRECTS} redirects in a row")
                self.execute(self.post(verb.text or "/voice"), redirects + 1)
                return
            elif verb.tag == "Hangup":
                self.out("Hangup: the call ends")
                self.ended = True
                return
            elif verb.tag == "Dial":
                self.describe_dial(verb)
                self.waiting = (verb, verbs)
                return
            elif verb.tag == "Enqueue":
                self.out(f"Enqueue: the caller waits in line '{(verb.text or '').strip()}'")
                self.waiting = (verb, verbs)
                self.on_hold(verb)
                return
            elif verb.tag == "Record":
                self.out(f"Record: a beep, then up to {verb.get('maxLength', '?')} seconds "
                         "(type 'say: ...' for the message; an empty line records nothing)")
                self.waiting = (verb, verbs)
                return
            else:
                self.show(verb)
        self.out("(no more instructions: Twilio ends the call)")
        self.ended = True

    def describe_gather(self, gather: ET.Element) -> str:
        inputs = gather.get("input", "dtmf").split()
        digits = gather.get("numDigits")
        what = [f"{digits or 'any'} key{'s' if digits != '1' else ''}"] if "dtmf" in inputs else []
        if "speech" in inputs:
            what.append(f"speech ({gather.get('language', 'en-US')})")
        spoken, self.spoken = self.spoken, 0.0
        return (f"Gather: waits {gather.get('timeout', '5')} s for {' or '.join(what)}"
                f"  [about {spoken:.0f} s of speech before it]")

    def describe_dial(self, dial: ET.Element) -> None:
        numbers = [n.text for n in dial if n.tag == "Number"]
        queues = [q.text for q in dial if q.tag == "Queue"]
        if queues:
            self.out(f"Dial: connects to the caller waiting in line '{queues[0]}' "
                     "(an empty line when the call is over)")
        else:
            self.out(f"Dial: rings {', '.join(numbers) or 'nobody'} for up to "
                     f"{dial.get('timeout', '30')} s ('answer' for the first to take the "
                     "call; an empty line: nobody answers)")

    def on_hold(self, enqueue: ET.Element) -> None:
        self.hold = None
        if enqueue.get("waitUrl"):
            for verb in self.twilio.post(enqueue.get("waitUrl"), self.form(QueuePosition="1")):
                if verb.tag == "Gather":
                    self.hold = verb
                    for child in verb:
                        self.show(child)
                else:
                    self.show(verb)
        self.out("(waiting in line: 'answer' when a representative takes the call, a key to "
                 "leave the line, an empty line to keep waiting)")

    # -- what the caller does ------------------------------------------------------------
    def keys_wanted(self) -> int:
        verb = self.waiting[0] if self.waiting else None
        return int(verb.get("numDigits") or 1) if verb is not None and verb.tag == "Gather" else 1

    def send(self, line: str) -> None:
        text = line.strip()
        if self.keys_wanted() > 1 and text and set(text) <= KEYS:
            self.out(f"(presses {' '.join(text)})")   # a ZIP code: the keys go together
            self.send_one(text)
        elif len(text) > 1 and set(text.replace(" ", "")) <= KEYS and self.keys_wanted() == 1:
            for key in text.replace(" ", ""):
                if self.ended:
                    break
                self.out(f"(presses {key})")
                self.send_one(key)
        else:
            self.send_one(text)

    def send_one(self, text: str) -> None:
        if self.ended or self.waiting is None:
            self.out("(the call has ended)")
            self.ended = True
            return
        verb, rest = self.waiting
        handler = {"Gather": self.on_gather, "Dial": self.on_dial, "Enqueue": self.on_enqueue,
                   "Record": self.on_record}[verb.tag]
        handler(verb, rest, text)

    def on_gather(self, gather: ET.Element, rest: list[ET.Element], text: str) -> None:
        inputs = gather.get("input", "dtmf").split()
        data = {}
        if text and set(text) <= KEYS and (len(text) == 1 or self.keys_wanted() > 1):
            if "dtmf" in inputs:
                data = {"Digits": text.rstrip(gather.get("finishOnKey") or "#")}
        elif text:
            words = text[4:].strip() if text.lower().startswith("say:") else text
            if words and "speech" in inputs:
                data = {"SpeechResult": words, "Confidence": SPEECH_CONFIDENCE}
            elif words:
                self.out("(this step listens for keys only: nothing is heard)")
        if data or gather.get("actionOnEmptyResult") == "true":
            self.execute(self.post(gather.get("action") or "/voice", **data))
        else:
            self.execute(rest)

    def on_dial(self, dial: ET.Element, rest: list[ET.Element], text: str) -> None:
        numbers = [n for n in dial if n.tag == "Number"]
        status = "no-answer"
        if any(q.tag == "Queue" for q in dial):
            status = "completed"
        elif text.lower() == ANSWER and numbers:
            status = self.answered(numbers[0])
        else:
            self.out("(nobody answers)")
        if dial.get("action"):
            self.execute(self.post(dial.get("action"), DialCallStatus=status,
                                   DialCallSid="CA" + secrets.token_hex(16)))
        else:
            self.execute(rest)

    def answered(self, number: ET.Element) -> str:
        """The representative at ``number`` picks up, hears the whisper and presses 1."""
        rep = (number.text or "").strip()
        leg = {"CallSid": "CA" + secrets.token_hex(16), "ParentCallSid": self.sid,
               "From": self.twilio.number, "To": rep, "Direction": "outbound-dial"}
        self.out(f"({rep} picks up)")
        if number.get("url"):
            whisper = list(self.twilio.post(number.get("url"), leg))
            gather = next((v for v in whisper if v.tag == "Gather"), None)
            for verb in whisper[:whisper.index(gather) + 1] if gather is not None else whisper:
                for child in ([verb] if verb.tag != "Gather" else list(verb)):
                    self.show(child, prefix=f"  to {rep}: ")
            if gather is not None and gather.get("action"):
                self.out(f"  ({rep} presses 1)")
                reply = list(self.twilio.post(gather.get("action"), dict(leg, Digits="1")))
                if any(v.tag == "Hangup" for v in reply):
                    self.out(f"  ({rep}'s phone hangs up: not connected)")
                    return "completed"
        self.out(f"(connected: the caller talks with {rep} until the call is over)")
        return "completed"

    def on_enqueue(self, enqueue: ET.Element, rest: list[ET.Element], text: str) -> None:
        if text.lower() == ANSWER:
            result = "bridged"
            self.out("(a representative takes the call; when it is over:)")
        elif text in KEYS and len(text) == 1 and self.hold is not None:
            reply = self.twilio.post(self.hold.get("action"), self.form(Digits=text))
            if reply.find("Leave") is None:
                self.on_hold(enqueue)
                return
            result = "leave"
        else:
            self.on_hold(enqueue)
            return
        if enqueue.get("action"):
            self.execute(self.post(enqueue.get("action"), QueueResult=result, QueueTime="30"))
        else:
            self.execute(rest)

    def on_record(self, record: ET.Element, rest: list[ET.Element], text: str) -> None:
        words = text[4:].strip() if text.lower().startswith("say:") else text
        if not words:
            self.execute(rest)
            return
        sid = "RE" + secrets.token_hex(16)
        self.execute(self.post(
            record.get("action"), RecordingSid=sid, Digits="#",
            RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{sid}",
            RecordingDuration=str(max(1, round(spoken_seconds(words))))))
