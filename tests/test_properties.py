"""Property tests: whatever a person sends, in any order, the helpline answers and a person
is always one step away."""
from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpline.engine import Input

from .conftest import Twilio, twiml

WORDS = ["hi", "1", "2", "3", "4", "5", "6", "0", "9", "*", "#", "more", "next", "back", "menu",
         "repeat", "sources", "facts", "treatment", "person", "agent", "help", "HELP", "STOP",
         "START", "ESPAÑOL", "english", "overdose", "quiero morir", "voicemail", "call me",
         "", " ", "😀", "1234567890" * 3, "\x00", "talk to someone"]
texts = st.one_of(st.sampled_from(WORDS), st.text(max_size=300))
voice_inputs = st.one_of(
    st.builds(Input, st.just("digits"), st.sampled_from(list("0123456789*#") + ["abc", "1" * 40])),
    st.builds(Input, st.just("speech"), st.one_of(st.sampled_from(WORDS), st.text(max_size=300))),
    st.just(Input("silence")), st.just(Input("done")), st.just(Input("failed")))
worlds = st.fixed_dictionaries({"open": st.booleans(), "staffed": st.booleans(),
                                "callback_ok": st.booleans(), "last4": st.just("0123")})
PERSON_NODES = {"person", "nobody", "closed"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(texts, min_size=1, max_size=15), world=worlds)
def test_sms_always_answers_and_a_person_is_at_most_two_texts_away(app, messages, world):
    engine = app.extensions["helpline"].engine
    world["staffed"] = world["staffed"] and world["open"]
    state = None
    for message in messages:
        opted_out = bool(state and state["opted_out"])
        turn = engine.handle(state, Input("text", message), "sms", world)
        state = turn.state
        if not opted_out and not state["opted_out"]:
            assert turn.say, (message, state)
            assert all(s.strip() for s in turn.say)
        if not state["opted_out"]:
            person = engine.handle(state, Input("text", "0"), "sms", world)
            if state["node"] is None:  # a new conversation's first text gets the menu first
                person = engine.handle(person.state, Input("text", "0"), "sms", world)
            assert person.state["node"] in PERSON_NODES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=st.lists(voice_inputs, min_size=1, max_size=15), world=worlds)
def test_voice_always_speaks_never_hangs_up_and_0_reaches_a_person(app, inputs, world):
    engine = app.extensions["helpline"].engine
    world["staffed"] = world["staffed"] and world["open"]
    state = engine.handle(None, Input("start"), "voice", world).state
    for inp in inputs:
        ended = state["node"] == "call_ended"
        turn = engine.handle(state, inp, "voice", world)
        state = turn.state
        assert turn.say and all(s.strip() for s in turn.say)
        assert turn.action != "hangup" or inp.kind == "done" or ended  # only after a taken call
        person = engine.handle(state, Input("digits", "0"), "voice", world)
        assert person.state["node"] in PERSON_NODES
        spoken = engine.handle(state, Input("speech", "I need to talk to a person"), "voice", world)
        assert spoken.state["node"] in PERSON_NODES


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(texts, min_size=1, max_size=6), calls=st.lists(voice_inputs, max_size=6))
def test_webhooks_always_answer_with_valid_twiml(app, messages, calls):
    twilio = Twilio(app.test_client())
    number = "+1555" + str(uuid.uuid4().int)[:7]
    for message in messages:
        response = twilio.sms(message, number)
        assert response.status_code == 200
        twiml(response)
    sid = "CA" + uuid.uuid4().hex
    root = twiml(twilio.post("/voice", {"CallSid": sid, "From": number}))
    for inp in calls:
        field = {"digits": "Digits", "speech": "SpeechResult"}.get(inp.kind)
        data = {"CallSid": sid, "From": number, **({field: inp.value} if field else {})}
        action = (root.find("Gather") if root.find("Gather") is not None else root.find("Dial"))
        path = action.get("action") if action is not None else "/voice/step"
        response = twilio.post(path, data)
        assert response.status_code == 200
        root = twiml(response)
        assert root.find("Hangup") is None, "the app never hangs up on a caller"
        assert list(root), "never an empty answer to a caller"
