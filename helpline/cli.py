"""The ``flask --app helpline ...`` commands, a thin layer over the modules doing the work.

- ``check``: :mod:`helpline.check` on the configured ``flows/`` and ``content/``.
- ``crisis-eval``: :mod:`helpline.crisis_eval`, crisis recognition measured on a corpus.
- ``simulate sms|voice``: :mod:`helpline.simulate`, a conversation in the terminal.
- ``reps add|remove|list|on|off|passcode``: the roster of representatives (:mod:`helpline.reps`).
- ``staff add|remove``: staff console accounts (:mod:`helpline.staff.cli`).
- ``db upgrade|revision``: schema migrations (:mod:`helpline.migrate`).
- ``purge --older-than 30d``: retention (:mod:`helpline.retention`).
- ``worker``: the task queue's consumer (:mod:`helpline.worker`), the Procfile's ``worker:``.

``create_app`` calls :func:`register`, also when the app cannot run, so ``--help`` always
lists every command and each says in one line what is wrong:

- ``LOAD_ERROR``: the content or flows are broken (``check`` says where).
- ``CONFIG_ERROR``: the settings cannot run the real helpline (a secret, the token or the
  number is missing): ``check`` and ``simulate``, which touch no real number and no
  database that matters, run on secrets made up for the process; the others stop.
- ``SETTINGS_ERROR``: a setting is wrong; every command stops.
"""
from __future__ import annotations

import secrets
import sys
from contextlib import contextmanager, nullcontext

import click
from flask import current_app
from flask.cli import with_appcontext

from . import check as checks
from . import crisis_eval, migrate, retention
from . import simulate as simulator
from .coverage import clock, coverage
from .hours import DAYS, UTC
from .roster_input import RosterError, check_number, parse_languages
from .staff.auth import audit
from .store import utcnow

LOAD_ERROR = "helpline.load_error"
CONFIG_ERROR = "helpline.config_error"
SETTINGS_ERROR = "helpline.settings_error"


class SettingsError(click.ClickException):
    """A setting is missing or wrong: one line saying what to set, exit status 2."""

    exit_code = 2


def register(app) -> None:
    from .staff.cli import staff_cli

    for command in (check_command, crisis_eval_command, simulate_command, reps_group, staff_cli,
                    db_group, purge_command, worker_command):
        app.cli.add_command(command)


def _require_settings(real: bool = True) -> None:
    """Stop unless the settings can run the real helpline (``real``) or at least a tool."""
    for key in (SETTINGS_ERROR, CONFIG_ERROR) if real else (SETTINGS_ERROR,):
        error = current_app.extensions.get(key)
        if error is not None:
            raise SettingsError(str(error))


def _require_content() -> None:
    _require_settings(real=False)
    error = current_app.extensions.get(LOAD_ERROR)
    if error is not None:
        raise click.ClickException(
            f"{error}\nThe content or flows are broken: run `flask --app helpline check`.")


def require_helpline():
    """The running helpline, for a command that works on its real database."""
    _require_content()
    _require_settings()
    return current_app.extensions["helpline"]


def _typed(number: str) -> str:
    """A number as typed (``555-123-4567`` reads in the first of CALLBACK_REGIONS)."""
    try:
        return check_number(number, current_app.config["CALLBACK_REGIONS"][0])
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("reps")
def reps_group() -> None:
    """Representatives: who is rung for calls and told about texters."""


@reps_group.command("add")
@click.argument("number")
@click.option("--name", help="How the staff console shows them (never their number).")
@click.option("--off", "off_duty", is_flag=True,
              help="Add them off duty: on duty only in their shifts (see `reps shift add`).")
@click.option("--languages", default=None, metavar="CODES",
              help="Languages they speak, e.g. es,en (default: the helpline's default).")
@with_appcontext
def reps_add(number: str, name: str | None, off_duty: bool, languages: str | None) -> None:
    """Add a representative by number, e.g. +15551234567 or 555-123-4567."""
    helpline = require_helpline()
    number = _typed(number)
    try:
        codes = parse_languages(languages or current_app.config["HELPLINE_DEFAULT_LANGUAGE"],
                                helpline.content.languages)
        with helpline.store.transaction() as db:
            rep, created = helpline.roster(db).add(number, name, utcnow(), on_duty=not off_duty)
            rep.languages = codes
            rep_id = rep.id
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'added' if created else 'already on the roster'}: representative #{rep_id}")


@reps_group.command("remove")
@click.argument("number")
@with_appcontext
def reps_remove(number: str) -> None:
    """Remove a representative; a chat they had open is ended."""
    with _representative(number) as (roster, rep):
        roster.remove(_typed(number), utcnow())
    click.echo("removed")


