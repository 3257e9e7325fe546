"""``flask --app helpline db|purge|worker``, for operators: the schema, retention and the worker."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import migrate, retention
from ..store import utcnow
from .guards import require_helpline


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
    """For developers: write a migration for what changed in helpline/store/models.py."""
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
