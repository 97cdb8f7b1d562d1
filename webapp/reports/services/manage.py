"""Report records: create (notifiers must be the monitor's team's), describe, list, delete."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from webapp.alerting.models import Notifier
from webapp.reports.models import Report, ReportRun
from webapp.reports.services import schedule


class ReportInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def create_report(session, monitor, *, every: str, notifiers: list[int], format: str = "html",
                  hour: int = 8, weekday: int = 0, user=None) -> Report:
    """Validate the notifiers (existing, in the monitor's team) and store the report. Commits."""
    wanted = list(dict.fromkeys(notifiers))
    found = set(session.execute(select(Notifier.id).where(Notifier.id.in_(wanted),
                                                           Notifier.team_id == monitor.team_id)).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ReportInvalid("notifiers", f"no notifier of this monitor's team with id {', '.join(map(str, missing))}")
    report = Report(monitor_id=monitor.id, every=every, format=format, hour=hour, weekday=weekday,
                    notifier_ids=wanted, created_by_id=getattr(user, "id", None),
                    created_at=datetime.now(timezone.utc))
    session.add(report)
    session.commit()
    return report


def reports_of(session, monitor_id: int) -> list[Report]:
    return list(session.execute(select(Report).where(Report.monitor_id == monitor_id).order_by(Report.id)).scalars())


def last_runs(session, report_id: int, limit: int = 5) -> list[ReportRun]:
    return list(session.execute(select(ReportRun).where(ReportRun.report_id == report_id)
                                .order_by(ReportRun.id.desc()).limit(limit)).scalars())


def next_send(report: Report, tz, now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    latest = schedule.latest(report.every, report.hour, report.weekday, tz, now)
    return schedule.following(report.every, report.hour, tz, latest)


def run_dict(run: ReportRun) -> dict:
    return {"id": run.id, "manual": run.manual, "status": run.status, "error": run.error, "attempts": run.attempts,
            "period_start": run.period_start.isoformat(), "period_end": run.period_end.isoformat(),
            "sent_at": run.sent_at.isoformat() if run.sent_at else None}


def report_dict(session, report: Report, tz) -> dict:
    return {"id": report.id, "monitor_id": report.monitor_id, "every": report.every, "format": report.format,
            "hour": report.hour, "weekday": report.weekday, "notifiers": list(report.notifier_ids or []),
            "time_zone": getattr(tz, "key", None) or "UTC", "next_send_at": next_send(report, tz).isoformat(),
            "created_at": report.created_at.isoformat(),
            "runs": [run_dict(r) for r in last_runs(session, report.id)]}
