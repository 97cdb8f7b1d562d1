"""Time-bucket rollups: how many mentions, their sentiment sum and label counts per bucket.

`count` is every mention (volume); sentiment figures are over the scored ones only, whose number
is positive + neutral + negative (`scored_count`): a mention in a language that no scorer reads
has no label and no compound (webapp/insights/languages.py) and never counts as a false neutral.

Ingest adds the deltas of the rows it really inserted, in the same transaction; pages and the
series API read only these rows, never aggregate raw mentions on request. Muted mentions
(webapp/mentions/noise.py) are counted in no rollup.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import bindparam, select

from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.core import sql
from webapp.core.sql import insert_for, insert_rows

BUCKETS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
# The range a series covers when the caller names none.
DEFAULT_SPAN = {"15m": timedelta(days=1), "1h": timedelta(days=7), "1d": timedelta(days=90)}
MAX_POINTS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class SeriesError(ValueError):
    """A series request that cannot be answered (unknown bucket, too many points, bad range)."""


@dataclass
class Delta:
    count: int = 0
    sum_compound: float = 0.0
    positive: int = 0
    neutral: int = 0
    negative: int = 0

    def add(self, compound: float | None, label: str | None) -> None:
        """Count a mention; an unscored one (label None) is in the count only, never in a
        sentiment figure: the scored count is positive + neutral + negative (`scored_count`)."""
        self.count += 1
        if label is None:
            return
        self.sum_compound += compound
        setattr(self, label, getattr(self, label) + 1)


def bucket_start(ts: datetime, bucket: str) -> datetime:
    """The start of the bucket that holds `ts` (UTC, aligned to the epoch)."""
    size = _SECONDS[bucket]
    seconds = int((ts - _EPOCH).total_seconds())
    return _start_at(seconds - seconds % size)


_SECONDS = {name: int(size.total_seconds()) for name, size in BUCKETS.items()}


@lru_cache(maxsize=4096)
def _start_at(seconds: int) -> datetime:
    """The bucket start `seconds` after the epoch, one object per start: ingest asks for the same
    few starts thousands of times a batch (and their hashes, as dict keys, are computed once)."""
    return _EPOCH + timedelta(seconds=seconds)


def deltas(rows: Iterable[dict]) -> dict[tuple, Delta]:
    """Per (monitor, source, bucket, start) deltas of inserted rows, for each source and the total.

    Each row needs monitor_id, source_id, published_at, compound and label.
    """
    out: dict[tuple, Delta] = defaultdict(Delta)
    for row in rows:
        for bucket in BUCKETS:
            start = bucket_start(row["published_at"], bucket)
            for source_id in (row["source_id"], ALL_SOURCES):
                out[(row["monitor_id"], source_id, bucket, start)].add(row["compound"], row["label"])
    return dict(out)


def negated(changes: dict[tuple, Delta]) -> dict[tuple, Delta]:
    """The same deltas with every figure negated: what taking those rows out of the rollups does."""
    return {key: Delta(-d.count, -d.sum_compound, -d.positive, -d.neutral, -d.negative)
            for key, d in changes.items()}


def combined(*parts: dict[tuple, Delta]) -> dict[tuple, Delta]:
    """The sum of several sets of deltas, key by key."""
    out: dict[tuple, Delta] = defaultdict(Delta)
    for part in parts:
        for key, d in part.items():
            total = out[key]
            total.count += d.count
            total.sum_compound += d.sum_compound
            total.positive += d.positive
            total.neutral += d.neutral
            total.negative += d.negative
    return dict(out)


def apply(session, changes: dict[tuple, Delta]) -> None:
    """Add `changes` to the rollup rows (upsert), in a fixed order to avoid lock cycles.

    One statement for all rows at once (`core.sql.insert_rows`: on PostgreSQL one array per
    column), not one round trip per bucket: a batch touches dozens of buckets.
    """
    if not changes:
        return
    table = Rollup.__table__
    stmt = insert_for(session.get_bind())(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["monitor_id", "source_id", "bucket", "start"],
        set_={
            "count": table.c.count + stmt.excluded.count,
            "sum_compound": table.c.sum_compound + stmt.excluded.sum_compound,
            "positive": table.c.positive + stmt.excluded.positive,
            "neutral": table.c.neutral + stmt.excluded.neutral,
            "negative": table.c.negative + stmt.excluded.negative,
        },
    )
    insert_rows(session, stmt, [
        {"monitor_id": key[0], "source_id": key[1], "bucket": key[2], "start": key[3],
         "count": d.count, "sum_compound": d.sum_compound,
         "positive": d.positive, "neutral": d.neutral, "negative": d.negative}
        for key, d in sorted(changes.items())
    ])


def resolve_range(bucket: str, start: datetime | None, end: datetime | None,
                  now: datetime) -> tuple[datetime, datetime]:
    """The aligned [start, end) a series covers, checked against MAX_POINTS."""
    if bucket not in BUCKETS:
        raise SeriesError(f"bucket must be one of {', '.join(BUCKETS)}")
    end = end or now
    start = start or end - DEFAULT_SPAN[bucket]
    if start >= end:
        raise SeriesError("start must be before end")
    first = bucket_start(start, bucket)
    last = bucket_start(end - timedelta(microseconds=1), bucket) + BUCKETS[bucket]
    points = (last - first) // BUCKETS[bucket]
    if points > MAX_POINTS:
        raise SeriesError(
            f"that range holds {points} {bucket} buckets, more than {MAX_POINTS}; "
            "choose a larger bucket or a shorter range"
        )
    return first, last


@cache
def _series_statement():
    """The rows of one series, built once: constructing a select and its cache key on every
    request cost more CPU than running it; the values are parameters."""
    return select(Rollup.start, Rollup.count, Rollup.sum_compound, Rollup.positive, Rollup.neutral,
                  Rollup.negative).where(
        Rollup.monitor_id == bindparam("monitor_id"), Rollup.source_id == bindparam("source_id"),
        Rollup.bucket == bindparam("bucket"), Rollup.start >= bindparam("start"), Rollup.start < bindparam("end"),
    ).order_by(Rollup.start)


def series(session, monitor_id: int, bucket: str, start: datetime, end: datetime,
           source_id: int = ALL_SOURCES, dense: bool = True) -> list[dict]:
    """Buckets of [start, end) (already aligned by resolve_range), oldest first.

    With `dense`, empty buckets are included with zero counts and a null average.
    """
    return dense_points(series_rows(session, monitor_id, bucket, start, end, source_id), bucket, start, end, dense)


def series_rows(session, monitor_id: int, bucket: str, start: datetime, end: datetime,
                source_id: int = ALL_SOURCES, raw: bool = False) -> tuple:
    """The stored rollup rows (start, count, sum_compound, positive, neutral, negative) of a
    series over [start, end), oldest first, as plain tuples (hashable: the dashboard keys its
    rendered page by them; `raw`: core.sql.rows)."""
    return sql.rows(session, _series_statement(), {
        "monitor_id": monitor_id, "source_id": source_id, "bucket": bucket, "start": start, "end": end,
    }, raw, binary=True)  # plain tuples, not ORM objects: a 30-day series at 1h is 720 of them per request


def dense_points(rows, bucket: str, start: datetime, end: datetime, dense: bool = True) -> list[dict]:
    """The series' points from `series_rows` (pure); with `dense`, every bucket of [start, end)."""
    found = {r[0]: r for r in rows}
    starts = sorted(found)
    if dense:
        step, starts, t = BUCKETS[bucket], [], start
        while t < end:
            starts.append(t)
            t += step
    return [point(t, found.get(t)) for t in starts]


