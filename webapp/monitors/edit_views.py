"""The monitor edit page (editors): name, query, sources, "Test this query", and deleting a monitor.

"Test this query" posts the same form to the preview endpoint, which saves nothing and shows
which stored mentions of the last 7 days the typed query matches, the matching words marked
(server-side, escaped). It needs no script, so it works under the Content-Security-Policy.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from webapp.core import runtime
from webapp.people import access
from webapp.people.auth import page_role
from webapp.core.extensions import db
from webapp.monitors.forms import DeleteForm, MonitorEditForm
from webapp.monitors.models import Monitor
from webapp.monitors.services import preview as previews
from webapp.monitors.services.edit import monitor_counts, update_monitor
from webapp.monitors.services.manage import MonitorInvalid, delete_monitor, source_summary
from webapp.monitors.source_forms import SourceInputs, page_status, prober, saved_message, submit
from webapp.core.query import QueryError
from webapp.core.numbers import whole_number

bp = Blueprint("monitor_edit", __name__)


def _ids(name: str) -> set[int]:
    """Source ids ticked in the checkboxes called `name` (anything else is ignored)."""
    return {n for n in map(whole_number, request.form.getlist(name)) if n is not None}


def _render(monitor: Monitor, form: MonitorEditForm, sources: SourceInputs, result=None, status: int = 200):
    if request.method == "POST":
        enabled, remove = _ids("enabled"), _ids("remove")
    else:
        enabled, remove = {s.id for s in monitor.fetched_sources if s.enabled}, set()
    items = []
    if result is not None:
        items = [{**item, "html": previews.render_marked(item["text"], item["spans"])} for item in result.items]
    return render_template("monitors/edit.html", monitor=monitor, form=form, sources=sources, enabled=enabled,
                           remove=remove, summaries={s.id: source_summary(s) for s in monitor.fetched_sources},
                           preview=result, items=items), status


def _sources() -> SourceInputs:
    return SourceInputs(request.form if request.method == "POST" else None, creating=False)


@bp.route("/monitors/<int:monitor_id>/edit", methods=["GET", "POST"])
@page_role("editor")
def edit(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    form = MonitorEditForm(obj=monitor) if request.method == "GET" else MonitorEditForm()
    sources = _sources()

    def save(specs):
        monitor.retention_days = form.retention_days.data
        try:
            return update_monitor(db.session, monitor, name=form.name.data, query=form.query.data or "",
                                  enabled=_ids("enabled"), remove=_ids("remove"), add=specs,
                                  policy=runtime.egress_policy())
        except MonitorInvalid:
            db.session.rollback()
            raise

    if submit(form, sources, save, prober(form)) is not None:
        flash(saved_message(monitor, sources, "saved") if sources.specs() else f"Monitor “{monitor.name}” saved.")
        return redirect(url_for("monitors.detail", monitor_id=monitor.id))
    return _render(monitor, form, sources, status=page_status(form, sources))


@bp.post("/monitors/<int:monitor_id>/edit/preview")
@page_role("editor")
def preview(monitor_id: int):
    """Render the edit page again with what the typed query matches; saves nothing."""
    monitor = access.monitor_or_404(monitor_id, "editor")
    form = MonitorEditForm()
    form.validate()
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        abort(400)
    for field in form:
        if field is not form.query:
            field.errors = []  # only the query matters for a preview
    result = None
    if not form.query.errors:
        try:
            result = previews.preview(db.session, monitor.id, form.query.data or "")
        except QueryError as exc:
            form.query.errors = [str(exc)]
    return _render(monitor, form, _sources(), result, status=400 if form.query.errors else 200)


@bp.route("/monitors/<int:monitor_id>/delete", methods=["GET", "POST"])
@page_role("editor")
def delete(monitor_id: int):
    """A confirmation page (what goes with the monitor); its POST (CSRF-checked) deletes."""
    monitor = access.monitor_or_404(monitor_id, "editor")
    form = DeleteForm()
    if form.validate_on_submit():
        name = monitor.name
        delete_monitor(db.session, monitor)
        flash(f"Monitor “{name}” deleted, with its mentions, charts, rules and alert history.")
        return redirect(url_for("monitors.index"))
    if request.method == "POST":
        abort(400)  # only a missing or stale CSRF token gets here
    return render_template("monitors/delete.html", monitor=monitor, form=form,
                           counts=monitor_counts(db.session, monitor.id))
