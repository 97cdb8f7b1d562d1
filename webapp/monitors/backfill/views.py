"""Backfill pages: start a backfill of a monitor (editors), follow its progress, resume, cancel.

The slices run on the workers (`backfill.start` fans them out); the progress page polls a JSON
view with a static script (static/js/backfill.js; no inline script under the CSP).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.people import access
from webapp.people.auth import page_role
from webapp.core.extensions import db
from webapp.core.times import EARLIEST, LATEST, read_time
from webapp.monitors.backfill.forms import BackfillForm
from webapp.monitors.backfill.models import Backfill
from webapp.monitors.models import Monitor
from webapp.monitors.backfill import service as backfills
from webapp.monitors.backfill.progress import progress, recent
from webapp.monitors.services.manage import source_summary
from webapp.monitors.sources import REGISTRY, can_backfill

bp = Blueprint("backfill", __name__)
START_TASK = "backfill.start"



def _backfill_or_404(monitor_id: int, backfill_id: int, role: str = "viewer") -> Backfill:
    """The backfill of that monitor, when the caller's team role on the monitor reaches `role`."""
    return access.of_monitor_or_404(Backfill, backfill_id, "backfill", role, monitor_id=monitor_id)


def _queue(backfill_id: int) -> None:
    """Hand the backfill to the workers; a broker outage is told, not a 500."""
    try:
        current_app.extensions["celery"].send_task(START_TASK, args=[backfill_id])
    except Exception as exc:  # noqa: BLE001
        current_app.logger.warning("could not queue backfill %s: %s", backfill_id, exc)
        flash(f"The backfill could not be handed to the workers; try Resume later, or run "
              f"`flask backfill --resume {backfill_id} --inline`.")


@bp.route("/monitors/<int:monitor_id>/backfill", methods=["GET", "POST"])
@page_role("viewer")
def index(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    today = datetime.now(timezone.utc).date()
    form = BackfillForm(since=today - timedelta(days=7), until=today)
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        access.require(monitor, "editor")
        if form.validate_on_submit():
            try:
                since, until = _day_range(form.since.data, form.until.data)
                backfill = backfills.start_backfill(db.session, monitor, since, until, current_user)
            except backfills.BackfillInvalid as exc:
                for key, message in exc.errors.items():
                    target = form.until if key == "until" else form.since
                    target.errors = [*target.errors, message]
            else:
                _queue(backfill.id)
                flash(f"Backfill of “{monitor.name}” started: {len(backfill.slices)} slices.")
                return redirect(url_for("backfill.show", monitor_id=monitor.id, backfill_id=backfill.id))
    sources = [(s, can_backfill(s.kind)) for s in monitor.fetched_sources]
    able = sorted(a.label for a in REGISTRY.values() if a.supports_backfill)
    return render_template("backfill/index.html", monitor=monitor, form=form, sources=sources,
                           summaries={s.id: source_summary(s) for s, _ in sources}, able_kinds=able,
                           can_backfill=any(ok and s.enabled for s, ok in sources),
                           backfills=recent(db.session, monitor.id), can_edit=access.can_change(monitor)), \
        (400 if form.errors else 200)


@bp.get("/monitors/<int:monitor_id>/backfills/<int:backfill_id>")
@page_role("viewer")
def show(monitor_id: int, backfill_id: int):
    monitor = access.monitor_or_404(monitor_id)
    _backfill_or_404(monitor_id, backfill_id)
    return render_template("backfill/show.html", monitor=monitor, state=progress(db.session, backfill_id),
                           can_edit=access.can_change(monitor))


@bp.get("/monitors/<int:monitor_id>/backfills/<int:backfill_id>/progress")
@page_role("viewer")
def progress_json(monitor_id: int, backfill_id: int):
    """The backfill's progress as JSON, polled by static/js/backfill.js."""
    _backfill_or_404(monitor_id, backfill_id)
    return jsonify(progress(db.session, backfill_id).as_dict())


@bp.post("/monitors/<int:monitor_id>/backfills/<int:backfill_id>/resume")
@page_role("editor")
def resume(monitor_id: int, backfill_id: int):
    _backfill_or_404(monitor_id, backfill_id, "editor")
    ids = backfills.resume(db.session, backfill_id)
    if ids:
        _queue(backfill_id)
    flash(f"Resumed: {len(ids)} slice(s) run again from their checkpoints." if ids else "Nothing left to resume.")
    return redirect(url_for("backfill.show", monitor_id=monitor_id, backfill_id=backfill_id))


@bp.post("/monitors/<int:monitor_id>/backfills/<int:backfill_id>/cancel")
@page_role("editor")
def cancel(monitor_id: int, backfill_id: int):
    _backfill_or_404(monitor_id, backfill_id, "editor")
    cancelled = backfills.cancel(db.session, backfill_id)
    flash("Cancelled; running slices stop after their current page." if cancelled else "The backfill had ended.")
    return redirect(url_for("backfill.show", monitor_id=monitor_id, backfill_id=backfill_id))


def _day_range(first, last) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in UTC, read by core.times. Days outside its range
    are moved to its edges first (9999-12-31 never overflows), and the service then says what is
    wrong with them (a start that is not before now)."""
    low, high = EARLIEST.date(), (LATEST - timedelta(days=2)).date()
    first, last = min(max(first, low), high), min(max(last, low), high)
    return read_time(first.isoformat()), read_time(last.isoformat(), end_of_day=True)
