"""What a command needs before it runs: settings that work and content that loads.

``create_app`` records why the app cannot run in ``app.extensions`` and still registers every
command, so ``--help`` always lists them all and each says in one line what is wrong:

- ``LOAD_ERROR``: the content or flows are broken (``check`` says where).
- ``CONFIG_ERROR``: the settings cannot run the real helpline (a secret, the token or the
  number is missing): ``check`` and ``simulate``, which touch no real number and no
  database that matters, run on secrets made up for the process; the others stop.
- ``SETTINGS_ERROR``: a setting is wrong; every command stops.
"""
from __future__ import annotations

import click
from flask import current_app

LOAD_ERROR = "helpline.load_error"
CONFIG_ERROR = "helpline.config_error"
SETTINGS_ERROR = "helpline.settings_error"


class SettingsError(click.ClickException):
    """A setting is missing or wrong: one line saying what to set, exit status 2."""

    exit_code = 2


def require_settings(real: bool = True) -> None:
    """Stop unless the settings can run the real helpline (``real``) or at least a tool."""
    for key in (SETTINGS_ERROR, CONFIG_ERROR) if real else (SETTINGS_ERROR,):
        error = current_app.extensions.get(key)
        if error is not None:
            raise SettingsError(str(error))


def require_content() -> None:
    require_settings(real=False)
    error = current_app.extensions.get(LOAD_ERROR)
    if error is not None:
        raise click.ClickException(
            f"{error}\nThe content or flows are broken: run `flask --app helpline check`.")


def require_helpline():
    """The running helpline, for a command that works on its real database."""
    require_content()
    require_settings()
    return current_app.extensions["helpline"]
