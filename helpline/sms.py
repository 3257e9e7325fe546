"""For texters and representatives by SMS: Twilio's "A message comes in" webhook and its
fallback, answered with MessagingResponse (:func:`helpline.twiml.sms`)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from . import texter, twiml
from .forms import check_incoming_sms
from .security import twilio_signed
from .webhook import Rejected

bp = Blueprint("sms", __name__)


@bp.app_errorhandler(Rejected)
def rejected(_error):
    """A request the database refused (see helpline.webhook.transaction) is the request's fault."""
    return Response("the request could not be stored\n", status=400, mimetype="text/plain")


def respond(response) -> Response:
    return Response(twiml.text(response), mimetype="text/xml")


@bp.post("/sms")
@twilio_signed
def incoming():
    check_incoming_sms()
    body = request.form.get("Body", "").replace("\x00", "")
    reply = texter.receive(current_app.extensions["helpline"], request.form["From"], body,
                           request.form["MessageSid"])
    return respond(twiml.sms(reply))


@bp.post("/sms/fallback")
@twilio_signed
def fallback():
    """Twilio's "primary handler fails" URL: crisis words and carrier keywords answered,
    anything else the national numbers; no database is touched (so no MessageSid is
    needed: nothing is stored that a copy could repeat)."""
    body = request.form.get("Body", "").replace("\x00", "")
    reply = texter.offline(current_app.extensions["helpline"], request.form.get("From", "").strip(), body)
    return respond(twiml.sms(reply))
