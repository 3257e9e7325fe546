"""The console's routes. Every one needs a signed-in account except the sign-in page and the
static files (checked once, in :func:`guard`, so a new route cannot forget it), and every
POST needs the form's CSRF token."""
from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from ..forms import recording_url_ok
from ..roster_input import RosterError
from ..store import Voicemail, utcnow
from . import auth, queries, stats

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
               static_folder="static")
csrf = CSRFProtect()
PUBLIC = {"staff.login", "staff.static"}


def helpline():
    return current_app.extensions["helpline"]


def transaction():
    return helpline().store.transaction()


@bp.before_request
def guard():
    csrf.protect()
    g.staff = None
    if "staff" in session:
        with transaction() as db:
            g.staff = auth.session_user(db, session, utcnow())
    if g.staff is None and request.endpoint not in PUBLIC:
        if request.endpoint == "staff.live":
            abort(401)  # the polling script reloads the page, which then asks to sign in
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))


@bp.after_request
def headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # CSRF checks the referrer on https
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; media-src 'self' https:; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(error):
    return render_template("staff/error.html", kind="csrf"), 400


@bp.errorhandler(SQLAlchemyError)
def database_down(error):
    current_app.logger.error("staff console: database error %s", type(error).__name__)
    return render_template("staff/error.html", kind="database"), 503


@bp.app_template_filter("staff_wait")
def wait_filter(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@bp.app_template_filter("staff_local")
def local_filter(at) -> str:
    zone = ZoneInfo(current_app.config["HELPLINE_TIMEZONE"])
    return at.replace(tzinfo=UTC).astimezone(zone).strftime("%a %d %b, %H:%M %Z")


@bp.context_processor
def navigation():
    if g.get("staff") is None:
        return {}
    try:
        with transaction() as db:
            voicemails, callbacks = queries.open_counts(db)
    except SQLAlchemyError:
        voicemails = callbacks = None  # the error page must not fail in turn
    return {"open_voicemails": voicemails, "open_callbacks": callbacks,
            "language_name": lambda code: getattr(
                helpline().content.languages.get(code), "name", code or "–")}


# -- who is on duty, who is waiting ----------------------------------------------------------

@bp.get("")
def home():
    with transaction() as db:
        live = queries.live(helpline(), db, utcnow())
    return render_template("staff/home.html", live=live)


@bp.get("/live")
def live():
    """The live panel alone, for the page's script to swap in every few seconds."""
    with transaction() as db:
        live = queries.live(helpline(), db, utcnow())
    return render_template("staff/_live.html", live=live)


@bp.post("/reps/<int:rep_id>/duty")
def duty(rep_id: int):
    on = request.form.get("on") == "1"
    with transaction() as db:
        if not queries.set_duty(helpline(), db, g.staff, rep_id, on, utcnow()):
            abort(404)
    return redirect(url_for("staff.home"))


# -- shifts ----------------------------------------------------------------------------------

@bp.get("/shifts")
def shifts():
    return _shifts_page()


def _shifts_page(problem: tuple[int, str] | None = None):
    """The page; ``problem`` is (representative, why their change was refused), shown next
    to their forms with what was typed still in them."""
    with transaction() as db:
        page = queries.shifts_page(helpline(), db, utcnow())
    languages = [(code, lang.name) for code, lang in helpline().content.languages.items()]
    return render_template("staff/shifts.html", page=page, languages=languages,
                           problem=problem,
                           typed=request.form if request.endpoint == "staff.shifts_add" else {}
                           ), 400 if problem else 200


def _change_rep(rep_id: int, change):
    """One change to a representative through ``queries``: an unknown one is 404, input the
    roster refuses shows the page again with the reason, nothing changed."""
    try:
        with transaction() as db:
            found = change(db)
    except RosterError as exc:
        return _shifts_page((rep_id, str(exc)))
    if not found:
        abort(404)
    return redirect(url_for("staff.shifts", _anchor=f"rep-{rep_id}"))


def _shift_fields() -> tuple[str, str, str]:
    return tuple(request.form.get(name, "")[:10] for name in ("day", "start", "end"))


@bp.post("/reps/<int:rep_id>/shifts")
def shifts_add(rep_id: int):
    return _change_rep(rep_id, lambda db: queries.add_shift(
        helpline(), db, g.staff, rep_id, *_shift_fields(), utcnow()))


@bp.post("/reps/<int:rep_id>/shifts/remove")
def shifts_remove(rep_id: int):
    return _change_rep(rep_id, lambda db: queries.remove_shift(
        helpline(), db, g.staff, rep_id, *_shift_fields(), utcnow()))


@bp.post("/reps/<int:rep_id>/languages")
def shifts_languages(rep_id: int):
    codes = [code[:10] for code in request.form.getlist("languages")]
    return _change_rep(rep_id, lambda db: queries.set_languages(
        helpline(), db, g.staff, rep_id, codes, utcnow()))


# -- voicemails and callbacks ----------------------------------------------------------------

@bp.get("/voicemails")
def voicemails():
    with transaction() as db:
        items = queries.open_voicemails(db)
    return render_template("staff/voicemails.html", items=items)


@bp.get("/voicemails/<int:vm_id>/audio")
def voicemail_audio(vm_id: int):
    """Sends the browser to Twilio's recording, never through this server: the audio is not
    copied here. Only to Twilio's own recordings of this account, and only until Done. With
"enforce HTTP auth on media" on, Twilio asks for the account's
    credentials (see the README)."""
    with transaction() as db:
        vm = db.get(Voicemail, vm_id)
        url = vm.recording_url if vm is not None and vm.done_at is None else ""
    if not recording_url_ok(url):
        abort(404)
    return redirect(url + ".mp3")


@bp.post("/voicemails/<int:vm_id>/done")
def voicemail_done(vm_id: int):
    with transaction() as db:
        if not queries.voicemail_done(db, g.staff, vm_id, utcnow()):
            abort(404)
    return redirect(url_for("staff.voicemails"))


@bp.get("/callbacks")
def callbacks():
    with transaction() as db:
        items = queries.open_callbacks(db)
    return render_template("staff/callbacks.html", items=items, revealed={})


@bp.post("/callbacks/<int:cb_id>/reveal")
def callback_reveal(cb_id: int):
    """The number is shown in this one answer (never cached, never in a URL) and the reveal
    is written to the audit log."""
    with transaction() as db:
        number = queries.reveal_callback(helpline(), db, g.staff, cb_id, utcnow())
        items = queries.open_callbacks(db)
    if number is None:
        abort(404)
    return render_template("staff/callbacks.html", items=items, revealed={cb_id: number})


@bp.post("/callbacks/<int:cb_id>/done")
def callback_done(cb_id: int):
    with transaction() as db:
        if not queries.callback_done(db, g.staff, cb_id, utcnow()):
            abort(404)
    return redirect(url_for("staff.callbacks"))


# -- statistics ------------------------------------------------------------------------------

@bp.get("/stats")
def stats_page():
    with transaction() as db:
        numbers = stats.collect(db, utcnow(), current_app.config["HELPLINE_TIMEZONE"])
    return render_template("staff/stats.html", stats=numbers, day_chart=stats.day_chart,
                           hbar_chart=stats.hbar_chart)
