"""A texter in the simulator: each line a text, each reply shown with its SMS segments."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from ..check import segment_summary
from .webhooks import Twilio

FROM_LINE = re.compile(r"^(\+[1-9]\d{6,14}):\s?(.*)$")


class Texter:
    """One phone number texting the helpline (a representative's number plays their side)."""

    def __init__(self, twilio: Twilio, number: str, out: Callable[[str], None]):
        self.twilio, self.number, self.out = twilio, number, out
        self.ended = False

    def begin(self) -> None:
        pass

    def send(self, line: str) -> None:
        sender = FROM_LINE.match(line)
        number, line = (sender[1], sender[2]) if sender else (self.number, line)
        root = self.twilio.post("/sms", {
            "From": number, "To": self.twilio.number, "Body": line, "NumMedia": "0",
            "MessageSid": "SM" + secrets.token_hex(16)})
        messages = list(root.iter("Message"))
        if not messages:
            self.out("[no reply]")
        for message in messages:
            text = message.text or ""
            if message.get("to"):
                self.out(f"to {message.get('to')}:")
            self.out(text)
            self.out(f"[{segment_summary(text)}]")

    def finish(self) -> None:
        pass
