"""Running reports exactly once per period.

- `claim()` inserts the ReportRun row of (report, slot) and commits: the unique constraint makes
  that insert the claim, so a beat task that runs twice or two workers that race get one row,
  and only the one that inserted it goes on.
- `execute()` takes a queued run with a conditional UPDATE (queued -> sending, a retry that is
  due, or a sending run whose worker died LEASE ago), builds the report once and sends it to
  every notifier not done yet: email notifiers get the HTML email (and PDF), every other kind
  `deliver_report_summary`. Notifiers that failed (an SMTP server down) are tried again later,
  the others are not sent the report twice.
- `send_due()` claims the due period of every report (beat, every few minutes); `stale_runs()`
  finds claimed runs whose task went missing and retries that are due.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.alerting.models import Notifier
from webapp.alerting.notifiers import delivery as outbox
from webapp.alerting.notifiers import email as email_channel
from webapp.alerting.notifiers.base import Context
from webapp.monitors.models import Monitor
from webapp.people.models import Team
from webapp.reports.models import Report, ReportRun
from webapp.reports.services import charts as report_charts
from webapp.reports.services import content as report_content
from webapp.reports.services import render, schedule

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)     # a run still "sending" after this is taken over
REQUEUE_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 3                  # a run that failed for some notifiers is retried for them
RETRY_DELAY = timedelta(minutes=5)   # times the attempts made


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def team_zone(session, monitor: Monitor):
    team = session.get(Team, monitor.team_id)
    return schedule.zone(team.time_zone if team else None)


def claim(session, report: Report, period: schedule.Period, now: datetime, manual: bool = False) -> int | None:
    """The id of the new run of (report, period), or None if that period is claimed already. Commits."""
    slot = f"now-{uuid.uuid4().hex}" if manual else period.slot
    run = ReportRun(report_id=report.id, slot=slot, period_start=period.start, period_end=period.end,
                    manual=manual, status="queued", created_at=now)
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return run.id


def send_due(session, now: datetime | None = None) -> list[int]:
    """Claim the due period of every report; returns the ids of the runs this call claimed."""
    now = _now(now)
    claimed = []
    reports = list(session.execute(select(Report).order_by(Report.id)).scalars())
    for report in reports:
        tz = team_zone(session, report.monitor)
        period = schedule.due(report.every, report.hour, report.weekday, tz, now, report.created_at)
        if period is None:
            continue
        done = session.execute(select(ReportRun.id).where(ReportRun.report_id == report.id,
                                                          ReportRun.slot == period.slot)).first()
        if done is None:
            run_id = claim(session, report, period, now)
            if run_id is not None:
                claimed.append(run_id)
    session.rollback()
    return claimed


def send_now(session, report: Report, now: datetime | None = None) -> int:
    """Claim a manual run: the report's length of time up to the current hour. Commits."""
    return claim(session, report, schedule.last_hours(_now(now), report.every), _now(now), manual=True)


def stale_runs(session, now: datetime | None = None) -> list[int]:
    """Runs queued for a while (their task was lost) or sending past the lease (worker died)."""
    now = _now(now)
    ids = list(session.execute(select(ReportRun.id).where(or_(
        and_(ReportRun.status == "queued", ReportRun.created_at <= now - REQUEUE_AFTER),
        and_(ReportRun.status == "retry", ReportRun.next_attempt_at <= now),
        and_(ReportRun.status == "sending", ReportRun.claimed_at <= now - LEASE)))).scalars())
    session.rollback()
    return ids


def _take(session, run_id: int, now: datetime) -> bool:
    taken = session.execute(
        update(ReportRun).where(ReportRun.id == run_id, or_(
            ReportRun.status == "queued",
            and_(ReportRun.status == "retry", ReportRun.next_attempt_at <= now),
            and_(ReportRun.status == "sending", ReportRun.claimed_at <= now - LEASE)))
        .values(status="sending", claimed_at=now, attempts=ReportRun.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    return taken


def execute(session, run_id: int, ctx: Context, celery_app=None, now: datetime | None = None) -> str:
    """Build and send one run once (commits): "sent", "retry" (some notifiers failed: they are
    tried again after RETRY_DELAY x attempts), "failed" (after MAX_ATTEMPTS; the errors kept) or
    "skipped" (not due, or another worker has it)."""
    now = _now(now)
    if not _take(session, run_id, now):
        return "skipped"
    run = session.get(ReportRun, run_id)
    done = [int(i) for i in run.sent_to or []]
    report = session.get(Report, run.report_id)
    monitor = report.monitor
    tz = team_zone(session, monitor)
    period = schedule.Period(run.period_start, run.period_end)
    link = f"{ctx.public_url}/monitors/{monitor.id}"
    body = report_content.gather(session, monitor, report.every, period)
    # What gathering wrote, the fold of the monitor's pending term deltas (terms.term_table), is
    # kept now: a failed send below rolls back, and SQLite's write lock is not held while sending.
    session.commit()
    notifiers = list(session.execute(select(Notifier).where(
        Notifier.id.in_([int(i) for i in report.notifier_ids or []]), Notifier.team_id == monitor.team_id,
        Notifier.enabled.is_(True), Notifier.id.not_in(done)).order_by(Notifier.id)).scalars())
    errors = []
    images = report_charts.charts(body.series, tz) if any(n.kind == "email" for n in notifiers) else {}
    for notifier in notifiers:
        try:
            if notifier.kind == "email":
                to = list((notifier.settings or {}).get("to") or [])
                msg = render.email(body, tz, link, images, ctx.smtp_from, to, report.format == "pdf", now)
                email_channel.send_mail(ctx.smtp_url, ctx.smtp_from, to, msg, ctx.smtp_timeout)
            else:
                deliver_report_summary(session, notifier, render.summary(body, tz, link, report.id, now),
                                       celery_app, now)
            done.append(notifier.id)
        except Exception as exc:   # one notifier failing must not stop the others
            session.rollback()
            log.warning("report %s to notifier %s failed: %s", report.id, notifier.id, exc)
            errors.append(f"{notifier.name}: {type(exc).__name__}: {exc}"[:500])
    run = session.get(ReportRun, run_id)
    run.sent_to = done
    run.error = "\n".join(errors) or None
    if not errors:
        run.status, run.sent_at = "sent", _now(None)
    elif run.attempts < MAX_ATTEMPTS:
        run.status, run.next_attempt_at = "retry", now + RETRY_DELAY * run.attempts
    else:
        run.status = "failed"
    session.commit()
    return run.status


def deliver_report_summary(session, notifier: Notifier, summary: dict, celery_app=None,
                           now: datetime | None = None) -> int:
    """Send a `report.ready` summary to a non-email notifier through the delivery outbox: the
    notifier's channel sends it (a webhook signs the JSON as for alerts), with the same retries,
    delivery log and redelivery. Returns the delivery id. Commits."""
    rows = outbox.outbox(session, [notifier], summary, None, _now(now))
    session.commit()
    ids = [row.id for row in rows]
    if celery_app is not None and ids:
        from webapp.alerting.notifiers import dispatch

        dispatch.enqueue(celery_app, ids)
    return ids[0] if ids else 0
