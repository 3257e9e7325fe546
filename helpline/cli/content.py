"""``flask --app helpline check|crisis-eval|simulate``, for content editors: the content and
flows checked, crisis recognition measured, a conversation tried in the terminal."""
from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import check as checks
from .. import crisis_eval, crisis_model
from .. import simulate as simulator
from .guards import require_content, require_helpline, require_settings


@click.command("check")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every SMS text's encoding and segments, and every voice text's "
                   "length in seconds.")
@with_appcontext
def check_command(verbose: bool) -> None:
    """Check flows/ and content/ before anything reaches a texter or a caller."""
    require_settings(real=False)
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


corpus_option = click.option("--corpus", type=click.Path(exists=True, file_okay=False),
                             default=str(crisis_eval.DEFAULT_CORPUS), show_default=True,
                             help="A folder of <lang>.<part>.yaml files of labelled texts.")


@click.command("crisis-eval")
@corpus_option
@with_appcontext
def crisis_eval_command(corpus: str) -> None:
    """Recall and false positives of crisis recognition, per language and part; every miss."""
    results = crisis_eval.evaluate(require_helpline().engine, corpus)
    for line in crisis_eval.report(results):
        click.echo(line)


@click.command("crisis-train")
@corpus_option
@click.option("--out", type=click.Path(file_okay=False), default=str(crisis_model.MODELS),
              show_default=True, help="Write the models here.")
def crisis_train_command(corpus: str, out: str) -> None:
    """Train the second reader of crisis texts on each language's tuning part (after any
    change to it; the tests check the models are current)."""
    for lang, examples in crisis_eval.training_sets(corpus).items():
        path = crisis_model.model_path(lang, Path(out))
        crisis_model.train(examples, crisis_eval.KINDS).save(path)
        click.echo(f"{lang}: {len(examples)} texts -> {path}")


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
    require_content()
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