@reps_group.command("passcode")
@click.argument("number")
@click.option("--generate", is_flag=True, help="Make up a random 8-digit passcode and print it once.")
@with_appcontext
def reps_passcode(number: str, generate: bool) -> None:
    """Set the passcode a representative enters when they call in (6 to 8 digits); caller
    ID alone is easy to forge. Only a keyed hash of it is kept."""
    if generate:
        passcode = f"{secrets.randbelow(10 ** 8):08d}"
    else:
        passcode = click.prompt("Passcode (6 to 8 digits)", hide_input=True,
                                confirmation_prompt=True).strip()
    with _representative(number) as (roster, rep):
        roster.set_passcode(rep, passcode)
        audit(roster.db, None, f"rep {rep.id} passcode set", utcnow())
    click.echo(f"passcode set: {passcode} (shown once; give it to them in person)" if generate
               else "passcode set")


@reps_group.command("list")
@with_appcontext
def reps_list() -> None:
    """Everyone on the roster: duty, calls, and only the last two digits of a number."""
    helpline = require_helpline()
    now = utcnow()
    with helpline.store.transaction() as db:
        roster = helpline.roster(db)
        for rep in roster.all():
            number = roster.number_of(rep) or "??"
            busy = ", on a call" if rep.on_call else ""
            duty = "on duty" if roster.is_on_duty(rep, now) else "off duty"
            click.echo(f"#{rep.id}\t{rep.name or '-'}\t...{number[-2:]}\t{rep.languages}\t"
                       f"{duty}{busy}")


@contextmanager
def _representative(number: str):
    """The representative with this number, in a transaction, or a clear error."""
    helpline = require_helpline()
    number = _typed(number)
    try:
        with helpline.store.transaction() as db:
            roster = helpline.roster(db)
            rep = roster.find(number)
            if rep is None:
                raise click.ClickException("no representative has that number")
            yield roster, rep
    except RosterError as exc:
        raise click.ClickException(str(exc)) from None


def _set_duty(number: str, on_duty: bool) -> None:
    with _representative(number) as (roster, rep):
        if not roster.set_duty(rep, on_duty, utcnow()):
            raise click.ClickException("this representative texted STOP: nothing can reach "
                                       "their phone until they text START")
    click.echo("on duty" if on_duty else "off duty")


@reps_group.command("on")
@click.argument("number")
@with_appcontext
def reps_on(number: str) -> None:
    """Put a representative on duty."""
    _set_duty(number, True)


@reps_group.command("off")
@click.argument("number")
@with_appcontext
def reps_off(number: str) -> None:
    """Take a representative off duty."""
    _set_duty(number, False)


@reps_group.group("shift")
def shift_group() -> None:
    """Weekly shifts, in the helpline's time zone (HELPLINE_TIMEZONE)."""


@shift_group.command("add")
@click.argument("number")
@click.argument("day")
@click.argument("start")
@click.argument("end")
@with_appcontext
def shift_add(number: str, day: str, start: str, end: str) -> None:
    """A weekly shift, e.g. `+15551234567 fri 22:00 02:00` (over midnight is fine)."""
    with _representative(number) as (roster, rep):
        added = roster.add_shift(rep, day, start, end)
    click.echo(f"shift {'added' if added else 'already there'}: {day[:3].lower()} {start}-{end}")


@shift_group.command("remove")
@click.argument("number")
@click.argument("day")
@click.argument("start")
@click.argument("end")
@with_appcontext
def shift_remove(number: str, day: str, start: str, end: str) -> None:
    with _representative(number) as (roster, rep):
        if not roster.remove_shift(rep, day, start, end):
            raise click.ClickException("no such shift")
    click.echo("shift removed")


@shift_group.command("list")
@click.argument("number", required=False)
@with_appcontext
def shift_list(number: str | None) -> None:
    """One representative's shifts, or everyone's."""
    helpline = require_helpline()
    with helpline.store.transaction() as db:
        roster = helpline.roster(db)
        reps = [roster.find(_typed(number))] if number else roster.all()
        for rep in filter(None, reps):
            for shift in roster.shifts(rep):
                click.echo(f"#{rep.id}\t{rep.name or '-'}\t{DAYS[shift.weekday]} {shift.start}-{shift.end}")


