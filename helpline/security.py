"""Proof that a request came from Twilio, and keyed hashing of phone numbers."""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from urllib.parse import urlparse

from cryptography.fernet import Fernet, InvalidToken
from flask import abort, current_app, request
from twilio.request_validator import RequestValidator, add_port, get_signature_algorithm, remove_port

from .forms import check_twilio_request

log = logging.getLogger(__name__)


def hash_number(key: str, number: str) -> str:
    """HMAC-SHA256 of a phone number: stable for look-ups, useless without the key."""
    canonical = "".join(number.split())
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


class Vault:
    """Fernet encryption for the few numbers that must be dialled or texted again
    (representatives, callbacks, a texter during a chat)."""

    def __init__(self, key: str):
        self.fernet = Fernet(key)

    def encrypt(self, number: str) -> str:
        return self.fernet.encrypt(number.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            log.error("an encrypted number could not be decrypted (was the key changed?)")
            return None


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL when set, else the request's own URL as seen
    through the trusted proxies (ProxyFix applies X-Forwarded-Proto/Host)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if base:
        query = request.query_string.decode()
        return base + request.path + (f"?{query}" if query else "")
    return request.url


class _Signed:
    """The form as the validator reads it: by ``getall``, which it tries first and Werkzeug's
    MultiDict lacks (``getlist``, its fallback, came after an AttributeError per field)."""

    __slots__ = ("form",)

    def __init__(self, form):
        self.form = form

    def __len__(self) -> int:
        return len(self.form)

    def __iter__(self):
        return iter(self.form)

    def getall(self, name: str) -> list[str]:
        return self.form.getlist(name)


def signed_by_twilio(token: str, url: str, form, signature: str, algorithm: str) -> bool:
    """Twilio's own check (``RequestValidator.validate``) for a form post: the URL may be
    signed with or without its port. The form is signed for the URL as it came, and for the
    other form only when that does not match (Twilio's library computes both every time)."""
    validator, params, parsed = RequestValidator(token), _Signed(form), urlparse(url)
    given = signature.encode("utf-8", "replace")
    try:
        for candidate in (parsed.geturl(), remove_port(parsed) if parsed.port else add_port(parsed)):
            if hmac.compare_digest(validator.compute_signature(candidate, params, algorithm).encode(), given):
                return True
    except ValueError:   # an algorithm this library does not know, or a port that is no number
        log.warning("rejected a request whose Twilio signature could not be checked")
    return False


def twilio_signed(view):
    """Refuse (403) any request whose X-Twilio-Signature does not match, then (400) one
    whose fields are not what Twilio sends (see :mod:`helpline.forms`).

    Only development mode without a token skips the signature check, and start-up says so
    loudly.
    """

    @functools.wraps(view)
    def checked(*args, **kwargs):
        config = current_app.config
        token = config["TWILIO_WEBHOOK_SECRET"] or config["TWILIO_AUTH_TOKEN"]
        if token:
            headers = request.headers
            signature = headers.get("X-Twilio-Signature", "")
            algorithm = get_signature_algorithm(headers.get("X-Twilio-Webhooks-Signature-Settings"))
            if not signed_by_twilio(token, public_url(), request.form, signature, algorithm):
                log.warning("rejected request to %s: bad or missing Twilio signature", request.path)
                abort(403)
        check_twilio_request()
        return view(*args, **kwargs)

    checked.twilio_signed = True  # how tests/test_signatures.py finds a Twilio route anywhere
    return checked
