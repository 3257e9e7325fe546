"""Errors reach a person: Sentry (sentry-sdk's Flask integration) when SENTRY_DSN is set.

What leaves the machine is scrubbed first: no request body, form, query, cookies or
headers; no local variables; no exception message (it may quote a text: the type and the
stack trace say where it failed); log messages as their templates only; and any phone
number left anywhere is masked. A caller's number or a texter's words must never end up in
someone else's error tracker.
"""
from __future__ import annotations

import re

NUMBER = re.compile(r"\+?[0-9][0-9 ().-]{5,}[0-9]")
MASK = "[number]"
DROPPED = "[scrubbed]"
KEPT_HEADERS = {"User-Agent", "Content-Type", "Content-Length"}


def _mask(value):
    if isinstance(value, str):
        return NUMBER.sub(MASK, value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def scrub(event: dict, _hint=None) -> dict:
    """Sentry's before_send: keep what says where and why it failed, drop what says who."""
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers") or {}
        event["request"] = {"method": request.get("method"),
                            "url": NUMBER.sub(MASK, (request.get("url") or "").split("?")[0]),
                            "headers": {k: v for k, v in headers.items() if k in KEPT_HEADERS}}
    event.pop("user", None)
    event.pop("extra", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        exception["value"] = DROPPED
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    if "logentry" in event:  # the template, which is code; never its values
        event["logentry"] = {"message": _mask(event["logentry"].get("message")), "params": []}
        event.pop("message", None)
    elif "message" in event:
        event["message"] = _mask(event["message"])
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict):
        crumbs["values"] = [scrub_breadcrumb(c) for c in crumbs.get("values") or []]
    return event


def scrub_breadcrumb(crumb: dict, _hint=None) -> dict:
    return {"timestamp": crumb.get("timestamp"), "category": crumb.get("category"),
            "level": crumb.get("level"), "message": _mask(crumb.get("message"))}


def init(dsn: str, transport=None) -> bool:
    """Start reporting when a DSN is set; False (and nothing imported) when it is not."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    options = {"transport": transport} if transport is not None else {}
    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], send_default_pii=False,
                    include_local_variables=False, max_request_body_size="never",
                    before_send=scrub, before_breadcrumb=scrub_breadcrumb, **options)
    return True
