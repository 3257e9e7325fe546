"""Odd input at the edge: signed requests whose fields are not what Twilio sends get a 400,
never a 500 and never a second action."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from helpline.store import Event

from .conftest import CALLER, TEXTER, Twilio, twiml

ACCOUNT = "AC" + "a" * 32


def sms_form(**extra) -> dict:
    return {"From": TEXTER, "To": "+15555550100", "Body": "hi", "FromZip": "10001",
            "MessageSid": "SM" + uuid.uuid4().hex, **extra}


def contacts_counted(app) -> int:
    with app.extensions["helpline"].store.transaction() as db:
        return db.execute(select(func.count()).select_from(Event).where(Event.name == "contact")).scalar_one()


# -- point 3: SMS de-duplication cannot be dodged --------------------------------------------------

def test_a_copy_with_messagesid_folded_into_fromzip_is_refused(app, twilio):
    """Twilio's signature joins names and values with nothing between, so the copy has the
    original's signature: it must not be acted on again."""
    original = sms_form()
    signature = twilio.validator.compute_signature("http://localhost/sms", original)
    client = app.test_client()
    assert client.post("/sms", data=original, headers={"X-Twilio-Signature": signature}).status_code == 200
    folded = {k: v for k, v in original.items() if k != "MessageSid"}
    folded["FromZip"] = original["FromZip"] + "MessageSid" + original["MessageSid"]
    assert twilio.validator.compute_signature("http://localhost/sms", folded) == signature
    for _ in range(3):
        response = client.post("/sms", data=folded, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 400
    assert contacts_counted(app) == 1


@pytest.mark.parametrize("change", [
    {"MessageSid": ""},
    {"MessageSid": "SM123"},
    {"MessageSid": "SM" + "A" * 32},
    {"MessageSid": "SM" + "a" * 32 + "\n"},
    {"SmsSid": "SM" + "b" * 32},
    {"From": ""},
    {"From": "+1555\n"},
    {"From": "hello there"},
    {"NumMedia": "x"},
    {"FromZip": "1" * 40},
    {"AccountSid": "AC" + "b" * 32},
])
def test_malformed_sms_fields_are_400(make_app, change):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    twilio = Twilio(app.test_client())
    data = {**sms_form(AccountSid=ACCOUNT), **change}
    assert twilio.post("/sms", data).status_code == 400


def test_the_helplines_account_sid_is_required_when_set(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    twilio = Twilio(app.test_client())
    assert twilio.post("/sms", sms_form()).status_code == 400
    assert twilio.post("/sms", sms_form(AccountSid=ACCOUNT)).status_code == 200


def test_well_formed_texts_from_numbers_and_short_codes_pass(twilio):
    sid = "SM" + uuid.uuid4().hex
    assert twilio.post("/sms", sms_form(MessageSid=sid, SmsSid=sid, NumMedia="0")).status_code == 200
    assert twilio.post("/sms", sms_form(From="72345")).status_code == 200
    assert twilio.post("/sms", sms_form(MessageSid="MM" + uuid.uuid4().hex, FromZip="")).status_code == 200
