"""The SMS channel: Twilio's "A message comes in" webhook, answered with MessagingResponse."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from .engine import Turn
from .security import twilio_signed

bp = Blueprint("sms", __name__)


def render(turn: Turn) -> MessagingResponse:
    """The reply as one Message verb (so a crisis answer can never arrive after the menu),
    then one Message verb with ``to`` per text for someone else, all from the helpline's
    number."""
    response = MessagingResponse()
    if turn.say:
        response.message(turn.text())
    for to, text in turn.outbox:
        response.message(text, to=to)
    return response


def twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.post("/sms")
@twilio_signed
def incoming():
    number = request.form.get("From", "").strip()
    if not number:
        abort(400, "From is missing")
    body = request.form.get("Body", "").replace("\x00", "")
    turn = current_app.extensions["helpline"].text(number, body, request.form.get("MessageSid", ""))
    return twiml(render(turn))


@bp.post("/sms/fallback")
@twilio_signed
def fallback():
    """Twilio's "primary handler fails" URL: crisis words and carrier keywords answered,
    anything else the national numbers; no database is touched."""
    body = request.form.get("Body", "").replace("\x00", "")
    turn = current_app.extensions["helpline"].offline_text(request.form.get("From", "").strip(), body)
    return twiml(render(turn))
