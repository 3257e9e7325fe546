"""Every route Twilio calls refuses a request Twilio did not sign, found from the app's own
URL map so that a route added later is covered without anyone remembering to.

A route is Twilio-facing when its blueprint is one of TWILIO_BLUEPRINTS (the channel
adapters: every route in them is a webhook or an action URL), or when its view is wrapped in
``twilio_signed`` wherever it lives. Every other blueprint must be named in OTHER_BLUEPRINTS
(with how it is protected instead), so a new blueprint fails here until someone decides.
"""
from __future__ import annotations

import uuid

from .conftest import CALLER, TOKEN, Twilio, twiml

TWILIO_BLUEPRINTS = {"sms", "voice"}
OTHER_BLUEPRINTS = {
    "staff": "staff accounts and CSRF (tests/test_staff.py walks its routes)",
    "health": "GET /healthz for load balancers, no data",
    "home": "GET / says what the server is and its webhook URLs, no data (tests/test_startup.py)",
}
QUERY = "?s=1"


def twilio_routes(app) -> list[tuple[str, str]]:
    """(path, method) of every Twilio-facing route."""
    routes, unclassified = [], []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0] if "." in rule.endpoint else None
        view = app.view_functions[rule.endpoint]
        if blueprint in TWILIO_BLUEPRINTS:
            assert getattr(view, "twilio_signed", False) is True, f"{rule.rule} is not twilio_signed"
        if blueprint in TWILIO_BLUEPRINTS or getattr(view, "twilio_signed", False):
            path = rule.build({name: 1 for name in rule.arguments})[1]
            routes += [(path, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
        elif blueprint not in OTHER_BLUEPRINTS and rule.endpoint != "static":
            unclassified.append(rule.rule)
    assert unclassified == [], (
        f"classify {unclassified}: a blueprint Twilio calls goes in TWILIO_BLUEPRINTS, any other "
        "in OTHER_BLUEPRINTS with how it is protected")
    paths = {path for path, _ in routes}
    assert {"/sms", "/sms/fallback", "/voice", "/voice/step", "/voice/fallback"} <= paths
    return routes


def form() -> dict:
    """What any of Twilio's webhooks might carry; each route reads the fields it needs."""
    return {"CallSid": "CA" + uuid.uuid4().hex, "MessageSid": "SM" + uuid.uuid4().hex,
            "From": CALLER, "To": "+15555550100", "Body": "hi", "Digits": "1"}


def send(client, path, method, data, signature=None, headers=None):
    headers = dict(headers or {})
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.open(path, method=method, data=data, headers=headers)


def test_every_twilio_route_refuses_unsigned_and_wrongly_signed_requests(app):
    client = app.test_client()
    right, other_token = Twilio(client), Twilio(client, token="another-accounts-token")
    failures = []
    for path, method in twilio_routes(app):
        url = path + QUERY
        data = form()
        cases = {
            "unsigned": None,
            "empty signature": "",
            "another account's token": other_token.validator.compute_signature(
                "http://localhost" + url, data),
            "signed without the query string": right.validator.compute_signature(
                "http://localhost" + path, data),
            "signed over other parameters": right.validator.compute_signature(
                "http://localhost" + url, dict(data, From="+15555550999")),
        }
        for case, signature in cases.items():
            status = send(client, url, method, data, signature).status_code
            if status != 403:
                failures.append((method, url, case, status))
        good = send(client, url, method, data, right.validator.compute_signature(
            "http://localhost" + url, data))
        if good.status_code != 200:
            failures.append((method, url, "rightly signed", good.status_code))
        else:
            twiml(good)
    assert failures == []


def test_behind_public_base_url_action_urls_keep_their_query_string(make_app):
    app = make_app(PUBLIC_BASE_URL="https://helpline.example.org/")
    client = app.test_client()
    public = Twilio(client, base="https://helpline.example.org")
    failures = []
    for path, method in twilio_routes(app):
        url = path + QUERY
        data = form()
        signed = {
            "the public URL": ("https://helpline.example.org" + url, 200),
            "the public URL without its query": ("https://helpline.example.org" + path, 403),
            "the request's own URL": ("http://localhost" + url, 403),
        }
        for case, (signed_url, expected) in signed.items():
            signature = public.validator.compute_signature(signed_url, data)
            status = send(client, url, method, data, signature).status_code
            if status != expected:
                failures.append((method, url, case, status))
    assert failures == []


def test_the_webhook_secret_signs_instead_of_the_auth_token(make_app):
    app = make_app(TWILIO_WEBHOOK_SECRET="the-webhook-signing-secret")
    client = app.test_client()
    by_secret = Twilio(client, token="the-webhook-signing-secret")
    by_token = Twilio(client, token=TOKEN)
    failures = []
    for path, method in twilio_routes(app):
        data = form()
        for case, signer, expected in (("secret", by_secret, 200), ("auth token", by_token, 403)):
            signature = signer.validator.compute_signature("http://localhost" + path, data)
            status = send(client, path, method, data, signature).status_code
            if status != expected:
                failures.append((method, path, case, status))
    assert failures == []


def test_the_secret_also_checks_sha256_signatures_named_in_the_settings_header(make_app):
    app = make_app(TWILIO_WEBHOOK_SECRET="the-webhook-signing-secret")
    client = app.test_client()
    data = {"From": "+15555550123", "Body": "hi", "MessageSid": "SM" + uuid.uuid4().hex}
    settings = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"}
    by_secret = Twilio(client, token="the-webhook-signing-secret").validator
    by_token = Twilio(client, token=TOKEN).validator
    url = "http://localhost/sms"
    assert send(client, "/sms", "POST", data, by_secret.compute_signature(url, data, "HMAC_SHA256"),
                settings).status_code == 200
    assert send(client, "/sms", "POST", data, by_token.compute_signature(url, data, "HMAC_SHA256"),
                settings).status_code == 403
    assert send(client, "/sms", "POST", data, by_secret.compute_signature(url, data),
                settings).status_code == 403


def test_a_url_signed_with_or_without_its_port_passes_as_twilios_library_lets_it(make_app):
    """Twilio's back end signs some URLs with the port and some without; its library accepts
    either, and so does this server, which signs the second form only when the first fails."""
    signer = Twilio(None).validator
    for base, other in (("https://helpline.example.org", "https://helpline.example.org:443"),
                        ("https://helpline.example.org:8443", "https://helpline.example.org")):
        app = make_app(PUBLIC_BASE_URL=base + "/")
        client = app.test_client()
        for signed_url in (base + "/sms", other + "/sms"):
            data = form()
            assert send(client, "/sms", "POST", data, signer.compute_signature(signed_url, data)).status_code == 200
        data = form()
        assert send(client, "/sms", "POST", data, signer.compute_signature(
            "https://elsewhere.example.org/sms", data)).status_code == 403


def test_a_signature_the_server_cannot_check_is_refused_not_an_error(app):
    client = app.test_client()
    data = form()
    signature = Twilio(client).validator.compute_signature("http://localhost/sms", data)
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    assert send(client, "/sms", "POST", data, signature, unknown).status_code == 403
    assert send(client, "/sms", "POST", data, "sïgnature ☎").status_code == 403
    bad_port = {"Host": "localhost:port"}
    assert send(client, "/sms", "POST", data, signature, bad_port).status_code == 403


def test_the_form_is_signed_once_when_the_url_matches_as_it_came(app, monkeypatch):
    from twilio.request_validator import RequestValidator

    computed = []
    original = RequestValidator.compute_signature
    monkeypatch.setattr(RequestValidator, "compute_signature",
                        lambda self, *args: computed.append(args[0]) or original(self, *args))
    assert Twilio(app.test_client()).sms("hi").status_code == 200
    assert computed[-1:] == ["http://localhost/sms"] and len(computed) == 2   # the test's own, then the server's
