"""Fetch tasks: beat's dispatcher fans out one task per due (source, slot).

The dispatcher claims a few due sources itself; when more are due it leaves them to a relay of
`fetch.claim` tasks: each claims a chunk, sends the next claim task while the chunk was full,
then sends its chunk's fetches, so chunks are claimed and fanned out in parallel on the workers
(disjoint rows, see fetching.claim_chunk). A tick stays short with tens of thousands due at once.
"""
from __future__ import annotations

from dataclasses import asdict

from celery import current_app as current_celery
from celery import shared_task

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.services import fetching

INLINE = 100   # due sources that the dispatcher claims and sends itself


def _send_runs(claimed: list[tuple[int, int]]) -> None:
    """One fetch.run message per claimed (source, slot), over one producer connection."""
    with current_celery.producer_or_acquire() as producer:
        for source_id, slot in claimed:
            run.apply_async((source_id, slot), producer=producer)


@shared_task(name="fetch.dispatch_due", time_limit=60, soft_time_limit=50)
def dispatch_due() -> int:
    """Claim and fan out the due fetches; with more than INLINE due, start a relay of fetch.claim
    tasks instead, so that the tick costs a count and one message. Returns how many sources it
    claimed or left to the relay."""
    due = fetching.count_due(db.session)
    if due <= INLINE:
        claimed = fetching.claim_due(db.session)
        _send_runs(claimed)
        return len(claimed)
    claim.delay()
    return due


@shared_task(name="fetch.claim", time_limit=60, soft_time_limit=50)
def claim() -> int:
    """Claim one chunk of due sources; if it was full, pass the relay on to the next fetch.claim
    (sent first, so that another worker claims the next chunk meanwhile); then fan out this
    chunk's fetches."""
    claimed = fetching.claim_chunk(db.session)
    if len(claimed) == fetching.CLAIM_CHUNK:
        claim.delay()
    _send_runs(claimed)
    return len(claimed)


@shared_task(name="fetch.run", time_limit=120, soft_time_limit=100)
def run(source_id: int, slot: int) -> dict:
    report = fetching.run_fetch(db.session, runtime.bus(), source_id, slot, runtime.egress_policy())
    return asdict(report)
