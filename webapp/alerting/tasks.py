"""Alert tasks: beat's `alerts.evaluate_due` fans out one `alerts.evaluate_batch` per `BATCH`
due (rule, slot) pairs (`alerts.evaluate_rule` evaluates a single one).

A slot is claimed inside the evaluation, so duplicate tasks (two beats, a redelivered message)
evaluate it once. The deliveries it queued are handed to notify.deliver after its commit.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from celery import current_app as current_celery
from celery import shared_task
from flask import current_app

from webapp.core.extensions import db
from webapp.alerting import evaluation
from webapp.alerting.notifiers import dispatch


def _options() -> dict:
    return {"lag_seconds": current_app.config.get("ALERTS_LAG_SECONDS", evaluation.DEFAULT_LAG),
            "public_url": current_app.config.get("PUBLIC_URL", evaluation.DEFAULT_PUBLIC_URL)}


@shared_task(name="alerts.evaluate_due", time_limit=60, soft_time_limit=50)
def evaluate_due() -> int:
    pairs = evaluation.due(db.session, datetime.now(timezone.utc), _options()["lag_seconds"])
    for chunk in evaluation.chunks(pairs):
        evaluate_batch.delay(chunk)
    return len(pairs)


@shared_task(name="alerts.evaluate_batch", time_limit=600, soft_time_limit=540)
def evaluate_batch(pairs: list) -> dict:
    reports = evaluation.evaluate_batch(db.session, pairs, **_options())
    deliveries = [d for report in reports for d in report.deliveries]
    if deliveries:
        dispatch.enqueue(current_celery, deliveries)
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    return counts


@shared_task(name="alerts.evaluate_rule", time_limit=120, soft_time_limit=100)
def evaluate_rule(rule_id: int, slot: int) -> dict:
    report = evaluation.evaluate_rule(db.session, rule_id, slot, **_options())
    if report.deliveries:
        dispatch.enqueue(current_celery, report.deliveries)
    return asdict(report)
