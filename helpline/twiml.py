"""For the channels: replies rendered as TwiML, with the twilio library's builders only.

Pure: no request, no database. The voice renderer is given how to make an action URL and
the settings it reads, so each reply type is tested on its own (tests/test_twiml.py).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import singledispatchmethod

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from . import replies as r

QUEUE = "helpline"
VOICEMAIL_SECONDS = 120
MAX_HINTS = 500     # Twilio's limit for a Gather's hints
DIGIT_SEQUENCE = "$OOV_CLASS_DIGIT_SEQUENCE"   # speech hint: a run of digits (a ZIP code)
LIFELINE_RING_SECONDS = 60   # the Lifeline answers with its own menu; give it time
DIALBACK_RING_SECONDS = 30
WHISPER_SECONDS = 8
LONG_ENTRY_SECONDS = 4       # more time for a passcode or a PIN than for one key
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def text(response: MessagingResponse | VoiceResponse) -> bytes:
    """The response as the body Twilio reads: the bytes of ``str(response)``. The library's
    elements (``response.xml()``) are written straight to a string, not to UTF-8 through a
    text wrapper and decoded again (a third of the time); only a character UTF-8 cannot
    hold (a lone surrogate) takes the library's own way, which writes it as a reference."""
    try:
        return (DECLARATION + ET.tostring(response.xml(), encoding="unicode")).encode()
    except UnicodeEncodeError:
        return str(response).encode()


def sms(reply: r.SmsReply) -> MessagingResponse:
    """The reply as one Message verb (so a crisis answer can never arrive after the menu),
    then one Message verb with ``to`` per text for someone else, all from the helpline's
    number."""
    response = MessagingResponse()
    if reply.say:
        response.message(reply.text())
    for to, text in reply.outbox:
        response.message(text, to=to)
    return response


@dataclass(frozen=True)
class VoiceSettings:
    url: Callable[..., str]          # (endpoint, **query) -> action URL
    voices: dict[str, str]           # language -> Polly voice
    locales: dict[str, str]          # language -> speech recognition locale
    caller_id: str | None            # the helpline's number, never the caller's
    gather_timeout: int
    dial_timeout: int
    lifeline_number: str
    hold_music_url: str


