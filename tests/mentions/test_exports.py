"""Exports of mentions and series: streamed CSV / JSON / NDJSON with the page's filters, file
names, formula injection neutralised, flat memory on 50,000 rows."""
from __future__ import annotations

import csv
import io
import json
import re
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions import exports

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


# -- pure ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("plain text", "plain text"),
    ("a=b", "a=b"), ("", ""), (-0.5, -0.5), (None, None), (3, 3)])
def test_safe_cell(value, expected):
    assert exports.safe_cell(value) == expected


def test_csv_chunks_quote_and_neutralise():
    rows = [{"a": "=1+1", "b": 'say "hi",\nbye'}, {"a": -1.5, "b": None}, {"a": "x"}]
    body = "".join(exports.csv_chunks(("a", "b"), rows, per_chunk=1))
    assert list(csv.reader(io.StringIO(body))) == [["a", "b"], ["'=1+1", 'say "hi",\nbye'], ["-1.5", ""], ["x", ""]]
    assert len(list(exports.csv_chunks(("a",), ({"a": i} for i in range(5)), per_chunk=2))) == 3


@pytest.mark.parametrize("n", [0, 1, 7])
def test_json_and_ndjson_chunks(n):
    rows = [{"i": i, "t": f"<{i}>", "when": T0} for i in range(n)]
    assert json.loads("".join(exports.json_chunks(iter(rows), per_chunk=2))) == \
        [{"i": i, "t": f"<{i}>", "when": T0.isoformat()} for i in range(n)]
    lines = "".join(exports.ndjson_chunks(iter(rows), per_chunk=3)).splitlines()
    assert [json.loads(line)["i"] for line in lines] == list(range(n))


def test_filenames_are_plain_ascii():
    name = exports.filename('Ünïcode "Acme"; rm -rf /', "mentions", "csv", T0)
    assert name == "sentimon-n-code-acme-rm-rf-mentions-20260302T1200Z.csv"
    assert exports.filename("!!!", "series-1h", "ndjson", T0) == "sentimon-monitor-series-1h-20260302T1200Z.ndjson"


# -- pages and API -------------------------------------------------------------------------------

@pytest.fixture
def filled(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app, name="Export me")
    items = [mention(1, "=HYPERLINK(\"http://evil\") great", author="+attacker",
                     published_at=T0.isoformat()),
             mention(2, "terrible, awful", published_at=(T0 - timedelta(hours=2)).isoformat()),
             mention(3, "lovely day", published_at=(T0 - timedelta(days=2)).isoformat())]
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    drain()
    return monitor_id


def test_mentions_csv_honours_the_filters(logged_in, filled):
    response = logged_in.get(f"/monitors/{filled}/mentions.csv?since=2026-03-02&sort=oldest&page=3")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="sentimon-export-me-mentions-\d{8}T\d{4}Z\.csv"',
                        response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["external_id"] for r in rows] == ["m2", "m1"]  # every page, in the chosen order
    assert rows[1]["text"] == "'=HYPERLINK(\"http://evil\") great" and rows[1]["author"] == "'+attacker"
    assert rows[0]["label"] == rows[0]["scored_label"] == "negative" and float(rows[0]["compound"]) < 0
    bad = logged_in.get(f"/monitors/{filled}/mentions.csv?since=nope")
    assert bad.status_code == 400 and "since" in bad.get_data(as_text=True)


