"""`flask --app helpline check`: broken flows and content, each reported with file and key."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from helpline import check, cli, create_app
from helpline.content import ContentError
from helpline.flows import FlowError

from .conftest import settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = ROOT / ".venv" / "bin" / "flask"


def only(findings, file=None, key=None, contains=None):
    """The one finding that matches; fails with everything found when there isn't one."""
    hits = [f for f in findings
            if (file is None or f.file == file) and (key is None or f.key == key)
            and (contains is None or contains in f.message)]
    assert len(hits) == 1, "\n".join(map(str, findings))
    return hits[0]


# -- the shipped content -------------------------------------------------------------------------

def test_shipped_content_has_no_errors():
    errors = [f for f in check.run(ROOT / "content", ROOT / "flows", "en") if f.level == "error"]
    assert errors == [], "\n".join(map(str, errors))


def test_an_untouched_copy_has_no_errors(copy):
    assert copy.findings("error") == []


def test_the_facts_and_safety_files_check_clean_in_every_language():
    """The facts and what keeps people alive: no warning at all, SMS or voice."""
    found = [f for f in check.run(ROOT / "content", ROOT / "flows", "en")
             if f.level not in ("info", "allowed") and f.file.endswith(("/facts.yaml", "/safety.yaml"))]
    assert found == [], "\n".join(map(str, found))


def test_crisis_answers_and_their_next_steps_fit_in_two_segments():
    found = [f for f in check.run(ROOT / "content", ROOT / "flows", "en") if f.level != "info"
             and f.key.startswith(("crisis.kinds", "nodes.overdose_", "nodes.suicide_",
                                   "nodes.crisis_", "nodes.lifeline"))]
    assert found == [], "\n".join(map(str, found))


# -- references ----------------------------------------------------------------------------------

def test_unknown_node(copy):
    copy.replace("flows/main.yaml", "{label: option.facts, words: facts, goto: facts}",
                 "{label: option.facts, words: facts, goto: factz}")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.main.options[1].goto")
    assert "unknown node 'factz'" in found.message and "did you mean 'facts'" in found.message
    assert found.line and "goto: factz" in copy.file("flows/main.yaml").read_text().splitlines()[found.line - 1]


def test_unknown_text_key(copy):
    copy.replace("flows/main.yaml", "facts.xylazine, facts.one_use,", "facts.xylazine, facts.one_usee,")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.facts.pieces[3]")
    assert "text 'facts.one_usee' is in no language's content" in found.message
    assert "did you mean 'facts.one_use'" in found.message


def test_unknown_then_and_home(copy):
    copy.replace("flows/main.yaml", "home: main", "home: mian")
    found = only(copy.findings("error"), "flows/main.yaml", "home")
    assert "unknown node 'mian'" in found.message


def test_a_language_missing_a_key_the_other_has(copy):
    copy.replace("content/es/facts.yaml", "facts.naloxone:", "facts.naloxona:")
    errors = copy.findings("error")
    es = only(errors, "content/es/facts.yaml", "facts.naloxone")
    assert "missing in Español (es): content/en/facts.yaml has it" in es.message
    en = only(errors, "content/en/facts.yaml", "facts.naloxona")
    assert "missing in English (en): content/es/facts.yaml has it" in en.message


def test_a_language_missing_a_word_list_or_a_source(copy):
    copy.replace("content/es/words.yaml", "sources: [fuentes", "fuentes: [fuentes")
    copy.replace("content/en/sources.yaml", "dpa:", "drug_policy:")
    errors = copy.findings("error")
    assert "missing in Español (es)" in only(errors, "content/es/words.yaml", "sources").message
    only(errors, "content/en/sources.yaml", "dpa", "missing in English (en)")


def test_a_node_no_path_reaches(copy):
    copy.replace("flows/main.yaml", "nodes:\n",
                 "nodes:\n  orphan:\n    type: series\n    pieces: [facts.one_use]\n\n")
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.orphan")
    assert "no path reaches this node" in found.message


def test_a_menu_with_no_way_back_to_the_top(copy):
    copy.replace("flows/main.yaml", '  menu: {digits: ["#", "9"], words: menu}\n', "")
    copy.replace("flows/main.yaml", "  back: {words: back}\n", "")
    errors = copy.findings("error")
    found = only(errors, "flows/main.yaml", "nodes.crisis_offer")
    assert "no way back to the main menu ('main')" in found.message
    # a series goes back where it was chosen from, so the facts lead back to the top
    assert not [f for f in errors if f.key == "nodes.facts"]


