"""Source health: how each fetch went, when a source must pause, and where coverage has gaps.

The decisions are pure functions: `next_pause` (rate limits and the circuit breaker) and
`coverage_gaps` (periods in which a source was failing, so that charts can show a blocked source
instead of letting it pass for a drop in mentions).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, select

from webapp.core import sql
from webapp.monitors.models import SourceFetch

BREAKER_THRESHOLD = 5  # failures in a row that open the circuit breaker
BREAKER_MAX = timedelta(hours=1)
RATE_LIMIT_DEFAULT = timedelta(minutes=5)  # when the service does not say how long to wait
KEEP = timedelta(days=30)


def next_pause(status: str, failures: int, retry_after: float | None, now: datetime,
               every: int = 300, rng: random.Random | None = None) -> datetime | None:
    """Until when a source (fetched every `every` seconds) must not be fetched after `status`.

    `failures` counts errors in a row including this one. A rate limit waits what the service
    asked for (else RATE_LIMIT_DEFAULT); errors open the breaker from BREAKER_THRESHOLD on: the
    source skips 1, 3, 7, ... of its slots (exponential backoff) up to BREAKER_MAX or one slot,
    whichever is longer. Jitter (up to +20%) keeps many sources from retrying at the same
    moment. None: no pause.
    """
    rng = rng or random
    if status == "rate_limited":
        wait = timedelta(seconds=retry_after) if retry_after is not None else RATE_LIMIT_DEFAULT
    elif status == "error" and failures >= BREAKER_THRESHOLD:
        slot = timedelta(seconds=max(every, 1))
        wait = min(slot * 2 ** (failures - BREAKER_THRESHOLD + 1), max(BREAKER_MAX, slot))
    else:
        return None
    return now + wait * (1 + 0.2 * rng.random())


@dataclass(frozen=True)
class Gap:
    source_id: int
    start: datetime
    end: datetime
    reason: str


def coverage_gaps(fetches: list[tuple[int, datetime, str, str | None]], until: datetime) -> list[Gap]:
    """Periods in which a source's fetches failed, from (source id, started, status, error) rows.

    A gap starts at the first failed fetch and ends at the next successful one (or `until`).
    """
    gaps: list[Gap] = []
    open_since: dict[int, tuple[datetime, str]] = {}
    for source_id, started, status, error in sorted(fetches, key=lambda f: (f[1], f[0])):
        if status in ("error", "rate_limited"):
            open_since.setdefault(source_id, (started, error or status))
        elif status == "ok" and source_id in open_since:
            start, reason = open_since.pop(source_id)
            gaps.append(Gap(source_id, start, started, reason))
    for source_id, (start, reason) in open_since.items():
        gaps.append(Gap(source_id, start, until, reason))
    return sorted(gaps, key=lambda g: (g.start, g.source_id))


@cache
def _fetches_statement():
    """A monitor's fetches in a time window, built once (the dashboard asks on every request)."""
    return (select(SourceFetch.source_id, SourceFetch.started_at, SourceFetch.status, SourceFetch.error)
            .where(SourceFetch.monitor_id == bindparam("monitor_id"), SourceFetch.started_at < bindparam("end"),
                   SourceFetch.started_at >= bindparam("since"))
            .order_by(SourceFetch.started_at))


def monitor_gaps(session, monitor_id: int, start: datetime, end: datetime) -> list[Gap]:
    """Coverage gaps of a monitor's sources that overlap [start, end)."""
    return gaps_of(fetch_rows(session, monitor_id, start, end), start, end)


def fetch_rows(session, monitor_id: int, start: datetime, end: datetime, raw: bool = False) -> tuple:
    """The fetch rows (source id, started at, status, error) that decide the gaps overlapping
    [start, end), as plain tuples (`gaps_of` turns them into gaps; `raw`: core.sql.rows)."""
    return sql.rows(session, _fetches_statement(), {
        "monitor_id": monitor_id, "end": end, "since": start - timedelta(days=1)}, raw)


def gaps_of(rows, start: datetime, end: datetime) -> list[Gap]:
    """The coverage gaps of `fetch_rows` that overlap [start, end) (pure)."""
    return [g for g in coverage_gaps(list(rows), end) if g.end > start] if rows else []


def prune(session, now: datetime) -> int:
    """Forget fetch records older than KEEP; the caller commits."""
    return session.execute(delete(SourceFetch).where(SourceFetch.started_at < now - KEEP)).rowcount or 0
