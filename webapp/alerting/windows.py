"""Evaluation slots and windows: 15-minute rollup buckets summed into 15m / 1h / 6h / 24h windows.

Only closed buckets are evaluated, and only after a lag that lets ingestion catch up: the slot
at time `now` is the last 15-minute boundary at or before `now - lag`, and a window always ends
at a slot boundary. `BucketSeries` holds a dense run of buckets with prefix sums, so that any
window (live evaluation, baselines, a 30-day backtest) is summed in constant time.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select

from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.monitors.models import Monitor

STEP = timedelta(minutes=15)
STEP_SECONDS = 900
WINDOWS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_slot(now: datetime, lag_seconds: int) -> int:
    """The slot (count of 15-minute steps since the epoch) of the last closed, lagged bucket end."""
    return int((now - EPOCH).total_seconds() - lag_seconds) // STEP_SECONDS


def slot_end(slot: int) -> datetime:
    """The time at which the windows of `slot` end (exclusive)."""
    return EPOCH + timedelta(seconds=slot * STEP_SECONDS)


def minute_slot(now: datetime) -> int:
    """Slots of mention_match rules: one per minute."""
    return int((now - EPOCH).total_seconds()) // 60


def floor_step(ts: datetime) -> datetime:
    seconds = int((ts - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % STEP_SECONDS)


@dataclass(frozen=True)
class WindowStats:
    """Totals of one window [start, end)."""

    start: datetime
    end: datetime
    count: int = 0
    sum_compound: float = 0.0
    positive: int = 0
    neutral: int = 0
    negative: int = 0

    @property
    def scored(self) -> int:
        """Mentions with a sentiment score: `count` also holds mentions in a language that no
        scorer reads (webapp/insights/languages.py), which are in no sentiment figure."""
        return self.positive + self.neutral + self.negative

    @property
    def avg_compound(self) -> float | None:
        return self.sum_compound / self.scored if self.scored else None

    @property
    def negative_share(self) -> float | None:
        """The negative share in percent (of the scored mentions)."""
        return 100.0 * self.negative / self.scored if self.scored else None


class BucketSeries:
    """15-minute buckets over [start, end) with prefix sums; missing buckets count zero.

    `history_start` is when the monitor's data begins (its first bucket); windows before it
    are "no history", not zero, when baselines are computed.
    """

    FIELDS = ("count", "sum_compound", "positive", "neutral", "negative")

    def __init__(self, start: datetime, end: datetime, buckets: dict[datetime, tuple],
                 history_start: datetime | None = None):
        self.start, self.end = floor_step(start), floor_step(end)
        self.history_start = history_start
        self._n = max(0, int((self.end - self.start) / STEP))
        present = []            # (index, values) of the stored buckets: most of a long range is empty
        for ts, values in buckets.items():
            i = (ts - self.start) // STEP
            if 0 <= i < self._n and ts == self.start + i * STEP:
                present.append((i, values))
        present.sort(key=lambda p: p[0])
        self._at = [i for i, _ in present]
        # prefix sums over the stored buckets only: adding the empty ones' zeros changes no sum
        self._prefix = [list(accumulate((values[f] for _, values in present), initial=0.0))
                        for f in range(len(self.FIELDS))]

    def _index(self, ts: datetime) -> int:
        """The position in the prefix sums of the buckets before `ts` (clamped to the range)."""
        i = min(max(int((ts - self.start) / STEP), 0), self._n)
        return bisect_left(self._at, i)

    def window(self, end: datetime, length: timedelta) -> WindowStats:
        """Totals of [end - length, end); the part outside the loaded range counts as zero."""
        start = end - length
        a, b = self._index(start), self._index(end)
        sums = [column[b] - column[a] for column in self._prefix]
        return WindowStats(start, end, int(sums[0]), sums[1], int(sums[2]), int(sums[3]), int(sums[4]))

    def count(self, end: datetime, length: timedelta) -> int:
        a, b = self._index(end - length), self._index(end)
        return int(self._prefix[0][b] - self._prefix[0][a])

    def covers(self, start: datetime) -> bool:
        """Whether the monitor has history from `start` on (its data began at or before it)."""
        return self.history_start is not None and self.history_start <= start


def _rollup_filter(monitor_ids):
    return (Rollup.monitor_id.in_(monitor_ids), Rollup.source_id == ALL_SOURCES, Rollup.bucket == "15m")


def history_starts(session, monitor_ids) -> dict[int, datetime | None]:
    """Each monitor's first 15-minute bucket with mentions (None: no data yet), in one statement:
    a correlated min per monitor, which both databases answer from the rollups' unique index."""
    ids = sorted(set(monitor_ids))
    if not ids:
        return {}
    first = (select(func.min(Rollup.start)).where(
        Rollup.monitor_id == Monitor.id, Rollup.source_id == ALL_SOURCES, Rollup.bucket == "15m",
        Rollup.count > 0).scalar_subquery())
    rows = session.execute(select(Monitor.id, first).where(Monitor.id.in_(ids))).all()
    found = {mid: None for mid in ids}
    for mid, start in rows:
        if start is not None and start.tzinfo is None:   # aggregates bypass the column type
            start = start.replace(tzinfo=timezone.utc)
        found[mid] = start
    return found


def load_buckets(session, wanted: dict[tuple[datetime, datetime], set[int]]) -> dict[int, dict[datetime, tuple]]:
    """The 15-minute rollups (all sources) of many monitors over several ranges in one statement:
    `wanted` maps a range [start, end) to the monitors that need it; the answer maps each
    monitor to {bucket start: (count, sum_compound, positive, neutral, negative)}."""
    clauses = [and_(*_rollup_filter(sorted(ids)), Rollup.start >= floor_step(start), Rollup.start < floor_step(end))
               for (start, end), ids in wanted.items() if ids]
    found: dict[int, dict[datetime, tuple]] = {mid: {} for ids in wanted.values() for mid in ids}
    if not clauses:
        return found
    rows = session.execute(
        select(Rollup.monitor_id, Rollup.start, Rollup.count, Rollup.sum_compound, Rollup.positive,
               Rollup.neutral, Rollup.negative).where(or_(*clauses))).all()
    for r in rows:
        found[r[0]][r[1]] = tuple(r[2:])
    return found


def load_series(session, monitor_id: int, start: datetime, end: datetime) -> BucketSeries:
    """The monitor's 15-minute rollups (all sources) over [start, end), plus its history start."""
    buckets = load_buckets(session, {(start, end): {monitor_id}})[monitor_id]
    return BucketSeries(start, end, buckets, history_starts(session, [monitor_id])[monitor_id])