def test_the_menu_command_alone_is_a_way_back(copy):
    copy.replace("flows/main.yaml", "  back: {words: back}\n", "")
    assert not [f for f in copy.findings("error") if "no way back" in f.message]


def test_no_way_to_a_person_is_reported_not_a_crash(copy):
    copy.replace("flows/main.yaml", '  person: {digits: ["0"], words: person, goto: person}\n', "")
    found = only(copy.findings("error"), "flows/main.yaml", contains="no way to a person")
    assert found.key == "commands"


def test_several_problems_in_one_run(copy):
    copy.replace("flows/main.yaml", "goto: treatment}", "goto: treatmnt}")
    copy.replace("content/es/facts.yaml", "forms.dopamine:", "forms.dopamina:")
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "x " * 400, sources="[nida]")
    errors = copy.findings("error")
    only(errors, "flows/main.yaml", "nodes.main.options[3].goto")
    only(errors, "content/es/facts.yaml", "forms.dopamine")
    only(errors, "content/en/facts.yaml", "facts.stigma", "too long for SMS")


# -- files an editor may get wrong ----------------------------------------------------------------

def test_yaml_that_does_not_load_names_the_line(copy):
    copy.replace("content/en/facts.yaml", 'text: "Can one use lead to addiction? It can.',
                 'text: Can one use lead to addiction? It can: "yes.')
    found = only(copy.findings("error"), "content/en/facts.yaml", contains="not valid YAML")
    assert found.line == 4


def test_a_key_written_twice(copy):
    path = copy.file("content/en/facts.yaml")
    path.write_text(path.read_text() + 'facts.one_use:\n  text: "again"\n  sources: [nida]\n')
    found = only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use", "written twice")
    assert "first on line 3" in found.message


def test_an_unknown_field_and_an_unknown_source(copy):
    copy.replace("content/en/facts.yaml", "  sources: [nida, dpa]\nfacts.dependence:",
                 "  source: [nida, dpa]\nfacts.dependence:")
    copy.replace("content/en/facts.yaml", "sources: [nida]\nfacts.naloxone:",
                 "sources: [nidaa]\nfacts.naloxone:")
    errors = copy.findings("error")
    assert "unknown field(s) ['source']" in only(errors, key="facts.one_use").message
    found = only(errors, "content/en/facts.yaml", "facts.stigma", "unknown source")
    assert "'nidaa' (did you mean 'nida'?)" in found.message


def test_a_broken_placeholder(copy):
    copy.replace("content/en/menus.yaml", '"({n}/{total}) Reply MORE', '"({n/{total}) Reply MORE')
    only(copy.findings("error"), "content/en/menus.yaml", "prompt.series_more", "placeholder")


def test_a_translation_keeps_the_same_placeholders(copy):
    copy.replace("content/es/safety.yaml", "{hours}", "{horas}")
    found = only(copy.findings("warning"), "content/es/safety.yaml", "person.closed", "fills in")
    assert "'text' fills in {horas}, but content/en/safety.yaml fills in {hours}" in found.message


def test_a_placeholder_the_code_cannot_fill_in(copy):
    copy.set_entry("content/en/menus.yaml", "prompt.didnt_get", "Sorry, {channel} failed.",
                   sources=None)
    only(copy.findings("warning"), "content/en/menus.yaml", "prompt.didnt_get",
         "'text' has {channel}, a name the helpline's code cannot fill in")


def test_a_file_that_is_not_read(copy):
    copy.file("content/en/extra.yml").write_text('facts.extra: "x"\n')
    only(copy.findings("warning"), "content/en/extra.yml", contains="only files ending in .yaml")


# -- SMS length ----------------------------------------------------------------------------------

def test_over_four_segments_is_an_error(copy):
    copy.set_entry("content/en/facts.yaml", "facts.one_use", "Plain words. " * 60,
                   sources="[nida, dpa]")
    errors = copy.findings("error")
    entry = only(errors, "content/en/facts.yaml", "facts.one_use")
    assert "too long for SMS (GSM-7, 6 segments" in entry.message
    reply = only(errors, "flows/main.yaml", "nodes.facts.pieces[3]")
    assert "in English (en)" in reply.message and "facts.one_use" in reply.message


