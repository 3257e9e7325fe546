"""The SMS channel: Twilio's "A message comes in" webhook, rendered as TwiML <Message>."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from .engine import Turn
from .security import twilio_signed

bp = Blueprint("sms", __name__)


def render(turn: Turn) -> MessagingResponse:
    """One <Message> per turn, so a crisis answer can never arrive after the menu."""
    response = MessagingResponse()
    if turn.say:
        response.message(turn.text())
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
    turn = current_app.extensions["helpline"].text(number, body)
    return twiml(render(turn))
