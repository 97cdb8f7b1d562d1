"""The robust volume baseline: same hour of the week over 4 weeks, trailing-7-day fallback, bursty history."""
from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta, timezone

from webapp.alerting.baseline import MAD_FLOOR, baseline_for, robust_stats
from webapp.alerting.conditions import RuleParams, evaluate
from webapp.alerting.windows import BucketSeries

HOUR = timedelta(hours=1)
END = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)   # a Monday, 09:00 UTC
SPIKE = RuleParams(kind="volume_spike", window="1h")


def series_from(hourly: dict[datetime, int], history_start: datetime) -> BucketSeries:
    """Hourly counts put into the first 15-minute bucket of each hour."""
    buckets = {t: (n, 0.0, 0, n, 0) for t, n in hourly.items()}
    return BucketSeries(history_start, END + 2 * HOUR, buckets, history_start)


def with_spike(series_counts: dict, count: int, history_start: datetime):
    """Evaluate the hour [END - 1h, END) holding `count` mentions."""
    hourly = {**series_counts, END - HOUR: count}
    series = series_from(hourly, history_start)
    stats = series.window(END, HOUR)
    return evaluate(SPIKE, stats, baseline_for(series, END, HOUR))


def test_median_and_mad():
    assert robust_stats([1, 2, 3, 4, 100]) == (3, 1)


def test_bursts_in_the_history_do_not_mask_the_next_spike():
    rng = random.Random(5)
    start = END - timedelta(weeks=5)
    hourly, t = {}, start
    while t < END - HOUR:
        hourly[t] = rng.randint(150, 400) if rng.random() < 0.05 else rng.randint(8, 14)
        t += HOUR
    for weeks in (1, 3, 4):
        hourly[END - HOUR - timedelta(weeks=weeks)] = 12
    hourly[END - HOUR - timedelta(weeks=2)] = 300     # this hour of the week burst two weeks ago
    values = [hourly[END - HOUR - timedelta(weeks=k)] for k in range(1, 5)]
    mean, stdev = statistics.mean(values), statistics.stdev(values)
    assert mean + 3 * stdev > 400                     # mean + 3 sigma would call 5x normal "normal"

    base = baseline_for(series_from(hourly, start), END, HOUR)
    assert (base.method, base.samples, base.median) == ("hour_of_week", 4, 12)
    assert base.mad == MAD_FLOOR                      # the burst does not widen the spread
    assert with_spike(hourly, 60, start).condition_met is True      # 5x normal: a spike
    assert with_spike(hourly, 14, start).condition_met is False     # a normal hour
    assert with_spike(hourly, 23, start).condition_met is False     # under twice the median


def test_normal_hours_of_bursty_history_rarely_fire():
    rng = random.Random(11)
    start = END - timedelta(weeks=6)
    hourly, t = {}, start
    while t < END:
        hourly[t] = rng.randint(150, 400) if rng.random() < 0.03 else rng.randint(8, 14)
        t += HOUR
    series = series_from(hourly, start)
    fired = 0
    for k in range(1, 24 * 7):                       # every hour of the last week
        end = END - k * HOUR
        if hourly[end - HOUR] > 20:
            continue                                 # that hour is itself a burst
        obs = evaluate(SPIKE, series.window(end, HOUR), baseline_for(series, end, HOUR))
        fired += bool(obs.condition_met)
    assert fired == 0


def test_the_same_hour_of_the_week_carries_a_daily_rhythm():
    start = END - timedelta(weeks=4, hours=2)
    hourly, t = {}, start
    while t < END - HOUR:
        hourly[t] = 50 if 8 <= t.hour < 18 and t.weekday() < 5 else 4   # office hours are busy
        t += HOUR
    assert with_spike(hourly, 55, start).condition_met is False          # a normal Monday 08:00
    assert with_spike(hourly, 150, start).condition_met is True


def test_fallback_to_the_trailing_week_then_no_data():
    start = END - timedelta(days=8)
    hourly = {start + i * HOUR: 3 for i in range(8 * 24 - 1)}
    base = baseline_for(series_from(hourly, start), END, HOUR)
    assert (base.method, base.median, base.mad) == ("trailing_7d", 3, MAD_FLOOR)
    assert base.samples == 7 * 24
    assert with_spike(hourly, 20, start).condition_met is True

    young = END - 3 * HOUR
    few = {young: 3, young + HOUR: 3}
    assert baseline_for(series_from(few, young), END, HOUR) is None
    assert with_spike(few, 50, young).condition_met is None           # no data, not an alert


def test_a_24h_window_compares_whole_days():
    start = END - timedelta(days=30)
    hourly = {start + i * HOUR: 2 for i in range(30 * 24 - 24)}
    series = series_from(hourly, start)
    base = baseline_for(series, END, timedelta(hours=24))
    assert (base.method, base.median) == ("hour_of_week", 48)
