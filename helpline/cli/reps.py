"""``flask --app helpline reps ...``, for operators: the roster of representatives, their
duty, passcodes and weekly shifts, and the week's coverage (:mod:`helpline.reps`)."""
from __future__ import annotations

import secrets
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from ..coverage import clock, coverage
from ..hours import DAYS, UTC
from ..roster_input import RosterError, check_number, parse_languages
from ..staff.auth import audit
from ..store import utcnow
from .guards import require_helpline


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