class Voice:
    """A caller's answer always listens again, rings a person, queues, or records; the app
    hangs up only after a call a representative took has ended. Representatives hear a
    whisper on their own leg and must press 1, so their voicemail can never swallow a
    caller."""

    def __init__(self, settings: VoiceSettings):
        self.s = settings

    def say(self, target, said) -> None:
        for lang, text in said:
            target.say(text, voice=self.s.voices.get(lang), language=self.s.locales.get(lang))

    @singledispatchmethod
    def render(self, reply) -> VoiceResponse:
        raise TypeError(f"no TwiML for {type(reply).__name__}")

    @render.register
    def _(self, reply: r.Listen) -> VoiceResponse:
        response, url = VoiceResponse(), self.s.url("voice.step", s=reply.step)
        hints = ((DIGIT_SEQUENCE,) if reply.keys > 1 else ()) + reply.hints
        gather = response.gather(
            input="dtmf speech", action=url, method="POST", num_digits=reply.keys,
            timeout=self.s.gather_timeout, speech_timeout="auto", finish_on_key="",
            action_on_empty_result=True, language=self.s.locales.get(reply.lang),
            hints=", ".join(hints[:MAX_HINTS]) or None)
        self.say(gather, reply.say)
        response.redirect(url, method="POST")
        return response

    @render.register
    def _(self, reply: r.Ring) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        dial = response.dial(action=self.s.url("voice.dial_status", s=reply.step), method="POST",
                             caller_id=self.s.caller_id, timeout=reply.seconds or self.s.dial_timeout)
        for rep_id, number in reply.reps:
            dial.number(number, url=self.s.url("voice_reps.whisper", rep=rep_id, call=reply.call_sid),
                        method="POST")
        return response

    @render.register
    def _(self, reply: r.Queue) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        response.enqueue(QUEUE, wait_url=self.s.url("voice.queue_wait"), wait_url_method="POST",
                         action=self.s.url("voice.queue_left", s=reply.step), method="POST")
        return response

    @render.register
    def _(self, reply: r.Record) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        response.record(action=self.s.url("voice.recorded", s=reply.step), method="POST",
                        max_length=VOICEMAIL_SECONDS, finish_on_key="#", play_beep=True, timeout=10)
        response.redirect(self.s.url("voice.step", s=reply.step), method="POST")  # nothing recorded
        return response

    @render.register
    def _(self, reply: r.Lifeline) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        response.dial(action=self.s.url("voice.lifeline_ended", s=reply.step), method="POST",
                      timeout=LIFELINE_RING_SECONDS).number(self.s.lifeline_number)
        return response

    @render.register
    def _(self, reply: r.Hangup) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        response.hangup()
        return response

    @render.register
    def _(self, reply: r.Offline) -> VoiceResponse:
        """Heard again until the caller hangs up: it loops through /voice/fallback, which
        needs no database."""
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=1, action=self.s.url("voice.fallback"),
                                 method="POST", timeout=3)
        self.say(gather, reply.say)
        response.redirect(self.s.url("voice.fallback"), method="POST")
        return response

    @render.register
    def _(self, reply: r.Gone) -> VoiceResponse:
        return VoiceResponse()

    @render.register
    def _(self, reply: r.HoldMessage) -> VoiceResponse:
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=1, action=self.s.url("voice.queue_key"),
                                 method="POST", timeout=1)
        self.say(gather, reply.say)
        gather.play(self.s.hold_music_url)
        return response

    @render.register
    def _(self, reply: r.LeaveQueue) -> VoiceResponse:
        response = VoiceResponse()
        response.leave()
        return response

    @render.register
    def _(self, reply: r.Announce) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        return response

    @render.register
    def _(self, reply: r.Whisper) -> VoiceResponse:
        return self._keys(reply.say, self.s.url("voice_reps.whisper_answer", rep=reply.rep_id, call=reply.call_sid),
                          WHISPER_SECONDS)

    @render.register
    def _(self, reply: r.Bridge) -> VoiceResponse:
        """Empty TwiML ends the whisper and bridges; a hangup ends this leg only."""
        response = VoiceResponse()
        if not reply.taken:
            response.hangup()
        return response

    @render.register
    def _(self, reply: r.AskPasscode) -> VoiceResponse:
        return self._keys(reply.say, self.s.url("voice_reps.rep_passcode", tries=reply.tries),
                          self.s.gather_timeout + LONG_ENTRY_SECONDS, digits=8, finish_on_key="#")

    @render.register
    def _(self, reply: r.AskPin) -> VoiceResponse:
        return self._keys(reply.say, self.s.url("voice_reps.rep_pin", s=reply.step, tries=reply.tries),
                          self.s.gather_timeout + LONG_ENTRY_SECONDS, digits=6, finish_on_key="#")

    @render.register
    def _(self, reply: r.RepMenu) -> VoiceResponse:
        return self._keys(reply.say, self.s.url("voice_reps.rep_take", s=reply.step), self.s.gather_timeout)

    def _keys(self, said, action: str, timeout: int, digits: int = 1, **more) -> VoiceResponse:
        """Keys from a representative; silence hangs up their leg."""
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=digits, method="POST", action=action,
                                 timeout=timeout, **more)
        self.say(gather, said)
        response.hangup()
        return response

    @render.register
    def _(self, reply: r.TakeQueue) -> VoiceResponse:
        response = VoiceResponse()
        response.dial(action=self.s.url("voice_reps.rep_after"), method="POST").queue(QUEUE)
        return response

    @render.register
    def _(self, reply: r.Dialback) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, reply.say)
        dial = response.dial(action=self.s.url("voice_reps.dialback_done", cb=reply.callback_id),
                             method="POST", caller_id=self.s.caller_id, timeout=DIALBACK_RING_SECONDS)
        dial.number(reply.number, url=self.s.url("voice.dialback_announce", lang=reply.lang), method="POST")
        return response
