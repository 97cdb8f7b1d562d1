"""Report tasks: `reports.send_due` (beat) claims due periods and fans out one `reports.send`
per claimed run; `reports.send` builds and sends one run (a duplicate finds it taken)."""
from __future__ import annotations

from celery import current_app as current_celery
from celery import shared_task

from webapp.alerting.notifiers import dispatch
from webapp.alerting.notifiers.tasks import context
from webapp.core.extensions import db
from webapp.reports.services import runs

TASK = "reports.send"


def enqueue(celery_app, run_ids) -> int:
    """One `reports.send` per run; a run whose task was lost is queued again by send_due."""
    return dispatch.enqueue(celery_app, run_ids, TASK)


@shared_task(name="reports.send_due", time_limit=120, soft_time_limit=100)
def send_due() -> int:
    claimed = runs.send_due(db.session)
    return enqueue(current_celery, claimed + [i for i in runs.stale_runs(db.session) if i not in claimed])


@shared_task(name=TASK, time_limit=240, soft_time_limit=200, acks_late=True)
def send(run_id: int) -> str:
    return runs.execute(db.session, run_id, context(), current_celery)