def test_mentions_json_and_ndjson(logged_in, filled):
    body = logged_in.get(f"/monitors/{filled}/mentions.json?label=negative")
    assert body.mimetype == "application/json" and body.headers["Content-Disposition"].endswith('.json"')
    assert [m["external_id"] for m in json.loads(body.get_data(as_text=True))] == ["m2"]
    nd = logged_in.get(f"/monitors/{filled}/mentions.json?format=ndjson&q=lovely")
    assert nd.mimetype == "application/x-ndjson" and nd.headers["Content-Disposition"].endswith('.ndjson"')
    items = [json.loads(line) for line in nd.get_data(as_text=True).splitlines()]
    assert [i["text"] for i in items] == ["lovely day"] and items[0]["overridden_at"] is None
    assert logged_in.get(f"/monitors/{filled}/mentions.json?format=xml").status_code == 400
    page = logged_in.get(f"/monitors/{filled}/mentions?label=negative").get_data(as_text=True)
    for link_id in ("export-mentions-csv", "export-mentions-json", "export-mentions-ndjson"):
        href = re.search(rf'id="{link_id}" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        response = logged_in.get(href)
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"], link_id
        assert response.get_data()  # read to the end: the stream closes its request context
        assert "label=negative" in href


def test_series_exports(app, logged_in, auth, filled):
    start, end = "2026-02-28T00:00:00Z", "2026-03-03T00:00:00Z"
    response = logged_in.get(f"/monitors/{filled}/series.csv?bucket=1d&start={start}&end={end}")
    assert response.status_code == 200
    assert re.search(r'filename="sentimon-export-me-series-1d-\d{8}T\d{4}Z\.csv"', response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["start"][:10], r["count"]) for r in rows] == [("2026-02-28", "1"), ("2026-03-01", "0"), ("2026-03-02", "2")]
    assert set(rows[0]) == {"bucket", "start", "count", "avg_compound", "positive", "neutral", "negative"}
    data = json.loads(logged_in.get(f"/monitors/{filled}/series.json?bucket=1d&start={start}&end={end}").data)
    assert [b["count"] for b in data] == [1, 0, 2]
    assert logged_in.get(f"/monitors/{filled}/series.csv?range=24h").status_code == 200
    for query in ("range=1y", "bucket=5m", "start=soon", "bucket=15m&range=90d&start=2000-01-01", "source_id=x"):
        bad = logged_in.get(f"/monitors/{filled}/series.csv?{query}")
        assert bad.status_code == 400 and 'id="export-error"' in bad.get_data(as_text=True), query
    api = logged_in.get(f"/api/v1/monitors/{filled}/series/export?format=csv&bucket=1d&start={start}&end={end}",
                        headers=auth)
    assert api.status_code == 200 and api.get_data(as_text=True) == response.get_data(as_text=True)
    assert logged_in.get(f"/api/v1/monitors/{filled}/series/export?range=x", headers=auth).get_json()["error"] == \
        "invalid_parameters"


def test_api_mention_export(logged_in, auth, filled):
    response = logged_in.get(f"/api/v1/monitors/{filled}/mentions/export?format=ndjson&label=positive", headers=auth)
    assert response.status_code == 200
    assert sorted(json.loads(line)["external_id"] for line in response.get_data(as_text=True).splitlines()) == ["m1", "m3"]
    assert logged_in.get(f"/api/v1/monitors/{filled}/mentions/export", headers=auth).get_json()[0]["external_id"] == "m1"
    bad = logged_in.get(f"/api/v1/monitors/{filled}/mentions/export?min=7", headers=auth)
    assert bad.status_code == 400 and "min" in bad.get_json()["detail"]
    assert logged_in.get(f"/api/v1/monitors/{filled}/mentions/export").status_code == 401
    assert logged_in.get("/api/v1/monitors/999/mentions/export", headers=auth).status_code == 404


def test_streaming_50000_mentions_keeps_memory_flat(app, logged_in):
    """The body is produced while it is read: peak traced memory stays far below the body's size."""
    monitor_id, push_id = new_monitor(app, name="Big")
    n = 50_000
    with app.app_context():
        text = "a fairly ordinary mention of the product, neither great nor terrible, number "
        for first in range(0, n, 10_000):
            db.session.execute(insert(Mention), [{
                "monitor_id": monitor_id, "source_id": push_id, "external_id": f"b{i}", "text": text + str(i),
                "author": f"user{i}", "published_at": T0 - timedelta(seconds=i), "ingested_at": T0,
                "compound": 0.1, "pos": 0.2, "neu": 0.7, "neg": 0.1, "label": "positive"}
                for i in range(first, min(n, first + 10_000))])
        db.session.commit()
        db.session.remove()
    for fmt in ("csv",):  # (JSON goes through the same cursor; tracemalloc makes each run slow)
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            started = time.monotonic()
            response = logged_in.get(f"/monitors/{monitor_id}/mentions.{fmt}", buffered=False)
            size, lines = 0, 0
            for chunk in response.response:
                size += len(chunk)
                lines += chunk.count(b"\n")
            response.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        growth = peak - base
        print(f"{fmt}: {n} rows, {size / 1e6:.1f} MB streamed in {time.monotonic() - started:.1f} s, "
              f"peak traced memory growth {growth / 1e6:.2f} MB")
        assert lines >= n and size > 8_000_000
        assert growth < 4_000_000 and growth < size / 3