@reps_group.command("coverage")
@with_appcontext
def reps_coverage() -> None:
    """The coming week: how many are on shift when, and the gaps (within opening hours)."""
    helpline = require_helpline()
    today = utcnow().replace(tzinfo=UTC).astimezone(helpline.hours.zone).date()
    with helpline.store.transaction() as db:
        windows = helpline.roster(db).windows_by_rep()
    for day in coverage(windows, helpline.hours, today):
        click.echo(day.day.strftime("%a %Y-%m-%d"))
        for start, end, count in day.runs:
            if count:
                click.echo(f"  {clock(start)}-{clock(end)}  {count} on shift")
        gaps = ", ".join(f"{clock(a)}-{clock(b)}" for a, b in day.gaps)
        click.echo(f"  gaps: {gaps or 'none'}")


@click.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations)."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration not yet applied (the Procfile's release step runs this)."""
    migrate.upgrade(require_helpline().store.engine)
    click.echo("database schema is up to date")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the change is, in a few words.")
@with_appcontext
def db_revision(message: str) -> None:
    """For developers: write a migration for what changed in helpline/store.py's models."""
    migrate.revision(require_helpline().store.engine, message)


@click.command("purge")
@click.option("--older-than", "older_than", default=None, metavar="AGE",
              help="e.g. 30d or 12h (default: RETENTION_DAYS days).")
@with_appcontext
def purge_command(older_than: str | None) -> None:
    """Delete conversations and records past retention; opt-outs are kept."""
    helpline = require_helpline()
    try:
        age = retention.parse_age(older_than or f"{current_app.config['RETENTION_DAYS']}d")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with helpline.store.transaction() as db:
        counts, recordings = retention.purge(db, age, utcnow())
    deleted = sum(helpline.api.delete_recording(sid) for sid in recordings)
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items())
               + f"; recordings deleted at Twilio: {deleted} of {len(recordings)}")


@click.command("worker")
@click.option("--threads", type=int, default=None,
              help="Tasks run at once (default: WORKER_THREADS).")
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Run the worker: timers, alerts by REST with retries, check-ins, the daily purge.
    SIGTERM lets the tasks under way finish; Ctrl-C (SIGINT) stops at once."""
    helpline = require_helpline()
    store = current_app.config["REDIS_URL"] and "Redis" or current_app.config["QUEUE_PATH"]
    click.echo(f"worker: queue {current_app.config['QUEUE_NAME']} on {store.split('@')[-1]}")
    helpline.queue.consumer(threads or current_app.config["WORKER_THREADS"]).run()


@click.command("check")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every SMS text's encoding and segments, and every voice text's "
                   "length in seconds.")
@with_appcontext
def check_command(verbose: bool) -> None:
    """Check flows/ and content/ before anything reaches a texter or a caller."""
    _require_settings(real=False)
    config = current_app.config
    findings = checks.run(config["CONTENT_DIR"], config["FLOWS_DIR"],
                          config["HELPLINE_DEFAULT_LANGUAGE"])
    for finding in findings:   # the texts allowed to be long are in the summary
        if finding.level in (checks.WARNING, checks.ERROR) or (
                verbose and finding.level == checks.INFO):
            click.echo(str(finding))
    click.echo(checks.summary(findings))
    if any(f.level == checks.ERROR for f in findings):
        sys.exit(1)


@click.command("crisis-eval")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False),
              default=str(crisis_eval.DEFAULT_CORPUS), show_default=True,
              help="A folder of <lang>.<part>.yaml files of labelled texts.")
@with_appcontext
def crisis_eval_command(corpus: str) -> None:
    """Recall and false positives of crisis recognition, per language and part; every miss."""
    results = crisis_eval.evaluate(require_helpline().engine, corpus)
    for line in crisis_eval.report(results):
        click.echo(line)


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
@click.option("--locator-standin", is_flag=True,
              help="Answer ZIP code searches from a local stand-in of FindTreatment.gov "
                   "(real-looking places), not the real locator.")
@with_appcontext
def simulate_command(channel, lang, number, representatives, script, database,
                     locator_standin) -> None:
    """Text or call the helpline in the terminal: what would be sent or spoken, no Twilio."""
    _require_content()
    stream = script or sys.stdin
    interactive = script is None and stream.isatty()
    try:
        with simulator.locator_standin() if locator_standin else nullcontext() as locator, \
                simulator.throwaway_app(current_app, lang=lang, database=database,
                                        representatives=representatives,
                                        locator=locator) as twilio:
            if interactive:
                click.echo(simulator.banner(channel, number, lang or
                                            twilio.app.config["HELPLINE_DEFAULT_LANGUAGE"]))
            lines = simulator.keyboard_lines() if interactive else (
                line.rstrip("\r\n") for line in stream)
            simulator.run(twilio, channel, lines, click.echo, number=number,
                          echo=not interactive)
    except simulator.SimulateError as exc:
        raise click.ClickException(str(exc)) from None
