"""The ``flask --app helpline ...`` commands, a thin layer over the modules doing the work.

- ``check``: :mod:`helpline.check` on the configured ``flows/`` and ``content/``.
- ``simulate sms|voice``: :mod:`helpline.simulate`, a conversation in the terminal.

``create_app`` calls :func:`register`. When the content or flows are broken the app still
gets these commands (so ``check`` can say what is wrong) and ``LOAD_ERROR`` holds the error.
"""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from . import check as checks
from . import simulate as simulator

LOAD_ERROR = "helpline.load_error"


def register(app) -> None:
    for command in (check_command, simulate_command):
        app.cli.add_command(command)


@click.command("check")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every SMS text's encoding and segments, and every voice text's "
                   "length in seconds.")
@with_appcontext
def check_command(verbose: bool) -> None:
    """Check flows/ and content/ before anything reaches a texter or a caller."""
    config = current_app.config
    findings = checks.run(config["CONTENT_DIR"], config["FLOWS_DIR"],
                          config["HELPLINE_DEFAULT_LANGUAGE"])
    for finding in findings:
        if verbose or finding.level != checks.INFO:
            click.echo(str(finding))
    click.echo(checks.summary(findings))
    if any(f.level == checks.ERROR for f in findings):
        sys.exit(1)


@click.command("simulate")
@click.argument("channel", type=click.Choice(["sms", "voice"]))
@click.option("--lang", help="Start in this language (e.g. es), as a helpline whose "
                             "HELPLINE_DEFAULT_LANGUAGE it is.")
@click.option("--from", "number", default=simulator.DEFAULT_NUMBER, show_default=True,
              help="The texter's or caller's number; a representative's number plays the "
                   "representative's side.")
@click.option("--representative", "representatives", multiple=True, metavar="NUMBER",
              help="Put this number on duty as a representative (repeatable).")
@click.option("--script", type=click.File("r", encoding="utf-8"),
              help="Read the lines from this file ('-' for stdin) instead of the keyboard.")
@click.option("--database", metavar="URL",
              help="Keep the conversation in this database (default: a throwaway SQLite "
                   "file, deleted afterwards).")
@with_appcontext
def simulate_command(channel, lang, number, representatives, script, database) -> None:
    """Text or call the helpline in the terminal: what would be sent or spoken, no Twilio."""
    error = current_app.extensions.get(LOAD_ERROR)
    if error is not None:
        raise click.ClickException(
            f"{error}\nThe content or flows are broken: run `flask --app helpline check`.")
    stream = script or sys.stdin
    interactive = script is None and stream.isatty()
    try:
        with simulator.throwaway_app(current_app, lang=lang, database=database,
                                     representatives=representatives) as twilio:
            if interactive:
                click.echo(simulator.banner(channel, number, lang or
                                            twilio.app.config["HELPLINE_DEFAULT_LANGUAGE"]))
            lines = simulator.keyboard_lines() if interactive else (
                line.rstrip("\r\n") for line in stream)
            simulator.run(twilio, channel, lines, click.echo, number=number,
                          echo=not interactive)
    except simulator.SimulateError as exc:
        raise click.ClickException(str(exc)) from None
