"""Backfill tasks: `backfill.start` fans out one `backfill.run_slice` per pending slice.

Routed to the `fetch` queue with the scheduled fetches (celeryconfig.task_routes). A slice that
hit a rate limit, or that another runner still holds, is retried after the time it names; a
long slice yields before the time limit and is queued again from its checkpoint.
"""
from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.backfill import service as backfills

SLICE_TIME_LIMIT = 1800
SLICE_BUDGET = SLICE_TIME_LIMIT - 300  # yield well before the limit: a page may take a while
MAX_WAIT = 900.0  # ETA tasks must stay well under the Redis visibility timeout (1 h)


@shared_task(name="backfill.start", time_limit=120, soft_time_limit=100)
def start(backfill_id: int) -> int:
    """Queue every pending slice of the backfill; returns how many."""
    ids = backfills.slice_ids(db.session, backfill_id)
    for slice_id in ids:
        run_slice.delay(slice_id)
    return len(ids)


@shared_task(bind=True, name="backfill.run_slice", max_retries=100,
             time_limit=SLICE_TIME_LIMIT, soft_time_limit=SLICE_TIME_LIMIT - 60)
def run_slice(self, slice_id: int) -> dict:
    report = backfills.run_slice(db.session, runtime.bus(), slice_id, runtime.egress_policy(),
                                 budget=SLICE_BUDGET)
    if report.status in ("rate_limited", "busy") and report.retry_after is not None:
        raise self.retry(countdown=min(max(report.retry_after, 1.0), MAX_WAIT))
    if report.status == "yielded":
        run_slice.delay(slice_id)
    return asdict(report)


@shared_task(name="backfill.resume", time_limit=120, soft_time_limit=100)
def resume(backfill_id: int | None = None) -> int:
    """Queue the slices `backfills.resume` makes runnable again (one backfill, or stalled ones)."""
    ids = backfills.resume(db.session, backfill_id)
    for slice_id in ids:
        run_slice.delay(slice_id)
    return len(ids)
