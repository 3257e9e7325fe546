"""The SMS channel: Twilio's "A message comes in" webhook, answered with MessagingResponse."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from .conversation import Rejected
from .engine import Turn
from .forms import check_incoming_sms
from .security import twilio_signed

bp = Blueprint("sms", __name__)


@bp.app_errorhandler(Rejected)
def rejected(_error):
    """A request the database refused (see Helpline.transaction) is the request's fault."""
    return Response("the request could not be stored\n", status=400, mimetype="text/plain")


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
    check_incoming_sms()
    body = request.form.get("Body", "").replace("\x00", "")
    turn = current_app.extensions["helpline"].text(request.form["From"], body,
                                                   request.form["MessageSid"])
    return twiml(render(turn))


@bp.post("/sms/fallback")
@twilio_signed
def fallback():
    """Twilio's "primary handler fails" URL: crisis words and carrier keywords answered,
    anything else the national numbers; no database is touched (so no MessageSid is
    needed: nothing is stored that a copy could repeat)."""
    body = request.form.get("Body", "").replace("\x00", "")
    turn = current_app.extensions["helpline"].offline_text(request.form.get("From", "").strip(), body)
    return twiml(render(turn))
