"""Settings from the environment (12-factor), checked once at start-up.

Every variable is listed in the README and in ``.env.example``. A helpline must not run
half-configured in production: missing secrets stop the start, loudly, unless development
mode is asked for explicitly (``check`` and ``simulate``, which need none, make them up).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRUE = {"1", "true", "yes", "on"}
log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """The environment cannot run a safe helpline; the message says what to set."""


def _bool(value: str | None, default: bool = False) -> bool:
    return default if value in (None, "") else value.strip().lower() in TRUE


def _number(env, name: str, default, kind=int):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def database_url(raw: str | None, instance_path: str) -> str:
    """Heroku hands out ``postgres://``; SQLAlchemy wants ``postgresql+psycopg://``."""
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "helpline.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _voices(raw: str) -> dict[str, str]:
    voices = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        lang, _, voice = part.partition("=")
        if not voice:
            raise ConfigError(f"HELPLINE_VOICES: '{part}' should look like en=Polly.Joanna")
        voices[lang.strip()] = voice.strip()
    return voices


def from_environment(env, instance_path: str) -> dict:
    return {
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_WEBHOOK_SECRET": env.get("TWILIO_WEBHOOK_SECRET", ""),
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE", ""),
        "HELPLINE_NUMBER": env.get("HELPLINE_NUMBER", ""),
        "HELPLINE_DEV_MODE": _bool(env.get("HELPLINE_DEV_MODE")),
        "HELPLINE_HASH_KEY": env.get("HELPLINE_HASH_KEY", ""),
        "HELPLINE_ENCRYPTION_KEY": env.get("HELPLINE_ENCRYPTION_KEY", ""),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "STAFF_COOKIE_SECURE": _bool(env.get("STAFF_COOKIE_SECURE"), True),
        "DATABASE_URL": database_url(env.get("DATABASE_URL"), instance_path),
        "DB_CONNECT_TIMEOUT": _number(env, "DB_CONNECT_TIMEOUT", 2),
        "DB_STATEMENT_TIMEOUT_MS": _number(env, "DB_STATEMENT_TIMEOUT_MS", 1500),
        "DB_RETRY_SECONDS": _number(env, "DB_RETRY_SECONDS", 5),
        "RATE_LIMIT_PER_MINUTE": _number(env, "RATE_LIMIT_PER_MINUTE", 20),
        "RETENTION_DAYS": _number(env, "RETENTION_DAYS", 30),
        "SPOOL_PATH": env.get("HELPLINE_SPOOL_PATH", str(Path(instance_path) / "spool.jsonl")),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", ""),
        "SENTRY_DSN": env.get("SENTRY_DSN", ""),
        "TRUSTED_PROXIES": _number(env, "TRUSTED_PROXIES", 0),
        "SESSION_IDLE_MINUTES": _number(env, "SESSION_IDLE_MINUTES", 30),
        "SMS_KEYWORD_REPLIES": env.get("SMS_KEYWORD_REPLIES", "app").strip().lower(),
        "HELPLINE_DEFAULT_LANGUAGE": env.get("HELPLINE_DEFAULT_LANGUAGE", "en"),
        "HELPLINE_VOICES": _voices(env.get("HELPLINE_VOICES", "en=Polly.Joanna,es=Polly.Lupe")),
        "SPEECH_MIN_CONFIDENCE": _number(env, "SPEECH_MIN_CONFIDENCE", 0.4, float),
        "GATHER_TIMEOUT": _number(env, "GATHER_TIMEOUT", 6),
        "HELPLINE_REPRESENTATIVES": env.get("HELPLINE_REPRESENTATIVES", ""),
        "HELPLINE_HOURS": env.get("HELPLINE_HOURS", ""),
        "HELPLINE_TIMEZONE": env.get("HELPLINE_TIMEZONE", "America/New_York"),
        "DIAL_TIMEOUT": _number(env, "DIAL_TIMEOUT", 25),
        "LIFELINE_NUMBER": env.get("HELPLINE_LIFELINE_NUMBER", "+18002738255"),
        "HOLD_MUSIC_URL": env.get(
            "HOLD_MUSIC_URL", "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"),
        "CHAT_WAIT_NOTICE_MINUTES": _number(env, "CHAT_WAIT_NOTICE_MINUTES", 10),
        "PLACE_KEEP_MINUTES": _number(env, "PLACE_KEEP_MINUTES", 5),
        "CHAT_RENOTIFY_MINUTES": _number(env, "CHAT_RENOTIFY_MINUTES", 5),
        "CHAT_ESCALATE_MINUTES": _number(env, "CHAT_ESCALATE_MINUTES", 15),
        "CHAT_GIVE_UP_MINUTES": _number(env, "CHAT_GIVE_UP_MINUTES", 45),
        "CHAT_IDLE_MINUTES": _number(env, "CHAT_IDLE_MINUTES", 20),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "REDIS_TLS_VERIFY": _bool(env.get("REDIS_TLS_VERIFY"), True),
        "QUEUE_PATH": env.get("HELPLINE_QUEUE_PATH", str(Path(instance_path) / "queue.sqlite3")),
        "QUEUE_NAME": env.get("HELPLINE_QUEUE_NAME", "helpline"),
        "QUEUE_IMMEDIATE": False,
        "WORKER_THREADS": _number(env, "WORKER_THREADS", 4),
        "PURGE_HOUR": _number(env, "PURGE_HOUR", 4),
        "HELPLINE_COORDINATORS": env.get("HELPLINE_COORDINATORS", ""),
        "COORDINATOR_ALERT_MINUTES": _number(env, "COORDINATOR_ALERT_MINUTES", 15),
        "LANGUAGE_FIRST_SECONDS": _number(env, "LANGUAGE_FIRST_SECONDS", 15),
        "CALLBACK_REGIONS": env.get("CALLBACK_REGIONS", "US"),
        "PIN_HOURS": _number(env, "PIN_HOURS", 72),
        "PIN_TRIES": _number(env, "PIN_TRIES", 3),
        "AUTH_FAILURES_PER_REP": _number(env, "AUTH_FAILURES_PER_REP", 10),
        "AUTH_FAILURES_PER_HOUR": _number(env, "AUTH_FAILURES_PER_HOUR", 50),
        "MAX_CONTENT_LENGTH": _number(env, "MAX_CONTENT_LENGTH", 64 * 1024),
        "FINDTREATMENT_API_BASE": env.get("FINDTREATMENT_API_BASE", ""),
        "FINDTREATMENT_WAIT_SECONDS": _number(env, "FINDTREATMENT_WAIT_SECONDS", 4.5, float),
        "CONTENT_DIR": env.get("HELPLINE_CONTENT_DIR", str(ROOT / "content")),
        "FLOWS_DIR": env.get("HELPLINE_FLOWS_DIR", str(ROOT / "flows")),
    }