def test_over_two_segments_is_a_warning_naming_the_characters_that_forced_ucs2(copy):
    copy.set_entry("content/en/facts.yaml", "facts.dependence",
                   "One use can’t make your body physically dependent. " * 3,
                   sources="[nida, dpa]")
    assert copy.findings("error") == []
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.dependence")
    assert "UCS-2, 3 segments" in found.message
    assert "UCS-2 because of '’' (right single quotation mark; use ' instead)" in found.message


REASON = "carriers want every one of these words in this reply"


def allow_long(copy, rel: str, key: str, reason: str = REASON) -> None:
    copy.replace(rel, f"{key}:\n", f"{key}:\n  long_sms: {reason}\n")


def test_long_sms_allows_a_long_text_and_the_summary_says_why(copy):
    copy.set_entry("content/en/facts.yaml", "facts.dependence",
                   "One use can’t make your body physically dependent. " * 3,
                   sources="[nida, dpa]")
    allow_long(copy, "content/en/facts.yaml", "facts.dependence")
    findings = copy.findings()
    assert not [f for f in findings if f.level == "warning" and "long for SMS" in f.message
                and "Español" not in f.message
                and ("facts.dependence" in f.message or f.key == "facts.dependence")]
    allowed = only(findings, "content/en/facts.yaml", "facts.dependence", REASON)
    assert allowed.level == "allowed"
    assert str(allowed) == (f"allowed: content/en/facts.yaml:{allowed.line}: facts.dependence: "
                            f"over 2 SMS segments: {REASON}")
    lines = check.summary(findings).splitlines()
    assert str(allowed) in lines[:-1]
    assert lines[-1] == check.summary([f for f in findings if f.level != "allowed"])


def test_long_sms_never_allows_over_four_segments(copy):
    copy.set_entry("content/en/facts.yaml", "facts.one_use", "Plain words. " * 60,
                   sources="[nida, dpa]")
    allow_long(copy, "content/en/facts.yaml", "facts.one_use")
    only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use", "too long for SMS")


def test_a_long_sms_nothing_needs_is_a_warning(copy):
    allow_long(copy, "content/en/facts.yaml", "facts.one_use")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.one_use",
         "has long_sms, but no reply with it is over 2 SMS segments: remove long_sms")


def test_long_sms_without_a_reason_is_an_error(copy):
    allow_long(copy, "content/en/facts.yaml", "facts.one_use", reason='""')
    only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use",
         "'long_sms' must say why")


def test_what_a_texter_receives_is_checked_as_composed(copy):
    # Alone, the menu's intro is one segment; with the welcome and the options it is four.
    copy.set_entry("content/en/menus.yaml", "menu.main.intro",
                   "Reply with a number, or a word such as FACTS or TREATMENT, and we will "
                   "answer. Every answer is free and private, and nothing you write is kept. ",
                   voice="Main menu.", sources=None)
    warnings = copy.findings("warning")
    assert not [f for f in warnings if f.key == "menu.main.intro"]
    first = only(warnings, "flows/main.yaml", "start.sms", "in English (en)")
    assert "the first reply to a new texter (welcome + 'main')" in first.message
    assert "3 segments" in first.message


def test_verbose_information_gives_every_sms_texts_encoding():
    info = [f for f in check.run(ROOT / "content", ROOT / "flows") if f.level == "info"]
    found = only(info, "content/en/facts.yaml", "facts.one_use", "SMS text")
    assert "GSM-7, 1 segment" in found.message


# -- what a caller hears ---------------------------------------------------------------------------

def test_voice_urls_symbols_and_digit_runs(copy):
    copy.set_entry("content/en/facts.yaml", "facts.stigma",
                   "Treatment works & people recover. Call 911 or see findtreatment.gov.",
                   sources="[nida]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma",
                 "web address")
    assert "(findtreatment.gov)" in found.message and "add a 'voice' wording" in found.message
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "the symbol &")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "'9 1 1'")


def test_a_voice_variant_is_what_is_checked_when_there_is_one(copy):
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "See findtreatment.gov.",
                   voice="Treatment works.", sources="[nida]")
    assert not [f for f in copy.findings("warning")
                if f.key == "facts.stigma" and "caller" in f.message]
    copy.set_entry("content/en/facts.yaml", "facts.stigma", "See findtreatment.gov.",
                   sources="[nida]")
    only(copy.findings("warning"), "content/en/facts.yaml", "facts.stigma", "web address")


