"""The robust volume baseline for volume_spike rules (pure).

What is "normal" for a window is taken from the same hour of the week over the past four weeks
(a Monday 9:00 hour is compared with earlier Monday 9:00 hours, so daily and weekly rhythms are
not spikes). When the monitor is too young for that, the trailing 7 days of windows of the same
length stand in. Median and MAD, unlike mean and standard deviation, hardly move when the
history itself holds bursts, so one past spike does not mask the next one.

    robust z = 0.6745 * (x - median) / MAD      (MAD floored at MAD_FLOOR mentions)
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.alerting.windows import BucketSeries

WEEK = timedelta(days=7)
WEEKS = 4
MIN_WEEKS = 3           # of the WEEKS same-hour-of-week windows, this many must lie in the history
MIN_FALLBACK = 4        # trailing-7-day windows needed for the fallback
MAD_FLOOR = 1.0         # in mentions: a perfectly regular history must not make every +1 a spike
Z_FACTOR = 0.6745       # makes the MAD comparable to a standard deviation for normal data
SPAN = WEEKS * WEEK     # how far back a baseline reads (plus the window itself)


@dataclass(frozen=True)
class Baseline:
    median: float
    mad: float          # after the floor
    samples: int
    method: str         # "hour_of_week" | "trailing_7d"

    def z(self, x: float) -> float:
        return Z_FACTOR * (x - self.median) / self.mad

    def as_dict(self) -> dict:
        return {"median": self.median, "mad": self.mad, "samples": self.samples, "method": self.method}


def robust_stats(values: list[float]) -> tuple[float, float]:
    """(median, median absolute deviation) of `values` (not empty)."""
    median = statistics.median(values)
    return median, statistics.median([abs(v - median) for v in values])


def from_values(values: list[float], method: str) -> Baseline:
    median, mad = robust_stats(values)
    return Baseline(float(median), max(float(mad), MAD_FLOOR), len(values), method)


def same_hour_of_week(series: BucketSeries, end: datetime, window: timedelta) -> list[int]:
    """Counts of the windows ending 1..4 weeks before `end`, those that lie in the history."""
    return [series.count(end - k * WEEK, window) for k in range(1, WEEKS + 1)
            if series.covers(end - k * WEEK - window)]


def trailing_week(series: BucketSeries, end: datetime, window: timedelta) -> list[int]:
    """Counts of the back-to-back windows of the 7 days before `end`, those in the history."""
    steps = int(WEEK / window)
    return [series.count(end - j * window, window) for j in range(1, steps + 1)
            if series.covers(end - j * window - window)]


def reads(end: datetime, window: timedelta, history_start: datetime | None) -> list[tuple[datetime, datetime]]:
    """The ranges of buckets that `baseline_for(series, end, window)` and the window itself read.

    With at least MIN_WEEKS weeks of history the same-hour windows decide, so only those and
    the window are needed; a younger monitor may fall back to the trailing week, so everything.
    """
    if history_start is not None and history_start <= end - MIN_WEEKS * WEEK - window:
        return [(end - k * WEEK - window, end - k * WEEK) for k in range(WEEKS + 1)]
    return [(end - SPAN - window, end)]


def baseline_for(series: BucketSeries, end: datetime, window: timedelta) -> Baseline | None:
    """The baseline for the window ending at `end`; None when the history is too short."""
    weekly = same_hour_of_week(series, end, window)
    if len(weekly) >= MIN_WEEKS:
        return from_values(weekly, "hour_of_week")
    trailing = trailing_week(series, end, window)
    if len(trailing) >= MIN_FALLBACK:
        return from_values(trailing, "trailing_7d")
    return None
