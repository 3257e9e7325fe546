"""What Twilio's webhooks may carry, checked at the edge before anything acts on it.

A signature proves who sent the parameters, not that they are the ones Twilio meant: the
signature joins names and values with no separator, so ``FromZip=10001`` and
``MessageSid=SM...`` can be re-signed-equal as one field ``FromZip=10001MessageSidSM...``.
Every field the app reads is therefore matched whole (``fullmatch``, never ``$``, which
also accepts a trailing newline) and bounded; a request that fails is answered 400.

What a caller chooses (keys pressed, words said) is not checked here: anything they do
gets a spoken answer, never an error.
"""
from __future__ import annotations

import re

from flask import abort, current_app, request

NUMBER = r"\+[1-9][0-9]{1,14}"
SID_HEX = "[0-9a-f]{32}"
MESSAGE_SID = re.compile(f"(SM|MM){SID_HEX}")
# The only recordings stored and followed: Twilio's own, of this account when it is known.
RECORDING_URL = re.compile(
    f"https://api\\.twilio\\.com/2010-04-01/Accounts/(?P<account>AC{SID_HEX})/Recordings/RE{SID_HEX}")
# Twilio's CallSids are CA and 32 hex digits; letters are allowed here so hand-made test
# calls work, the length is what keeps a row's key in bounds.
CALL_SID = r"CA[0-9A-Za-z]{1,32}"
FIELDS = {
    "MessageSid": MESSAGE_SID.pattern,
    "SmsSid": MESSAGE_SID.pattern,
    "SmsMessageSid": MESSAGE_SID.pattern,
    "AccountSid": f"AC{SID_HEX}",
    # SMS from a number or a short code; a call's From may also be Twilio's word for a
    # withheld number ("anonymous", "Restricted") or a SIP address.
    "From": r"[+0-9A-Za-z:@._-]{0,64}",
    "To": r"[+0-9A-Za-z:@._-]{0,64}",
    "NumMedia": r"[0-9]{1,2}",
    "FromZip": r"[0-9A-Za-z -]{0,10}",
    "CallSid": CALL_SID,
    "ParentCallSid": CALL_SID,
    "DialCallSid": CALL_SID,
    "RecordingSid": f"RE{SID_HEX}",
    "RecordingDuration": r"-?[0-9]{1,5}",
    "RecordingUrl": RECORDING_URL.pattern,
    "DialCallStatus": r"[a-z-]{0,20}",
    "CallStatus": r"[a-z-]{0,20}",
    "QueueResult": r"[a-z-]{0,20}",
    "QueuePosition": r"[0-9]{0,4}",
    "StirVerstat": r"[A-Za-z0-9-]{0,40}",
}
SMS_FROM = re.compile(f"{NUMBER}|[0-9]{{3,8}}")
# Numbers in the action URLs this app writes itself: a step, a try, a row id.
ARGS = {"s": r"[0-9]{1,9}", "tries": r"[0-9]{1,2}", "rep": r"[0-9]{1,9}", "cb": r"[0-9]{1,9}",
        "call": f"({CALL_SID})?", "lang": r"[a-z]{0,8}"}
_FIELDS = {name: re.compile(pattern) for name, pattern in FIELDS.items()}
_ARGS = {name: re.compile(pattern) for name, pattern in ARGS.items()}


def bad(reason: str):
    abort(400, reason)


def check_twilio_request() -> None:
    """Every field and action-URL argument the app reads, whole and bounded; AccountSid the
    helpline's own when TWILIO_ACCOUNT_SID is set."""
    form, args = request.form, request.args   # each read through the request proxy once
    for name, pattern in _FIELDS.items():
        if name in form:
            values = form.getlist(name)
            for value in values:
                if not pattern.fullmatch(value):
                    bad(f"{name} is not well-formed")
            if len(values) > 1:
                bad(f"{name} is given twice")
    for name, pattern in _ARGS.items():
        value = args.get(name)
        if value is not None and not pattern.fullmatch(value):
            bad(f"{name} is not well-formed")
    account = current_app.config["TWILIO_ACCOUNT_SID"]
    if account and form.get("AccountSid", account) != account:
        bad("AccountSid is not this helpline's")
    if account and "RecordingUrl" in form and not recording_url_ok(form["RecordingUrl"]):
        bad("RecordingUrl is not this helpline's")


def recording_url_ok(url: str) -> bool:
    """A recording at Twilio's API, of this helpline's account when TWILIO_ACCOUNT_SID is set."""
    match = RECORDING_URL.fullmatch(url or "")
    account = current_app.config["TWILIO_ACCOUNT_SID"]
    return match is not None and (not account or match["account"] == account)


def check_incoming_sms() -> None:
    """A text must name its MessageSid (the key that makes Twilio's retries act once), the
    same as SmsSid when both are sent, and come from a number or a short code."""
    form = request.form
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        bad("MessageSid is missing")
    for twin in ("SmsSid", "SmsMessageSid"):
        if twin in form and form[twin] != sid:
            bad(f"{twin} differs from MessageSid")
    if not SMS_FROM.fullmatch(form.get("From", "")):
        bad("From is not a phone number")
    if current_app.config["TWILIO_ACCOUNT_SID"] and "AccountSid" not in form:
        bad("AccountSid is missing")


def duration(value: str) -> int:
    """RecordingDuration in seconds, checked above to be at most five digits."""
    return max(0, int(value or "0"))