def test_texts_only_texters_get_are_not_checked_for_voice(copy):
    # keyword.help answers HELP by SMS; facts.stigma is also read to callers
    for key, rel in (("keyword.help", "content/en/safety.yaml"),
                     ("facts.stigma", "content/en/facts.yaml")):
        copy.set_entry(rel, key, "Help: see findtreatment.gov.", sources="[samhsa]")
    warnings = copy.findings("warning")
    only(warnings, "content/en/facts.yaml", "facts.stigma", "web address")
    assert not [f for f in warnings if f.key == "keyword.help" and "caller" in f.message]


def test_over_thirty_seconds_spoken_is_a_warning(copy):
    copy.set_entry("content/en/facts.yaml", "facts.naloxone", "Naloxone can help.",
                   voice="Naloxone can reverse an opioid overdose. " * 15, sources="[samhsa]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "facts.naloxone", "seconds")
    assert "about 36 seconds spoken ('voice', at 150 words a minute" in found.message


# -- sources and crisis words --------------------------------------------------------------------

def test_a_fact_without_a_source(copy):
    copy.replace("content/en/facts.yaml", "  sources: [nida, dpa]\nfacts.dependence:",
                 "facts.dependence:")
    found = only(copy.findings("error"), "content/en/facts.yaml", "facts.one_use")
    assert "a fact without a source (its key starts with facts.)" in found.message
    assert "nida, dpa, samhsa, lifeline988" in found.message


def test_families_facts_are_facts(copy):
    copy.replace("content/es/facts.yaml", "  sources: [samhsa_families]\n", "")
    found = only(copy.findings("error"), "content/es/facts.yaml", "families.talk")
    assert "a fact without a source (its key starts with families.)" in found.message
    copy.replace("flows/main.yaml", "pieces: [families.talk, families.support, families.naloxone]",
                 "pieces: [families.talk, families.support]")
    found = only(copy.findings("warning"), "content/en/facts.yaml", "families.naloxone")
    assert "no flow uses this fact" in found.message


def test_crisis_follow_ups_are_checked_like_any_node(copy):
    copy.replace("flows/main.yaml", "    miss: overdose_steps\n  overdose_steps:",
                 "    miss: overdose_stepz\n  overdose_steps:")
    copy.replace("flows/main.yaml", "then: suicide_help,", "then: suicide_hlep,")
    errors = copy.findings("error")
    miss = only(errors, "flows/main.yaml", "nodes.overdose_help.miss")
    assert "unknown node 'overdose_stepz' (did you mean 'overdose_steps'?)" in miss.message
    then = only(errors, "flows/main.yaml", "crisis.kinds.suicide.then")
    assert "unknown node 'suicide_hlep'" in then.message


def test_the_crisis_numbers_are_measured_in_every_miss_and_the_welcome(copy):
    copy.set_entry("content/en/safety.yaml", "crisis.numbers", "Overdose: call 911. " * 8,
                   voice="Overdose: call 9 1 1.")
    english = [f for f in copy.findings("warning") if "in English (en)" in f.message]
    welcome = only(english, "flows/main.yaml", "start.sms")
    assert "(GSM-7, 3 segments, 404 characters" in welcome.message
    assert "crisis.numbers" in welcome.message
    missed = only(english, "flows/main.yaml", "nodes.main")
    assert "after \"didn't get that\"" in missed.message and "crisis.numbers" in missed.message


def test_a_crisis_answer_without_a_source(copy):
    copy.replace("content/es/safety.yaml", "  sources: [samhsa, samhsa_toolkit]\ncrisis.suicide:",
                 "crisis.suicide:")
    found = only(copy.findings("error"), "content/es/safety.yaml", "crisis.overdose")
    assert "a fact without a source (it answers a crisis)" in found.message


def test_prompts_are_not_facts_but_a_phone_number_wants_a_source(copy):
    copy.set_entry("content/en/menus.yaml", "menu.sub.footer",
                   "BACK to go back, or call 1-800-662-4357.", voice="Press 9.", sources=None)
    assert copy.findings("error") == []
    found = only(copy.findings("warning"), "content/en/menus.yaml", "menu.sub.footer")
    assert "gives the number 1-800-662-4357 but names no source" in found.message
    assert not [f for f in copy.findings() if f.key == "crisis.offer" and "source" in f.message]


def test_crisis_word_lists_in_every_language(copy):
    text = copy.file("content/es/crisis.yaml").read_text(encoding="utf-8")
    start, end = text.index("crisis.suicide:"), text.index("ignore:")
    copy.file("content/es/crisis.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    errors = copy.findings("error")
    missing = only(errors, "content/es/crisis.yaml", "crisis.suicide")
    assert "missing: the crisis words for 'suicide' in Español (es)" in missing.message


def test_a_crisis_vocabulary_that_cannot_be_compiled(copy):
    copy.replace("content/en/crisis.yaml", "  - [not, breathing]", "  - [no, breathing]")
    found = only(copy.findings("error"), "content/en/crisis.yaml", "crisis.overdose[7]")
    assert "a bare yes, no, on or off is read as true/false" in found.message
    copy.replace("content/en/crisis.yaml", "  - [no, breathing]", "  - '*od'")
    found = only(copy.findings("error"), "content/en/crisis.yaml", "crisis.overdose[7]")
    assert "a '*' ends a word" in found.message


def test_crisis_groups_and_lists_nobody_uses(copy):
    copy.replace("content/en/crisis.yaml", "groups:\n", "groups:\n  spare: [spare]\n")
    copy.replace("content/en/crisis.yaml", "ignore:\n", "crisis.unknown: [nothing]\n\nignore:\n")
    warnings = copy.findings("warning")
    assert "no line uses this group" in only(warnings, "content/en/crisis.yaml", "groups.spare").message
    assert "no flow uses these crisis words" in only(
        warnings, "content/en/crisis.yaml", "crisis.unknown").message
    missing = only(copy.findings("error"), "content/es/crisis.yaml", "crisis.unknown")
    assert "content/en/crisis.yaml has it; add a translation" in missing.message


def test_what_the_app_itself_refuses_is_an_error_too(copy, monkeypatch):
    def refuse(*args):
        raise FlowError("flows/main.yaml: nodes.main: a rule only the app knows")

    monkeypatch.setattr(check, "load_main_flow", refuse)
    found = only(copy.findings("error"), "flows/main.yaml", "nodes.main")
    assert found.message == "the helpline would not start: a rule only the app knows"


# -- the command, and starting up on broken content -------------------------------------------------

def flask_cli(tmp_path, **overrides) -> FlaskGroup:
    """The `flask` command line, building the app as `flask --app helpline` does."""
    return FlaskGroup(create_app=lambda: create_app(settings(tmp_path, **overrides)))


def test_check_command_on_the_shipped_content(tmp_path):
    app = create_app(settings(tmp_path))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output and "info:" not in result.output
    verbose = app.test_cli_runner().invoke(args=["check", "--verbose"])
    assert "info: content/en/facts.yaml:3: facts.one_use: SMS text: GSM-7, 1 segment" in verbose.output


def test_check_command_reports_broken_content_the_app_cannot_start_with(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    copy.replace("content/es/facts.yaml", "facts.stigma:", "facts.tolerancia:")
    group = flask_cli(tmp_path, CONTENT_DIR=str(copy.content), FLOWS_DIR=str(copy.flows))
    result = CliRunner().invoke(group, ["check"])
    assert result.exit_code == 1, result.output
    assert re.search(r"^error: flows/main\.yaml:\d+: nodes\.main\.options\[2\]\.goto: "
                     r"unknown node 'formz' \(did you mean 'forms'\?\)$", result.output, re.M)
    assert "error: content/es/facts.yaml" in result.output and "facts.stigma" in result.output
    assert "errors" in result.output.splitlines()[-1]


def test_simulate_refuses_broken_content_and_points_to_check(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    group = flask_cli(tmp_path, CONTENT_DIR=str(copy.content), FLOWS_DIR=str(copy.flows))
    result = CliRunner().invoke(group, ["simulate", "sms"], input="hi\n")
    assert result.exit_code != 0
    assert "unknown node 'formz'" in result.output and "flask --app helpline check" in result.output


def test_outside_a_command_broken_content_fails_fast(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with pytest.raises(FlowError, match="unknown node 'formz'"):
        create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))
    copy.replace("content/en/facts.yaml", "sources: [nida]\nfacts.naloxone:", "sources: [x]\nfacts.naloxone:")
    with pytest.raises(ContentError, match="unknown source 'x'"):
        create_app(settings(tmp_path, CONTENT_DIR=str(copy.content)))


def test_flask_run_fails_fast_too(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with click.Context(click.Command("run"), info_name="run"):
        with pytest.raises(FlowError):
            create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))


def test_under_another_command_the_app_serves_nothing_and_keeps_the_error(tmp_path, copy):
    copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    with click.Context(click.Command("check"), info_name="check"):
        app = create_app(settings(tmp_path, FLOWS_DIR=str(copy.flows)))
    assert isinstance(app.extensions[cli.LOAD_ERROR], FlowError)
    assert "helpline" not in app.extensions
    assert app.test_client().post("/sms", data={"From": "+15555550123"}).status_code == 404


@pytest.mark.skipif(not FLASK.exists(), reason="needs the project's .venv (make install)")
@pytest.mark.parametrize("broken", [False, True])
def test_the_real_command_with_dev_mode_and_no_env_file(tmp_path, copy, broken):
    """As CI runs it: `HELPLINE_DEV_MODE=1 flask --app helpline check`, no .env, no secrets;
    the development secrets it generates go to an instance folder of the test's own, never
    into the checkout."""
    if broken:
        copy.replace("flows/main.yaml", "goto: forms}", "goto: formz}")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HELPLINE_", "TWILIO_", "FLASK_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(HELPLINE_DEV_MODE="1", FLASK_SKIP_DOTENV="1", LOG_LEVEL="WARNING",
               DATABASE_URL=f"sqlite:///{tmp_path}/cli.sqlite3",
               HELPLINE_SPOOL_PATH=f"{tmp_path}/spool.jsonl",
               HELPLINE_CONTENT_DIR=str(copy.content), HELPLINE_FLOWS_DIR=str(copy.flows))
    instance = tmp_path / "instance"
    app = f"helpline:create_app(None, {str(instance)!r})"
    result = subprocess.run([str(FLASK), "--app", app, "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert (instance / "dev-secrets.json").exists()
    if broken:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "unknown node 'formz'" in result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 errors" in result.stdout


@pytest.mark.parametrize("prefix", check.FACT_PREFIXES)
def test_every_kind_of_fact_needs_a_source(copy, prefix):
    """One entry of each fact prefix loses its sources (and any number that would be
    flagged for its own reason): the fact rule names the prefix."""
    from helpline.content import Content

    entries = Content.load(copy.content, "en").languages["en"].entries
    key, entry = next((k, e) for k, e in entries.items() if k.startswith(prefix) and e.sources)
    copy.set_entry(f"content/en/{entry.file}", key, "A plain sentence.", sources=None)
    found = only(copy.findings("error"), f"content/en/{entry.file}", key)
    assert f"a fact without a source (its key starts with {prefix}" in found.message


# -- language keys and wording read aloud ------------------------------------------------------------

def test_a_language_key_that_is_also_an_option_is_refused(copy):
    copy.replace("flows/main.yaml", '"8": es', '"2": es')
    found = copy.findings("error")
    assert any("key 2 for 'es' is also an option" in f.message for f in found), found


def test_a_language_key_that_is_also_a_command_is_refused(copy):
    copy.replace("flows/main.yaml", '"8": es', '"*": es')
    found = copy.findings("error")
    assert any("key * for 'es' is also the command 'repeat'" in f.message for f in found), found


def test_voice_prompts_beginning_for_verbing_are_flagged(copy):
    copy.replace("content/en/safety.yaml", 'voice: "To leave a message"', 'voice: "For leaving a message"')
    found = only(copy.findings("warning"), "content/en/safety.yaml", "option.voicemail", "For leaving")
    assert "To leave a message, press 1." in found.message


def test_an_option_composed_as_for_verbing_is_flagged(copy):
    copy.replace("content/en/menus.yaml", 'voice: "{label}, press {digit}."', 'voice: "For {label}, press {digit}."')
    copy.replace("content/en/safety.yaml", 'voice: "To leave a message"', 'voice: "leaving a message"')
    found = only(copy.findings("warning"), "content/en/safety.yaml", "option.voicemail", "For leaving")
    assert 'a caller hears "For leaving a message, press 1."' in found.message


def test_shipped_voice_prompts_do_not_begin_for_verbing():
    assert not [f for f in check.run(ROOT / "content", ROOT / "flows", "en")
                if "is not how a person says it" in f.message]
