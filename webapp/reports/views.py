"""The monitor's reports page: its scheduled reports with their last runs, *Send now* and
*Remove* for editors, and the form to add one."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from pydantic import ValidationError
from sqlalchemy import select

from webapp.alerting.forms import choices
from webapp.alerting.models import Notifier
from webapp.alerting.notifiers.tasks import context
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.people import access
from webapp.people.auth import page_role
from webapp.reports.forms import WEEKDAYS, ReportForm
from webapp.reports.models import Report
from webapp.reports.schemas import ReportIn
from webapp.reports.services import manage, runs

bp = Blueprint("reports", __name__)
SEND_OUTCOMES = {"sent": "Report sent.",
                 "retry": "Some notifiers could not be reached; they will be tried again (see the last runs).",
                 "failed": "The report could not be sent (see the last runs).",
                 "skipped": "The report is being sent already."}


def _form(monitor: Monitor) -> ReportForm:
    form = ReportForm()
    notifiers = db.session.execute(select(Notifier).where(Notifier.team_id == monitor.team_id)
                                   .order_by(Notifier.name, Notifier.id)).scalars()
    form.notifiers.choices = choices((n.id, f"{n.name} ({n.kind})") for n in notifiers)
    return form


def _page(monitor: Monitor, form: ReportForm, status: int = 200):
    tz = runs.team_zone(db.session, monitor)
    reports = [manage.report_dict(db.session, r, tz) for r in manage.reports_of(db.session, monitor.id)]
    names = {n.id: n.name for n in db.session.execute(
        select(Notifier).where(Notifier.team_id == monitor.team_id)).scalars()}
    return render_template("reports/index.html", monitor=monitor, form=form, reports=reports, names=names,
                           weekdays=WEEKDAYS, zone=getattr(tz, "key", None) or "UTC"), status


@bp.get("/monitors/<int:monitor_id>/reports")
@page_role("viewer")
def index(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return _page(monitor, _form(monitor))


@bp.post("/monitors/<int:monitor_id>/reports")
@page_role("editor")
def create(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    form = _form(monitor)
    if not form.validate_on_submit():
        return _page(monitor, form, 400)
    try:
        body = ReportIn(every=form.every.data, notifiers=form.notifiers.data, format=form.format.data,
                        hour=form.hour.data, weekday=form.weekday.data)
        manage.create_report(db.session, monitor, **body.model_dump(), user=access.caller())
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = getattr(form, str(error["loc"][0]) if error["loc"] else "", None) or form.notifiers
            field.errors = [*field.errors, error["msg"]]
        return _page(monitor, form, 400)
    except manage.ReportInvalid as exc:
        db.session.rollback()
        form.notifiers.errors = [*form.notifiers.errors, exc.message]
        return _page(monitor, form, 400)
    flash("Report scheduled.")
    return redirect(url_for("reports.index", monitor_id=monitor.id))


@bp.post("/monitors/<int:monitor_id>/reports/<int:report_id>/delete")
@page_role("editor")
def delete(monitor_id: int, report_id: int):
    report = access.of_monitor_or_404(Report, report_id, "report", "editor", monitor_id=monitor_id)
    db.session.delete(report)
    db.session.commit()
    flash("Report removed.")
    return redirect(url_for("reports.index", monitor_id=monitor_id))


@bp.post("/monitors/<int:monitor_id>/reports/<int:report_id>/send")
@page_role("editor")
def send(monitor_id: int, report_id: int):
    """*Send now*, in this process (like a notifier's *Send test*), so the page says how it went."""
    report = access.of_monitor_or_404(Report, report_id, "report", "editor", monitor_id=monitor_id)
    run_id = runs.send_now(db.session, report)
    status = runs.execute(db.session, run_id, context(), current_app.extensions.get("celery"))
    flash(SEND_OUTCOMES.get(status, status))
    return redirect(url_for("reports.index", monitor_id=monitor_id))
