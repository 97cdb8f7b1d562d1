"""Hand deliveries to `notify.deliver` tasks (by name, so services never import tasks)."""
from __future__ import annotations

import logging
from typing import Iterable

log = logging.getLogger(__name__)
TASK = "notify.deliver"


def enqueue(celery_app, delivery_ids: Iterable[int], task: str = TASK) -> int:
    """Send one `task` per delivery (or other outbox row, e.g. a report run); a broker hiccup is
    logged, and the sweeper (notify.dispatch_due, reports.send_due) queues it again later."""
    sent = 0
    for delivery_id in delivery_ids:
        try:
            celery_app.send_task(task, args=[delivery_id])
            sent += 1
        except Exception as exc:   # the outbox row is safe; the sweeper will find it
            log.warning("could not queue delivery %s: %s", delivery_id, exc)
    return sent


def send_now(session, delivery_id: int, ctx, celery_app):
    """Attempt a delivery in this process (test sends, redeliveries); a retry goes to the tasks."""
    from webapp.alerting.notifiers.delivery import attempt

    report = attempt(session, delivery_id, ctx)
    if report.outcome == "retry":
        enqueue(celery_app, [delivery_id])
    return report
