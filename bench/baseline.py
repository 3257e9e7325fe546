"""The floor: a bare Flask app that checks the Twilio signature the same way the helpline
does (RequestValidator over the URL and the form) and answers one static TwiML document.
Served by the Procfile's gunicorn command with only the app swapped, it shows what the server,
Flask and the signature check cost before the helpline does any work of its own."""
from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

# Not words for a caller: this app only ever answers the load generator.
SMS = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'
VOICE = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/step" '
         'method="POST" numDigits="1"><Say>ok</Say></Gather></Response>')


def create_app() -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])

    def answer(body: str) -> Response:
        if not validator.validate(request.url, request.form,
                                  request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        return Response(body, mimetype="text/xml")

    @app.post("/sms")
    def sms():
        return answer(SMS)

    @app.post("/voice")
    @app.post("/voice/step")
    def voice():
        return answer(VOICE)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
