"""Notification tasks: `notify.deliver` sends one outbox row; `notify.dispatch_due` finds lost ones.

deliver is idempotent: the delivery is claimed by a conditional UPDATE before anything is sent,
so a duplicate task (after a worker was killed, or a redelivered message) sends nothing. Retries
use Celery's countdown with the delay that retry_decision chose.
"""
from __future__ import annotations

from celery import current_app as current_celery
from celery import shared_task
from flask import current_app

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.alerting.notifiers import Context, delivery, dispatch

# Celery holds a countdown task unacknowledged; stay under the broker's visibility timeout.
MAX_COUNTDOWN = 3000.0


def context() -> Context:
    return Context.from_config(current_app.config, runtime.egress_policy())


@shared_task(name="notify.deliver", bind=True, max_retries=None, time_limit=60, soft_time_limit=45,
             acks_late=True)
def deliver(self, delivery_id: int) -> dict:
    report = delivery.attempt(db.session, delivery_id, context())
    if report.retry_in is not None and report.outcome in ("retry", "not_due"):
        if self.request.called_directly:   # run in-process (CLI, tests): the caller drives retries
            return report.as_dict()
        raise self.retry(countdown=min(max(report.retry_in, 1.0), MAX_COUNTDOWN))
    return report.as_dict()


@shared_task(name="notify.dispatch_due", time_limit=60, soft_time_limit=50)
def dispatch_due() -> int:
    """Re-queue deliveries whose task went missing (broker lost it, worker died after claiming)."""
    return dispatch.enqueue(current_celery, delivery.due_for_dispatch(db.session))
