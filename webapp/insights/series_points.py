"""The series API's points, written as JSON once per distinct set of rollup rows (per process).

`GET .../series` reads its rollup rows on every request (the answer is always the stored
figures), but turning them into points (a dict per bucket, the empty buckets filled in, the
averages) and writing those as JSON cost more CPU than the read: 2.4 of the 6.3 ms of web CPU
per request of the bench's series (about 230 points each; docs/dashboard.md, "Round five").
Clients that poll a monitor's series ask for the same rows again and again, so the written
points are remembered by exactly what they are made of: the rows as the driver gave them, the
bucket and the range (RowsLRU: hashed once, compared once). A new, muted or
re-scored mention changes a row and so the key: nothing is ever answered from stale rows, and
time alone expires nothing. Series longer than REMEMBERED_POINTS are written each time (memory).
"""
from __future__ import annotations

from datetime import datetime

import orjson

from webapp.core.rows_lru import RowsLRU
from webapp.core.web import json_provider
from webapp.ingest import rollups

REMEMBERED_POINTS = 2_000    # about 220 kB of JSON at most per entry
_written = RowsLRU(64)


def points_json(session, monitor_id: int, bucket: str, start: datetime, end: datetime,
                source_id: int) -> orjson.Fragment:
    """`rollups.series(...)` (dense) of [start, end) as JSON text (keys sorted, as the app writes
    every answer), to put into an answer as it is (an orjson Fragment)."""
    rows = rollups.series_rows(session, monitor_id, bucket, start, end, source_id, raw=True)
    key = (rows, bucket, start, end)
    found = _written.get(key)
    if found is None:
        points = rollups.dense_points(rows.processed(), bucket, start, end)
        found = orjson.Fragment(json_provider.dumps(points))
        if len(points) <= REMEMBERED_POINTS:
            _written.put(key, found)
    return found
