"""Settings from the environment (12-factor), checked once at start-up.

Every variable is listed in the README and in ``.env.example``. A helpline must not run
half-configured in production: missing secrets stop the start, loudly, unless development
mode is asked for explicitly.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRUE = {"1", "true", "yes", "on"}


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
        "HELPLINE_COORDINATORS": env.get("HELPLINE_COORDINATORS", ""),
        "COORDINATOR_ALERT_MINUTES": _number(env, "COORDINATOR_ALERT_MINUTES", 15),
        "LANGUAGE_FIRST_SECONDS": _number(env, "LANGUAGE_FIRST_SECONDS", 15),
        "PIN_HOURS": _number(env, "PIN_HOURS", 72),
        "PIN_TRIES": _number(env, "PIN_TRIES", 3),
        "MAX_CONTENT_LENGTH": _number(env, "MAX_CONTENT_LENGTH", 64 * 1024),
        "CONTENT_DIR": env.get("HELPLINE_CONTENT_DIR", str(ROOT / "content")),
        "FLOWS_DIR": env.get("HELPLINE_FLOWS_DIR", str(ROOT / "flows")),
    }


def _dev_secrets(instance_path: str) -> dict:
    """Throwaway secrets for development, kept in the instance folder so hashes stay stable
    across restarts of a developer's server."""
    path = Path(instance_path) / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    from cryptography.fernet import Fernet

    values = {"HELPLINE_HASH_KEY": secrets.token_hex(32),
              "HELPLINE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
              "SECRET_KEY": secrets.token_hex(32)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def finish(config: dict, instance_path: str) -> None:
    """Fill development defaults and refuse what would be unsafe in production."""
    dev = config["HELPLINE_DEV_MODE"]
    config["DATABASE_URL"] = database_url(config.get("DATABASE_URL"), instance_path)
    config["PUBLIC_BASE_URL"] = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    secret_names = ("HELPLINE_HASH_KEY", "HELPLINE_ENCRYPTION_KEY", "SECRET_KEY")
    missing = [name for name in secret_names if not config.get(name)]
    if missing and dev:
        generated = _dev_secrets(instance_path)
        for name in missing:
            config[name] = generated[name]
        missing = []
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} (see .env.example), or HELPLINE_DEV_MODE=1 for a "
            "local development server")
    if not config["TWILIO_AUTH_TOKEN"]:
        if not dev:
            raise ConfigError(
                "TWILIO_AUTH_TOKEN is not set: without it no request can be proven to come from "
                "Twilio. Set it, or HELPLINE_DEV_MODE=1 to run without signature checks locally.")
        log.warning("!!! HELPLINE_DEV_MODE with no TWILIO_AUTH_TOKEN: Twilio signatures are NOT "
                    "checked. Never expose this server to the internet. !!!")
    from .hours import Hours, HoursError

    try:
        Hours.parse(config["HELPLINE_HOURS"], config["HELPLINE_TIMEZONE"])
    except HoursError as exc:
        raise ConfigError(f"HELPLINE_HOURS / HELPLINE_TIMEZONE: {exc}") from None
    from .reps import RosterError, check_number

    if config["HELPLINE_NUMBER"]:
        try:
            check_number(config["HELPLINE_NUMBER"])
        except RosterError as exc:
            raise ConfigError(f"HELPLINE_NUMBER: {exc}") from None
    elif not dev:
        raise ConfigError("HELPLINE_NUMBER is not set: it is the caller ID of every call and text "
                          "to a representative, so neither side ever sees the other's number")
    try:
        check_number(config["LIFELINE_NUMBER"])
    except RosterError as exc:
        raise ConfigError(f"HELPLINE_LIFELINE_NUMBER: {exc}") from None
    for name in ("HELPLINE_REPRESENTATIVES", "HELPLINE_COORDINATORS"):
        try:
            for number in filter(None, (n.strip() for n in config[name].split(","))):
                check_number(number)
        except RosterError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    if config["SMS_KEYWORD_REPLIES"] not in ("app", "twilio"):
        raise ConfigError("SMS_KEYWORD_REPLIES must be 'app' or 'twilio'")
    try:
        from cryptography.fernet import Fernet

        Fernet(config["HELPLINE_ENCRYPTION_KEY"])
    except ValueError:
        raise ConfigError("HELPLINE_ENCRYPTION_KEY must be a Fernet key "
                          "(python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())')") from None


def load(instance_path: str, overrides: dict | None = None) -> dict:
    config = from_environment(os.environ, instance_path)
    config.update(overrides or {})
    finish(config, instance_path)
    return config
