"""``GET /``: for whoever sets the helpline up, what this server is, that it runs (and when
Twilio's signatures are not checked), the webhook URLs for the Twilio Console, and where
to go next. No personal data and no setting's value is on it."""
from flask import Blueprint, current_app, render_template, request, url_for

from .config import signatures_unchecked

bp = Blueprint("home", __name__)

# (Twilio Console section, its field, endpoint)
WEBHOOKS = [("Messaging", "A message comes in", "sms.incoming"),
            ("Messaging", "Primary handler fails", "sms.fallback"),
            ("Voice", "A call comes in", "voice.incoming"),
            ("Voice", "Primary handler fails", "voice.fallback")]


@bp.get("/")
def index():
    config = current_app.config
    webhooks = [(section, field, url_for(endpoint, _external=True))
                for section, field, endpoint in WEBHOOKS]
    return render_template("index.html", webhooks=webhooks,
                           dev_mode=config["HELPLINE_DEV_MODE"],
                           unchecked=signatures_unchecked(config),
                           behind_public_url=bool(config["PUBLIC_BASE_URL"]),
                           https=request.scheme == "https")
