from datetime import datetime, timedelta, timezone

import pytest

from webapp.ingest import rollups

T = datetime(2026, 3, 5, 14, 37, 12, tzinfo=timezone.utc)


def test_bucket_start_alignment():
    assert rollups.bucket_start(T, "15m") == datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)
    assert rollups.bucket_start(T, "1h") == datetime(2026, 3, 5, 14, 0, tzinfo=timezone.utc)
    assert rollups.bucket_start(T, "1d") == datetime(2026, 3, 5, tzinfo=timezone.utc)


def test_deltas_count_each_source_and_the_total():
    rows = [
        {"monitor_id": 1, "source_id": 7, "published_at": T, "compound": 0.5, "label": "positive"},
        {"monitor_id": 1, "source_id": 8, "published_at": T, "compound": -0.5, "label": "negative"},
    ]
    d = rollups.deltas(rows)
    total = d[(1, 0, "1h", datetime(2026, 3, 5, 14, tzinfo=timezone.utc))]
    assert (total.count, total.sum_compound, total.positive, total.negative) == (2, 0.0, 1, 1)
    assert d[(1, 7, "15m", datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc))].count == 1
    assert len(d) == 3 * 3  # three buckets x (two sources + total)


def test_resolve_range_defaults_and_alignment():
    start, end = rollups.resolve_range("1h", None, None, T)
    assert end == datetime(2026, 3, 5, 15, tzinfo=timezone.utc)
    assert start == datetime(2026, 2, 26, 14, tzinfo=timezone.utc)


@pytest.mark.parametrize("bucket,start,end,message", [
    ("2h", None, None, "bucket"),
    ("1h", T, T - timedelta(hours=1), "before"),
    ("15m", T - timedelta(days=400), T, "more than"),
])
def test_resolve_range_errors(bucket, start, end, message):
    with pytest.raises(rollups.SeriesError, match=message):
        rollups.resolve_range(bucket, start, end, T)
