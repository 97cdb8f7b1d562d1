"""Reports over the API: per monitor create and list; per report get, delete and send now.

Bad bodies (wrong types, unknown fields, out-of-range hour or weekday, notifiers of another team)
are 400 with the field named; reports of monitors outside the caller's teams are 404.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from pydantic import ValidationError

from webapp.core.api_errors import ApiError, json_body, validation_detail
from webapp.core.extensions import db
from webapp.people import access
from webapp.people.auth import api_user
from webapp.reports.models import Report
from webapp.reports.schemas import ReportIn
from webapp.reports.services import manage, runs
from webapp.reports.tasks import enqueue

bp = Blueprint("reports_api", __name__)


def report_or_404(report_id: int, role: str = "viewer") -> Report:
    return access.of_monitor_or_404(Report, report_id, "report", role)


def _answer(report: Report) -> dict:
    return manage.report_dict(db.session, report, runs.team_zone(db.session, report.monitor))


@bp.post("/monitors/<int:monitor_id>/reports")
@api_user("editor")
def create(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    try:
        body = ReportIn.model_validate(json_body())
    except ValidationError as exc:
        raise ApiError(400, "invalid_report", validation_detail(exc)) from None
    try:
        report = manage.create_report(db.session, monitor, **body.model_dump(), user=g.api_user)
    except manage.ReportInvalid as exc:
        db.session.rollback()
        raise ApiError(400, "invalid_report", {exc.field: exc.message}) from None
    return jsonify(_answer(report)), 201


@bp.get("/monitors/<int:monitor_id>/reports")
@api_user("viewer")
def list_reports(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return jsonify([_answer(r) for r in manage.reports_of(db.session, monitor.id)])


@bp.get("/reports/<int:report_id>")
@api_user("viewer")
def get(report_id: int):
    return jsonify(_answer(report_or_404(report_id)))


@bp.delete("/reports/<int:report_id>")
@api_user("editor")
def delete(report_id: int):
    db.session.delete(report_or_404(report_id, "editor"))
    db.session.commit()
    return "", 204


@bp.post("/reports/<int:report_id>/send")
@api_user("editor")
def send(report_id: int):
    report = report_or_404(report_id, "editor")
    run_id = runs.send_now(db.session, report)
    enqueue(current_app.extensions["celery"], [run_id])
    return jsonify({"report_id": report_id, "run_id": run_id, "status": "queued"}), 202
