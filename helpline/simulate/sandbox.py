"""The app the simulator talks to: a copy of the real one on throwaway files, touching nothing real."""
from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager

from flask import Flask

from .webhooks import SimulateError, Twilio

DEFAULT_HELPLINE_NUMBER = "+15555550100"


@contextmanager
def throwaway_app(app, *, lang: str | None = None, database: str | None = None,
                  representatives: Iterable[str] = (), locator: str | None = None):
    """A :class:`Twilio` talking to a copy of ``app`` on a database of its own (and, given
    ``locator``, asking that locator for places near a ZIP code)."""
    from .. import create_app
    from ..config import ConfigError
    from ..content import Content

    languages = Content.load(app.config["CONTENT_DIR"],
                             app.config["HELPLINE_DEFAULT_LANGUAGE"]).languages
    if lang is not None and lang not in languages:
        raise SimulateError(f"no language '{lang}': there are {', '.join(languages)}")
    token = secrets.token_hex(16)
    overrides = {key: value for key, value in app.config.items() if key.isupper()}
    overrides.update(TWILIO_AUTH_TOKEN=token, TWILIO_WEBHOOK_SECRET="", TWILIO_ACCOUNT_SID="",
                     PUBLIC_BASE_URL="", TRUSTED_PROXIES=0,
                     HELPLINE_NUMBER=app.config.get("HELPLINE_NUMBER") or DEFAULT_HELPLINE_NUMBER,
                     REDIS_URL="", QUEUE_IMMEDIATE=True)  # no real queue: tasks run in place
    if "RATE_LIMIT_PER_MINUTE" in overrides:
        overrides["RATE_LIMIT_PER_MINUTE"] = 0   # a script types faster than any texter
    if lang is not None:
        overrides["HELPLINE_DEFAULT_LANGUAGE"] = lang
    if locator is not None:
        overrides["FINDTREATMENT_API_BASE"] = locator
    roster = [n.strip() for n in str(overrides.get("HELPLINE_REPRESENTATIVES") or "").split(",")]
    overrides["HELPLINE_REPRESENTATIVES"] = ",".join(
        dict.fromkeys(n for n in roster + list(representatives) if n))
    folder = tempfile.mkdtemp(prefix="helpline-simulate-")
    overrides["DATABASE_URL"] = database or f"sqlite:///{folder}/simulate.sqlite3"
    # Files the app writes next to its database go to the throwaway folder too, so a real
    # spool of records waiting for the database is never read or emptied here.
    for key in [k for k in overrides if k.endswith("_PATH") and k not in Flask.default_config]:
        overrides[key] = f"{folder}/{key.lower()}"
    sim = None
    # A throwaway schema's migrations and the task queue's notices are not the conversation.
    quiet = {logger: logger.level for logger in map(logging.getLogger, ("helpline.migrate", "huey"))}
    try:
        for logger, level in quiet.items():
            logger.setLevel(max(level, logging.WARNING))
        try:
            sim = create_app(overrides)
        except ConfigError as exc:
            raise SimulateError(str(exc)) from None
        if "helpline" not in sim.extensions:
            raise SimulateError("the helpline did not start, so there is nothing to try")
        yield Twilio(sim, token)
    finally:
        for logger, level in quiet.items():
            logger.setLevel(level)
        if sim is not None and "helpline" in sim.extensions:
            sim.extensions["helpline"].store.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def locator_standin():
    """The address of the FindTreatment.gov stand-in the tests use (recorded-shape places at
    fixed distances from any ZIP code), running until the simulation ends."""
    try:
        from tests.locator_standin import LocatorStandIn
    except ImportError:
        raise SimulateError("--locator-standin needs the project's tests/ folder: run the "
                            "simulator from the project's folder") from None
    standin = LocatorStandIn()
    try:
        yield standin.url
    finally:
        standin.close()
