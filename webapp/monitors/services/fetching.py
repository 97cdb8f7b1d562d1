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

from sqlalchemy import BigInteger, and_, func, literal, or_, select, update

from webapp.monitors.models import Monitor, Source, SourceFetch
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


CLAIM_CHUNK = 500   # sources one claim statement (one fetch.claim task) takes at most


def due_filter(now: datetime):
    """The SQL condition of a due source at `now`: its next slot has begun (read through the
    `due_at` index, see models.DUE_AT_SQL, the same rule as `is_due`) and it is not paused."""
    return and_(Source.due_at <= int(now.timestamp()),
                or_(Source.paused_until.is_(None), Source.paused_until <= now))  # breaker / rate limit


def claim_chunk(session, now: datetime | None = None, size: int = CLAIM_CHUNK) -> list[tuple[int, int]]:
    """Claim up to `size` due sources in one statement, commit, and return (source id, slot) pairs.

    Each claimed source's current slot becomes its dispatched slot. Concurrent claimers take
    disjoint rows (PostgreSQL: FOR UPDATE SKIP LOCKED, which checks the due condition again on
    the row it locks; SQLite runs one writer at a time), so a slot is claimed once.
    """
    rows = session.execute(claim_statement(now or datetime.now(timezone.utc), size)).all()
    session.commit()
    return sorted((sid, slot) for sid, slot in rows)


def claim_statement(now: datetime, size: int):
    """UPDATE ... RETURNING (id, slot) of up to `size` due sources, the earliest due first."""
    stamp = int(now.timestamp())
    chosen = (select(Source.id).where(due_filter(now)).order_by(Source.due_at).limit(size)
              .with_for_update(skip_locked=True))
    # The due condition again on the updated rows: redundant for correctness (the locking read
    # re-checks it on the newest version of each row it locks; SQLite runs alone), but it lets
    # PostgreSQL find those rows through the due index instead of a scan of all sources.
    return (update(Source).where(Source.id.in_(chosen.scalar_subquery()), Source.due_at <= stamp)
            .values(dispatched_slot=literal(stamp, BigInteger) // Source.every)
            .returning(Source.id, Source.dispatched_slot)
            .execution_options(synchronize_session=False))


def count_due(session, now: datetime | None = None) -> int:
    """How many sources are due at `now` (an index range count)."""
    now = now or datetime.now(timezone.utc)
    n = session.execute(select(func.count()).select_from(Source).where(due_filter(now))).scalar()
    session.rollback()
    return n


def claim_due(session, now: datetime | None = None, size: int = CLAIM_CHUNK) -> list[tuple[int, int]]:
    """Claim every due source's current slot, `size` at a time, and return (source id, slot) pairs."""
    now = now or datetime.now(timezone.utc)
    claimed: list[tuple[int, int]] = []
    while True:
        chunk = claim_chunk(session, now, size)
        claimed.extend(chunk)
        if len(chunk) < size:
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
