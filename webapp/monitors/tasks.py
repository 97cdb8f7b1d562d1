"""Fetch tasks: beat's dispatcher fans out one task per due (source, slot)."""
from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.services import fetching


@shared_task(name="fetch.dispatch_due", time_limit=60, soft_time_limit=50)
def dispatch_due() -> int:
    claimed = fetching.claim_due(db.session)
    for source_id, slot in claimed:
        run.delay(source_id, slot)
    return len(claimed)


@shared_task(name="fetch.run", time_limit=120, soft_time_limit=100)
def run(source_id: int, slot: int) -> dict:
    report = fetching.run_fetch(db.session, runtime.bus(), source_id, slot, runtime.egress_policy())
    return asdict(report)
