"""Fetch tasks: beat's dispatcher fans out one task per due (source, slot).

The dispatcher claims the first chunk of due sources itself; when more are due it leaves them
to `fetch.claim` tasks, one per further chunk, which claim disjoint chunks in parallel on the
workers. So a tick stays short with tens of thousands of sources due at once.
"""
from __future__ import annotations

from dataclasses import asdict

from celery import current_app as current_celery
from celery import shared_task

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.services import fetching


def _send_runs(claimed: list[tuple[int, int]]) -> None:
    """One fetch.run message per claimed (source, slot), over one producer connection."""
    with current_celery.producer_or_acquire() as producer:
        for source_id, slot in claimed:
            run.apply_async((source_id, slot), producer=producer)


@shared_task(name="fetch.dispatch_due", time_limit=60, soft_time_limit=50)
def dispatch_due() -> int:
    size = fetching.CLAIM_CHUNK
    claimed = fetching.claim_chunk(db.session, size=size)
    _send_runs(claimed)
    if len(claimed) == size:
        for _ in range(-(-fetching.count_due(db.session) // size)):
            claim.delay()
    return len(claimed)


@shared_task(name="fetch.claim", time_limit=60, soft_time_limit=50)
def claim() -> int:
    """Claim one more chunk of due sources and fan out their fetches (sent by dispatch_due)."""
    claimed = fetching.claim_chunk(db.session)
    _send_runs(claimed)
    return len(claimed)


@shared_task(name="fetch.run", time_limit=120, soft_time_limit=100)
def run(source_id: int, slot: int) -> dict:
    report = fetching.run_fetch(db.session, runtime.bus(), source_id, slot, runtime.egress_policy())
    return asdict(report)
