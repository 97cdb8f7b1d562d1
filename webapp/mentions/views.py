"""Mention pages beyond the list itself: label overrides, the lexicon page and the exports.

`mentions_page` renders /monitors/<id>/mentions (called by the `mentions` view of
views/monitors.py): search, filters, sort and pages from services/mention_search.py, each
mention with the words that drove its score highlighted (services/highlights.py).
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp.people import access
from webapp.people.auth import page_role
from webapp.mentions.downloads import DownloadInvalid, export_format, mentions_download, series_download
from webapp.core.extensions import db
from webapp.core.forms import add_errors
from webapp.mentions.forms import LexiconForm
from webapp.ingest.models import LABELS
from webapp.monitors.models import Monitor
from webapp.scoring import highlights, lexicon, overrides
from webapp.scoring import suggestions as lexicon_suggestions
from webapp.mentions.inbox import autotag, service as inbox
from webapp.mentions import search as mention_search
from webapp.mentions.inbox.models import STATUSES

bp = Blueprint("mention_tools", __name__)


def mentions_page(monitor: Monitor, args=None, problems: dict | None = None, status: int = 200):
    """The mentions page for `args` (default: the request's query string)."""
    args = request.args if args is None else args
    spec, errors = mention_search.parse_filters(args, current_user.id)
    errors.update(problems or {})
    try:
        found = mention_search.bounded_search(db.session, monitor.id, spec,
                                              current_app.config.get("SEARCH_TIMEOUT_SECONDS", 0))
    except mention_search.SearchTooSlow as exc:
        found, errors["q"] = mention_search.empty_page(spec), str(exc)
        status = 422 if status == 200 else status
    analyzer_for = lexicon.highlight_analyzers(db.session, monitor.id)
    inboxed = inbox.rows(db.session, [m.id for m, _ in found.rows], current_user.id)   # tags, status...
    items = [{"mention": m, "kind": kind,   # the search words are marked too (a term clicked on the dashboard)
              "segments": highlights.mark_terms(highlights.highlight(analyzer_for(m), m.text), found.spec.terms),
              "inbox": inboxed[m.id]} for m, kind in found.rows]
    here = url_for("monitors.mentions", monitor_id=monitor.id, **found.spec.args(page=found.page))
    return render_template(
        "monitors/mentions.html", monitor=monitor, items=items, page=found, spec=found.spec, errors=errors,
        labels=LABELS, sorts=mention_search.SORTS, per_page_options=mention_search.PER_PAGE,
        sources=monitor.sources, here=here, statuses=STATUSES, tags=autotag.tag_names(db.session, monitor.id),
        members=inbox.team_members(db.session, monitor),
        can_edit=access.can_change(monitor), muted_options=mention_search.MUTED,
    ), (400 if errors and status == 200 else status)


def _back_args(monitor: Monitor, back: str) -> MultiDict:
    """The query string of a `back` URL, if it is this monitor's mentions page (else none)."""
    parts = urlsplit(back or "")
    if parts.scheme or parts.netloc or parts.path != url_for("monitors.mentions", monitor_id=monitor.id):
        return MultiDict()
    return MultiDict(parse_qsl(parts.query))


@bp.post("/monitors/<int:monitor_id>/mentions/<int:mention_id>/label")
@page_role("editor")
def set_label(monitor_id: int, mention_id: int):
    """Override a mention's label (`label` = positive/neutral/negative) or restore the scored
    one (`restore`, or an empty `label`); then back to the page the form was on."""
    monitor = access.monitor_or_404(monitor_id, "editor")
    args = _back_args(monitor, request.form.get("back", ""))
    label = None if request.form.get("restore") else ((request.form.get("label") or "").strip() or None)
    try:
        result = overrides.set_label(db.session, monitor.id, mention_id, label, current_user.id)
    except LookupError:
        abort(404)
    except overrides.OverrideInvalid as exc:
        return mentions_page(monitor, args, {"label": str(exc)}, status=400)
    if result.overridden:
        flash(f"Mention {mention_id} is now labelled {result.label} (scored {result.scored_label}).")
    else:
        flash(f"Mention {mention_id} is back to its scored label, {result.label}.")
    query = urlencode(list(args.items(multi=True)))
    target = url_for("monitors.mentions", monitor_id=monitor.id) + (f"?{query}" if query else "")
    return redirect(f"{target}#mention-{mention_id}")


@bp.route("/monitors/<int:monitor_id>/lexicon", methods=["GET", "POST"])
@page_role("viewer")
def lexicon_page(monitor_id: int):
    """The monitor's lexicon adjustments; editors add or change one (a word and its valence)."""
    monitor = access.monitor_or_404(monitor_id)
    form = LexiconForm()
    status = 200
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        if form.validate_on_submit():
            try:
                found = lexicon.set_adjustment(db.session, monitor.id, form.word.data, form.valence.data, current_user)
            except lexicon.LexiconInvalid as exc:
                db.session.rollback()
                add_errors(form, exc.errors)
            else:
                flash(f"“{found.word}” now has valence {found.valence:+g} for new mentions of {monitor.name}.")
                return redirect(url_for("mention_tools.lexicon_page", monitor_id=monitor.id))
        status = 400
    rows = [lexicon.adjustment_dict(a) for a in lexicon.list_adjustments(db.session, monitor.id)]
    suggested = [s.as_dict() for s in lexicon_suggestions.suggest(db.session, monitor.id)]  # with backtests
    return render_template("monitors/lexicon.html", monitor=monitor, form=form, rows=rows, suggestions=suggested,
                           can_edit=access.can_change(monitor)), status


@bp.post("/monitors/<int:monitor_id>/lexicon/remove")
@page_role("editor")
def lexicon_remove(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    word = request.form.get("word", "")
    if lexicon.remove_adjustment(db.session, monitor.id, word):
        flash(f"“{word.strip().lower()}” has VADER's own valence again for new mentions.")
    return redirect(url_for("mention_tools.lexicon_page", monitor_id=monitor.id))


def _download(build):
    try:
        return build()
    except DownloadInvalid as exc:
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return render_template("monitors/export_error.html", message=message), 400


@bp.get("/monitors/<int:monitor_id>/mentions.<any(csv, json):ext>")
@page_role("viewer")
def export_mentions(monitor_id: int, ext: str):
    """The mentions that the page's filters select, every page of them (`?format=ndjson` for NDJSON)."""
    monitor = access.monitor_or_404(monitor_id)

    def build():
        fmt = export_format(request.args, ext) if ext == "json" else "csv"
        spec, errors = mention_search.parse_filters(request.args, current_user.id)
        if errors:
            raise DownloadInvalid(errors)
        return mentions_download(db.session, monitor, spec, fmt)

    return _download(build)


@bp.get("/monitors/<int:monitor_id>/series.<any(csv, json):ext>")
@page_role("viewer")
def export_series(monitor_id: int, ext: str):
    """The monitor's series for `range`/`start`/`end` and `bucket`, as the dashboard shows it."""
    monitor = access.monitor_or_404(monitor_id)

    def build():
        fmt = export_format(request.args, ext) if ext == "json" else "csv"
        return series_download(db.session, monitor, request.args, fmt)

    return _download(build)
