"""``flask --app helpline staff add|remove EMAIL``: console accounts from the command line,
so there is no sign-up page to attack."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..cli import require_helpline
from ..store import utcnow
from .auth import AccountError, add_user, audit, disable_user

staff_cli = AppGroup("staff", help="Staff console accounts.")


def _store():
    return require_helpline().store


@staff_cli.command("add")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def add_command(email: str, password_stdin: bool) -> None:
    """Create an account (or enable a removed one) with a password asked for twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _store().transaction() as db:
            user = add_user(db, email, password, utcnow())
            audit(db, None, f"account {user.id} added", utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{user.email} can now sign in at /staff/login")


@staff_cli.command("remove")
@click.argument("email")
def remove_command(email: str) -> None:
    """Disable an account and end its sessions at once; its audit records stay."""
    try:
        with _store().transaction() as db:
            user = disable_user(db, email)
            if user is not None:
                audit(db, None, f"account {user.id} removed", utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    if user is None:
        raise click.ClickException(f"no account for {email}")
    click.echo(f"{email} can no longer sign in")
