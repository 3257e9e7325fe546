"""Signatures, proxies, start-up refusal, health."""
from __future__ import annotations

import logging
import uuid

import pytest

from helpline import create_app
from helpline.config import ConfigError, database_url
from helpline.security import hash_number

from .conftest import TOKEN, Twilio, settings


def sms_form(body: str = "hi") -> dict:
    return {"From": "+15555550123", "Body": body, "MessageSid": "SM" + uuid.uuid4().hex}


def test_missing_signature_is_403(app):
    response = app.test_client().post("/sms", data={"From": "+15555550123", "Body": "hi"})
    assert response.status_code == 403


def test_wrong_signature_is_403(app):
    response = app.test_client().post("/sms", data={"From": "+15555550123", "Body": "hi"},
                                      headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert response.status_code == 403


def test_signature_over_other_parameters_is_403(app):
    twilio = Twilio(app.test_client())
    signature = twilio.validator.compute_signature("http://localhost/sms", {"From": "+1", "Body": "a"})
    response = app.test_client().post("/sms", data={"From": "+1", "Body": "b"},
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signature_with_another_token_is_403(app):
    assert Twilio(app.test_client(), token="other-token").sms("hi").status_code == 403


def test_sha256_signatures_named_in_the_settings_header_are_accepted(app):
    from twilio.request_validator import RequestValidator

    data = sms_form()
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/sms", data,
                                                          "HMAC_SHA256")
    response = app.test_client().post("/sms", data=data, headers={
        "X-Twilio-Signature": signature,
        "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"})
    assert response.status_code == 200


def test_behind_a_tls_proxy_with_trusted_forwarded_headers(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    twilio = Twilio(app.test_client(), base="https://helpline.example.org")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "helpline.example.org"}
    data = sms_form()
    assert twilio.post("/sms", data, headers=forwarded).status_code == 200
    assert twilio.post("/sms", data).status_code == 403


def test_forwarded_headers_are_ignored_without_trusted_proxies(app):
    twilio = Twilio(app.test_client(), base="https://helpline.example.org")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "helpline.example.org"}
    assert twilio.post("/sms", {"From": "+1", "Body": "hi"}, headers=forwarded).status_code == 403


def test_public_base_url_is_what_twilio_signed(make_app):
    app = make_app(PUBLIC_BASE_URL="https://helpline.example.org/")
    twilio = Twilio(app.test_client(), base="https://helpline.example.org")
    assert twilio.post("/sms", sms_form()).status_code == 200


def test_no_token_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        create_app(settings(tmp_path, TWILIO_AUTH_TOKEN=""))


def test_missing_helpline_number_refuses_to_start(tmp_path):
    """Without it a transferred call would show the caller's own number to a representative."""
    with pytest.raises(ConfigError, match="HELPLINE_NUMBER"):
        create_app(settings(tmp_path, HELPLINE_NUMBER=""))


def test_missing_hash_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="HELPLINE_HASH_KEY"):
        create_app(settings(tmp_path, HELPLINE_HASH_KEY=""))


def test_dev_mode_without_token_starts_unchecked_and_says_so(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    instance = tmp_path / "instance"
    dev = settings(tmp_path, TWILIO_AUTH_TOKEN="", HELPLINE_HASH_KEY="", HELPLINE_DEV_MODE=True)
    app = create_app(dev, instance_path=str(instance))
    assert "NOT checked" in caplog.text
    response = app.test_client().post("/sms", data=sms_form())
    assert response.status_code == 200
    assert (instance / "dev-secrets.json").stat().st_mode & 0o777 == 0o600
    again = create_app(dev, instance_path=str(instance))
    assert again.config["HELPLINE_HASH_KEY"] == app.config["HELPLINE_HASH_KEY"]
    elsewhere = create_app(dev, instance_path=str(tmp_path / "another-instance"))
    assert elsewhere.config["HELPLINE_HASH_KEY"] != app.config["HELPLINE_HASH_KEY"]


def test_heroku_postgres_urls_are_accepted():
    assert database_url("postgres://u:p@h:5432/d", "/x") == "postgresql+psycopg://u:p@h:5432/d"
    assert database_url("", "/inst").startswith("sqlite:////inst/")


def test_number_hash_is_keyed_and_stable():
    assert hash_number("k1", "+15555550123") == hash_number("k1", "+1 555 555 0123")
    assert hash_number("k1", "+15555550123") != hash_number("k2", "+15555550123")
    assert "5555550123" not in hash_number("k1", "+15555550123")


def test_healthz_ok(app):
    assert app.test_client().get("/healthz").status_code == 200


def test_healthz_503_when_the_store_is_unreachable(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


# -- hardening ---------------------------------------------------------------------------------

def test_strict_transport_security_when_cookies_are_secure(make_app):
    secure = make_app().test_client()
    for path in ("/healthz", "/staff/login"):
        assert "max-age=" in secure.get(path).headers["Strict-Transport-Security"]
    local = make_app(STAFF_COOKIE_SECURE=False).test_client()
    assert "Strict-Transport-Security" not in local.get("/staff/login").headers


def test_instance_files_are_private(tmp_path):
    import os

    from helpline.config import _dev_secrets

    app = create_app(settings(tmp_path))
    app.extensions["helpline"].spool.add({"kind": "opt_out", "hash": "x"})
    _dev_secrets(str(tmp_path / "instance"))
    for name in ("helpline.sqlite3", "spool.jsonl", "instance/dev-secrets.json"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o600, name
    assert os.stat(tmp_path / "instance").st_mode & 0o777 == 0o700


def test_staff_session_tokens_are_stored_as_hashes(make_app):
    import hashlib

    from sqlalchemy import select

    from helpline.staff.models import StaffUser

    from .test_staff import EMAIL, Console, add_account

    app = make_app(STAFF_COOKIE_SECURE=False)
    add_account(app)
    console = Console(app)
    assert console.login().status_code == 302
    cookie = console.client.get_cookie("session").value
    token = app.session_interface.get_signing_serializer(app).loads(cookie)["token"]
    with app.extensions["helpline"].store.transaction() as db:
        stored = db.execute(select(StaffUser.session_token).where(StaffUser.email == EMAIL)).scalar_one()
    assert stored != token and stored == hashlib.sha256(token.encode()).hexdigest()
    assert console.signed_in()


@pytest.mark.parametrize("body", ["ＳＴＯＰ", "S\u200bTOP", "\u2060stop\ufeff", "Ｓtop"])
def test_carrier_keywords_are_read_whatever_the_keyboard_sent(twilio, body):
    assert "opted out" in twilio.text(body)