def _new_secrets() -> dict:
    from cryptography.fernet import Fernet

    return {"HELPLINE_HASH_KEY": secrets.token_hex(32),
            "HELPLINE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "SECRET_KEY": secrets.token_hex(32)}


def _dev_secrets(instance_path: str) -> dict:
    """Throwaway secrets for development, kept in the instance folder so hashes stay stable
    across restarts of a developer's server."""
    path = Path(instance_path) / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = _new_secrets()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(private_file(path), "w", encoding="utf-8") as f:
        f.write(json.dumps(values))
    return values


def private_file(path) -> Path:
    """Create ``path`` readable by this user only (0600) if it does not exist yet: secrets,
    the SQLite database and the spool hold what nobody else on the machine may read."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


def finish(config: dict, instance_path: str, tools: bool = False) -> None:
    """Fill development defaults and refuse what would be unsafe in production.

    ``tools``: for the commands that touch no real number and no database that matters
    (``check``, ``simulate``): missing secrets are made up for this process only, and no
    token or number is needed. Every value that is set must still be right.
    """
    dev = config["HELPLINE_DEV_MODE"]
    config["DATABASE_URL"] = database_url(config.get("DATABASE_URL"), instance_path)
    config["PUBLIC_BASE_URL"] = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    secret_names = ("HELPLINE_HASH_KEY", "HELPLINE_ENCRYPTION_KEY", "SECRET_KEY")
    missing = [name for name in secret_names if not config.get(name)]
    if missing and (dev or tools):
        generated = _dev_secrets(instance_path) if dev else _new_secrets()
        for name in missing:
            config[name] = generated[name]
        missing = []
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} (see .env.example), or HELPLINE_DEV_MODE=1 for a "
            "local development server")
    if not config["TWILIO_AUTH_TOKEN"] and not (dev or tools):
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: without it no request can be proven to come from "
            "Twilio. Set it, or HELPLINE_DEV_MODE=1 to run without signature checks locally.")
    from .hours import Hours, HoursError

    try:
        Hours.parse(config["HELPLINE_HOURS"], config["HELPLINE_TIMEZONE"])
    except HoursError as exc:
        raise ConfigError(f"HELPLINE_HOURS / HELPLINE_TIMEZONE: {exc}") from None
    from .numbers import parse_regions
    from .roster_input import RosterError, check_number

    if isinstance(config["CALLBACK_REGIONS"], str):
        try:
            config["CALLBACK_REGIONS"] = parse_regions(config["CALLBACK_REGIONS"])
        except ValueError as exc:
            raise ConfigError(f"CALLBACK_REGIONS: {exc}") from None
    region = config["CALLBACK_REGIONS"][0]
    if config["HELPLINE_NUMBER"]:
        try:
            check_number(config["HELPLINE_NUMBER"], region)
        except RosterError as exc:
            raise ConfigError(f"HELPLINE_NUMBER: {exc}") from None
    elif not (dev or tools):
        raise ConfigError("HELPLINE_NUMBER is not set (see .env.example): it is the caller ID of "
                          "every call and text to a representative, so neither side ever sees "
                          "the other's number")
    try:
        check_number(config["LIFELINE_NUMBER"], region)
    except RosterError as exc:
        raise ConfigError(f"HELPLINE_LIFELINE_NUMBER: {exc}") from None
    for name in ("HELPLINE_REPRESENTATIVES", "HELPLINE_COORDINATORS"):
        try:
            for number in filter(None, (n.strip() for n in config[name].split(","))):
                check_number(number, region)
        except RosterError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    if not config["REDIS_URL"] and not config["DATABASE_URL"].startswith("sqlite"):
        log.warning("the task queue is the local file %s: the web process and the worker must "
                    "share this disk; on Heroku or with several machines set REDIS_URL",
                    config["QUEUE_PATH"])
    if config["SMS_KEYWORD_REPLIES"] not in ("app", "twilio"):
        raise ConfigError("SMS_KEYWORD_REPLIES must be 'app' or 'twilio'")
    try:
        from cryptography.fernet import Fernet

        Fernet(config["HELPLINE_ENCRYPTION_KEY"])
    except ValueError:
        raise ConfigError("HELPLINE_ENCRYPTION_KEY must be a Fernet key "
                          "(python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())')") from None


def load(instance_path: str, overrides: dict | None = None, tools: bool = False) -> dict:
    config = from_environment(os.environ, instance_path)
    config.update(overrides or {})
    finish(config, instance_path, tools)
    return config


def signatures_unchecked(config: dict) -> bool:
    """No token to check X-Twilio-Signature with (only development mode starts so): any
    request is taken to come from Twilio."""
    return not (config["TWILIO_WEBHOOK_SECRET"] or config["TWILIO_AUTH_TOKEN"])
