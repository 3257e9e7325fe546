"""helpline: an SMS and voice helpline for people affected by heroin and opioid addiction."""
from __future__ import annotations

import logging
import os

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    cli,
    errors,
    staff,  # imported early: its tables must be known before store.migrate()
    texts,
)
from . import config as settings
from .content import Content, ContentError
from .engine import Engine
from .flows import FlowError
from .flows import load as load_flow
from .services import Services
from .store import Store

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: settings, content and flows (loaded and checked once), store, routes.
    ``instance_path`` (default: ``instance/`` in the checkout) holds development secrets."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serving = _serving()
    try:
        app.config.update(settings.load(app.instance_path, test_config))
    except settings.ConfigError as exc:
        if serving:
            if click.get_current_context(silent=True):   # `flask run`: one line, exit 2
                raise cli.SettingsError(str(exc)) from None
            raise
        # Every command still shows in `--help` and says what to set; `check` and `simulate`
        # need no secrets (helpline.cli).
        app.extensions[cli.CONFIG_ERROR] = exc
        try:
            app.config.update(settings.load(app.instance_path, test_config, tools=True))
        except settings.ConfigError as wrong:
            app.extensions[cli.SETTINGS_ERROR] = wrong
            cli.register(app)
            return app
    errors.init(app.config["SENTRY_DSN"])

    if app.config["STAFF_COOKIE_SECURE"]:
        app.after_request(_strict_transport)

    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies)

    try:
        content = Content.load(app.config["CONTENT_DIR"], app.config["HELPLINE_DEFAULT_LANGUAGE"])
        texts.require(content)
        flow = load_flow(app.config["FLOWS_DIR"], content)
    except (ContentError, FlowError) as exc:
        if serving:
            raise
        # Broken content must not stop `flask --app helpline check` from reporting it; the
        # app then serves nothing (no blueprints) and its commands see the error here.
        log.error("content or flows are broken, nothing is served: %s", exc)
        app.extensions[cli.LOAD_ERROR] = exc
        cli.register(app)
        return app
    if cli.CONFIG_ERROR in app.extensions:
        cli.register(app)
        return app
    engine = Engine(flow, content, keyword_replies=app.config["SMS_KEYWORD_REPLIES"] == "app")
    store = Store(app.config["DATABASE_URL"], app.config["DB_CONNECT_TIMEOUT"],
                  app.config["DB_STATEMENT_TIMEOUT_MS"])
    services = Services(engine, store, app.config)
    if store.migrate():
        services.seed_representatives(app.config["HELPLINE_REPRESENTATIVES"])
    app.extensions["helpline"] = services

    from . import health, home, sms, voice, voice_reps

    for module in (sms, voice, voice_reps, health, home):
        app.register_blueprint(module.bp)
    cli.register(app)
    staff.init_app(app)
    if serving and settings.signatures_unchecked(app.config):
        log.warning("!!! HELPLINE_DEV_MODE with no TWILIO_AUTH_TOKEN: Twilio signatures are NOT "
                    "checked. Never expose this server to the internet. !!!")
    return app


def _strict_transport(response):
    """Cookies sent over HTTPS only means the site is HTTPS only: browsers are told to
    never try it over plain HTTP, where a session cookie could be stripped or stolen."""
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _serving() -> bool:
    """True when the app is built to serve callers (gunicorn, ``flask run``) or by the tests:
    then broken settings or content stop it at once. The other ``flask`` commands build it
    while click looks them up, in the context of the ``flask`` group."""
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"
