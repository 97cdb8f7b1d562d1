"""Scheduled fetching: which sources are due, and one source's fetch as a use case.

A source with interval `every` has one slot per `every` seconds since the epoch. Beat claims
each due (source, slot) once; a fetch of a slot already done is skipped, so a task that runs
twice fetches once. Items are filtered by the monitor's query, published (confirmed by the
bus), and only then the source's cursor advances.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import or_, select, update

from webapp.monitors.models import SYSTEM_KINDS, Monitor, Source, SourceFetch
from webapp.monitors.services import health
from webapp.core import metrics
from webapp.ingest.bus import Bus
from webapp.ingest.publish import publish_mentions
from webapp.core.query import QueryError, compile_query
from webapp.monitors.sources import FetchContext, SourceError, UnknownSourceKind, get_adapter

log = logging.getLogger(__name__)


@dataclass
class FetchReport:
    source_id: int
    slot: int
    status: str  # ok | error | rate_limited | skipped
    fetched: int = 0
    published: int = 0
    error: str | None = None
    error_code: str | None = None
    paused_until: str | None = None


def slot_for(now: datetime, every: int) -> int:
    return int(now.timestamp()) // max(every, 1)


def is_due(last_slot: int | None, dispatched_slot: int | None, slot: int) -> bool:
    """A slot is due when neither fetched nor handed to a task yet (pure)."""
    return (last_slot is None or slot > last_slot) and (dispatched_slot is None or slot > dispatched_slot)


def claim_due(session, now: datetime | None = None) -> list[tuple[int, int]]:
    """Mark every due source's current slot as dispatched and return (source id, slot) pairs.

    The conditional UPDATE makes the claim safe if two schedulers ever run at once.
    """
    now = now or datetime.now(timezone.utc)
    candidates = session.execute(
        select(Source.id, Source.every, Source.last_slot, Source.dispatched_slot).where(
            Source.enabled.is_(True), Source.kind.not_in(SYSTEM_KINDS), Source.every > 0,
            or_(Source.paused_until.is_(None), Source.paused_until <= now),  # breaker / rate limit
        )
    ).all()
    claimed = []
    for sid, every, last_slot, dispatched in candidates:
        slot = slot_for(now, every)
        if not is_due(last_slot, dispatched, slot):
            continue
        done = session.execute(
            update(Source)
            .where(Source.id == sid,
                   or_(Source.dispatched_slot.is_(None), Source.dispatched_slot < slot))
            .values(dispatched_slot=slot)
        )
        if done.rowcount == 1:
            claimed.append((sid, slot))
    session.commit()
    return claimed


def run_fetch(session, bus: Bus, source_id: int, slot: int, policy,
              now: datetime | None = None) -> FetchReport:
    """Fetch one source for one slot, publish what matches the query, then advance the cursor."""
    now = now or datetime.now(timezone.utc)
    source = session.get(Source, source_id)
    if source is None or not source.enabled:
        return FetchReport(source_id, slot, "skipped", error="source gone or disabled")
    if source.last_slot is not None and source.last_slot >= slot:
        return FetchReport(source_id, slot, "skipped", error="slot already fetched")
    monitor = session.get(Monitor, source.monitor_id)
    report = FetchReport(source_id, slot, "ok")
    started = time.monotonic()
    retry_after = None
    try:
        adapter = get_adapter(source.kind)
        query = compile_query(monitor.query)  # before any request: a bad query costs no fetch
        ctx = FetchContext(policy=policy, monitor_query=monitor.query, now=now)
        result = adapter.fetch(dict(source.settings or {}), dict(source.cursor or {}), ctx)
        matching = [item for item in result.items if query.matches(item.text, item.lang)]
        report.fetched = len(result.items)
        metrics.mentions_fetched(source.kind, report.fetched)
        report.published = publish_mentions(bus, monitor.id, source.id, matching, now)
        source.cursor = result.cursor
    except (SourceError, UnknownSourceKind, QueryError) as exc:
        code = getattr(exc, "code", type(exc).__name__)
        report.status = "rate_limited" if code == "rate_limited" else "error"
        report.error, report.error_code = str(exc), code
        retry_after = getattr(exc, "retry_after", None)
        log.warning("fetch of source %s failed: %s", source_id, exc)
    record_outcome(session, source, report, now, retry_after, started)
    session.commit()
    return report


def record_outcome(session, source: Source, report: FetchReport, now: datetime,
                   retry_after: float | None, started: float) -> None:
    """Source state after a fetch (cursor slot, breaker, pause) and its health record."""
    if report.status == "ok":
        source.consecutive_failures = 0
    elif report.status == "error":
        source.consecutive_failures = (source.consecutive_failures or 0) + 1
    pause = health.next_pause(report.status, source.consecutive_failures or 0, retry_after, now,
                              source.every)
    source.paused_until = pause
    report.paused_until = pause.isoformat() if pause else None
    source.last_slot = report.slot
    source.last_fetch_at = now
    source.last_status = report.status
    source.last_error = report.error
    source.last_items = report.fetched
    session.add(SourceFetch(
        source_id=source.id, monitor_id=source.monitor_id, started_at=now,
        duration_ms=int((time.monotonic() - started) * 1000), status=report.status,
        items=report.fetched, published=report.published, error_code=report.error_code,
        error=(report.error or "")[:2000] or None,
    ))
