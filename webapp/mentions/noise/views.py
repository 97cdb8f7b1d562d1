"""Noise pages: a monitor's "Noise" page (mute list, relevance model), relevance marks on the
mentions page, and applying a lexicon suggestion from the lexicon page.

The page shows the relevance model's hold-out precision and recall before an editor can let it
hide anything; every change goes through the services (mentions/noise.py, scoring/relevance.py,
scoring/suggestions.py), which check input and commit once.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from webapp.core.extensions import db
from webapp.core.forms import add_errors
from webapp.mentions.noise import service as noise
from webapp.monitors.models import Monitor
from webapp.people import access
from webapp.people.auth import page_role
from webapp.scoring import relevance, suggestions

bp = Blueprint("noise", __name__)
MARKS = {"irrelevant": True, "relevant": False, "clear": None}


class MuteForm(FlaskForm):
    authors = TextAreaField("Muted authors", validators=[Length(max=200_000)],
                            description="One author per line; case does not matter.")
    domains = TextAreaField("Muted domains", validators=[Length(max=200_000)],
                            description="One domain per line, e.g. spam.example (its subdomains too).")
    query = StringField("Muted query", validators=[Length(max=noise.MAX_MUTE_QUERY)],
                        description='Mentions matching it are muted, e.g. casino OR "free spins".')


def _monitor(monitor_id: int, role: str = "viewer") -> Monitor:
    """The monitor if the user's team role on it is at least `role` (404 outside their teams)."""
    return access.monitor_or_404(monitor_id, role)


@bp.route("/monitors/<int:monitor_id>/noise", methods=["GET", "POST"])
@page_role("viewer")
def noise_page(monitor_id: int):
    """The mute list (editors change it) and the relevance model's marks, figures and switch."""
    monitor = _monitor(monitor_id)
    rules = noise.get_rules(db.session, monitor.id)
    form = MuteForm(data=None if request.method == "POST" else {
        "authors": "\n".join(sorted(rules.authors)), "domains": "\n".join(rules.domains),
        "query": rules.query.source if rules.query else ""})
    status = 200
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        access.require(monitor, "editor")
        if form.validate_on_submit():
            try:
                checked = noise.check_mutes(form.authors.data or "", form.domains.data or "", form.query.data or "")
            except noise.MutesInvalid as exc:
                add_errors(form, exc.errors)
            else:
                moved = noise.set_mutes(db.session, monitor.id, checked)
                flash(f"Mute list saved: {moved['muted']} stored mentions muted, {moved['unmuted']} unmuted.")
                return redirect(url_for("noise.noise_page", monitor_id=monitor.id))
        status = 400
    return render_template(
        "monitors/noise.html", monitor=monitor, form=form, counts=noise.counts(db.session, monitor.id),
        status=relevance.status(db.session, monitor.id),
        can_edit=access.can_change(monitor),
    ), status


@bp.post("/monitors/<int:monitor_id>/noise/relevance")
@page_role("editor")
def relevance_action(monitor_id: int):
    """`action` = train, enable or disable the monitor's relevance model."""
    monitor = _monitor(monitor_id, "editor")
    action = request.form.get("action", "")
    try:
        if action == "train":
            row = relevance.train_for_monitor(db.session, monitor.id)
            flash(f"Relevance model version {row.version} trained: precision {row.metrics['precision']:.0%}, "
                  f"recall {row.metrics['recall']:.0%} on {row.n_test} held-out mentions. It hides nothing "
                  "until you enable it.")
        elif action in ("enable", "disable"):
            moved = relevance.set_enabled(db.session, monitor.id, action == "enable")
            flash("The relevance model now mutes new mentions it predicts irrelevant." if moved["enabled"] else
                  f"The relevance model hides nothing now ({moved['unmuted']} mentions unmuted).")
        else:
            flash("Unknown action.", "error")
    except relevance.RelevanceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("noise.noise_page", monitor_id=monitor.id))


@bp.post("/monitors/<int:monitor_id>/mentions/<int:mention_id>/relevance")
@page_role("editor")
def mark_relevance(monitor_id: int, mention_id: int):
    """Mark a mention irrelevant / relevant / unmarked (`mark`), then back to the mentions page."""
    monitor = _monitor(monitor_id, "editor")
    mark = request.form.get("mark", "")
    if mark not in MARKS or not 0 < mention_id < 2**63:
        abort(400 if mark not in MARKS else 404)
    try:
        relevance.mark(db.session, monitor.id, mention_id, MARKS[mark])
    except LookupError:
        abort(404)
    flash(f"Mention {mention_id} is marked {mark}." if mark != "clear" else f"Mention {mention_id} is unmarked.")
    back = request.form.get("back", "")
    parts = urlsplit(back)
    mentions_url = url_for("monitors.mentions", monitor_id=monitor.id)
    target = back if not parts.scheme and not parts.netloc and parts.path == mentions_url else mentions_url
    return redirect(f"{target}#mention-{mention_id}")


@bp.post("/monitors/<int:monitor_id>/lexicon/suggestions/<path:word>")
@page_role("editor")
def apply_suggestion(monitor_id: int, word: str):
    monitor = _monitor(monitor_id, "editor")
    try:
        found, adjustment = suggestions.apply(db.session, monitor.id, word[:80], current_user)
    except LookupError:
        flash(f"There is no suggestion for “{word[:80]}” any more.", "error")
    else:
        flash(f"“{adjustment.word}” now has valence {adjustment.valence:+g} for new mentions "
              f"(backtest: {found.changed} stored mentions would change label).")
    return redirect(url_for("mention_tools.lexicon_page", monitor_id=monitor.id))