@lru_cache(maxsize=65_536)
def _iso(start: datetime) -> str:
    """isoformat, remembered: every viewer of a range asks for the same bucket starts."""
    return start.isoformat()


def scored_count(positive: int, neutral: int, negative: int) -> int:
    """The scored mentions of a bucket (or of summed buckets): the denominator of every average
    and share, where `count` (volume) also holds unscored mentions."""
    return positive + neutral + negative


def average(total: float, positive: int, neutral: int, negative: int) -> float | None:
    """The average compound of summed rollup figures, rounded, or None without scored mentions."""
    scored = scored_count(positive, neutral, negative)
    return round(total / scored, 4) if scored else None


def point(start: datetime, row) -> dict:
    """One bucket of a series from a rollup row (start, count, sum_compound, positive, neutral,
    negative) or None."""
    if row is None or not row[1]:
        return {"start": _iso(start), "count": 0, "avg_compound": None,
                "positive": 0, "neutral": 0, "negative": 0}
    _, count, total, positive, neutral, negative = row
    return {"start": _iso(start), "count": count, "avg_compound": average(total, positive, neutral, negative),
            "positive": positive, "neutral": neutral, "negative": negative}


def rebuild_since(session, monitor_id: int) -> datetime | None:
    """Where a rebuild from raw mentions may start: retention pruned the raw mentions before
    `pruned_before`, so the buckets up to the end of that day stay as they are (their mentions are
    gone) and only later ones are recomputed; None when nothing was pruned."""
    from webapp.monitors.models import Monitor

    pruned = session.execute(select(Monitor.pruned_before).where(Monitor.id == monitor_id)).scalar()
    return bucket_start(pruned, "1d") + BUCKETS["1d"] if pruned is not None else None


def rebuild(session, monitor_id: int) -> int:
    """Recompute a monitor's rollups from its stored mentions (after re-scoring); does not commit.

    Deletes the monitor's rollup rows and adds the deltas of all its mentions, in the caller's
    transaction, so readers see either the old rollups or the new ones. Returns the number of
    rollup rows written.
    """
    from sqlalchemy import delete

    from webapp.ingest.models import Mention

    from webapp.insights import rollups as insight_rollups

    since = rebuild_since(session, monitor_id)
    stale = delete(Rollup).where(Rollup.monitor_id == monitor_id)
    kept = [Mention.monitor_id == monitor_id, Mention.muted.is_(False)]  # muted: in no rollup
    if since is not None:
        stale = stale.where(Rollup.start >= since)
        kept.append(Mention.published_at >= since)
    session.execute(stale)
    rows = session.execute(
        select(Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound, Mention.label,
               *insight_rollups.COLUMNS)
        .where(*kept).execution_options(yield_per=5000)
    ).mappings()
    insight_rollups.clear(session, monitor_id, since)
    written: set[tuple] = set()
    for chunk in rows.partitions(20_000):   # streamed: memory stays flat whatever the monitor's size
        changes = deltas(chunk)
        apply(session, changes)            # upserts add up: the same sums as one statement
        insight_rollups.apply(session, insight_rollups.deltas(chunk))
        written.update(changes)
    return len(written)
