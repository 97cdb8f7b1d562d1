"""The series API's points written once per distinct set of rollup rows (insights/series_points.py):
the answer is byte for byte what writing `rollups.series` gives, a new mention changes it at
once (the rows are the key, not the time), and long series are written each time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.core.web import json_provider
from webapp.ingest import rollups
from webapp.ingest.models import ALL_SOURCES
from webapp.insights import series_points

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases


def expected(app, monitor_id: int, bucket: str, start: datetime, end: datetime) -> bytes:
    """The answer as the API wrote it before: its points made and written on every request."""
    with app.app_context():
        buckets = rollups.series(db.session, monitor_id, bucket, start, end, ALL_SOURCES)
        db.session.remove()
        return (json_provider.FastJSONProvider(app).dumps(
            {"monitor_id": monitor_id, "bucket": bucket, "start": start.isoformat(), "end": end.isoformat(),
             "buckets": buckets}) + "\n").encode()


def test_the_answer_is_the_same_and_follows_every_new_mention(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start, end = now - timedelta(hours=5), now + timedelta(hours=1)
    items = [mention(i, text="Great product, love it" if i % 3 else "Awful, broken again",
                     published_at=(now - timedelta(minutes=7 * i)).isoformat()) for i in range(30)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    url = f"/api/v1/monitors/{monitor_id}/series?bucket=15m&start={start.isoformat()}&end={end.isoformat()}"
    url = url.replace("+", "%2B")
    first = client.get(url, headers=auth)
    again = client.get(url, headers=auth)      # remembered: the same rows
    a, b = rollups.resolve_range("15m", start, end, datetime.now(timezone.utc))
    assert first.status_code == again.status_code == 200
    assert first.data == again.data == expected(app, monitor_id, "15m", a, b)
    assert sum(p["count"] for p in first.json["buckets"]) == 30
    # one more mention in the range: another row, another answer at once (no time to wait out)
    late = [mention(99, text="Love it", published_at=(now - timedelta(minutes=1)).isoformat())]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=late, headers=auth).status_code == 202
    drain()
    after = client.get(url, headers=auth)
    assert sum(p["count"] for p in after.json["buckets"]) == 31
    assert after.data == expected(app, monitor_id, "15m", a, b) != first.data


def test_a_long_series_is_written_each_time_and_still_the_same(app, client, auth, monkeypatch):
    monitor_id, _ = new_monitor(app)
    monkeypatch.setattr(series_points, "REMEMBERED_POINTS", 10)
    monkeypatch.setattr(series_points, "_written", series_points.RowsLRU(4))
    url = f"/api/v1/monitors/{monitor_id}/series?bucket=15m"      # the default day: 96 points
    answer = client.get(url, headers=auth)
    assert answer.status_code == 200 and len(answer.json["buckets"]) >= 96
    assert len(series_points._written) == 0
    short = client.get(f"{url}&start=2026-01-01T00:00:00%2B00:00&end=2026-01-01T02:00:00%2B00:00", headers=auth)
    assert [p["count"] for p in short.json["buckets"]] == [0] * 8 and len(series_points._written) == 1
