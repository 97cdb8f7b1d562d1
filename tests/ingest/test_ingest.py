"""Idempotent ingest: storing the same records twice changes nothing, rollups follow inserts only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.ingest.store import BadRecord, normalize, store_batch

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def records(monitor_id, source_id, n, start=0):
    return [{"monitor_id": monitor_id, "source_id": source_id, "external_id": f"x{i}",
             "text": "I love it" if i % 2 else "I hate it",
             "published_at": (NOW - timedelta(minutes=i)).isoformat()} for i in range(start, start + n)]


def rollup_state():
    return sorted(db.session.execute(
        select(Rollup.source_id, Rollup.bucket, Rollup.start, Rollup.count, Rollup.positive,
               Rollup.negative, Rollup.sum_compound)).all())


def test_same_batch_twice_changes_nothing(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        first = store_batch(db.session, records(monitor_id, source_id, 40), NOW)
        db.session.commit()
        state = rollup_state()
        second = store_batch(db.session, records(monitor_id, source_id, 40), NOW)
        db.session.commit()
        assert (first.inserted, first.duplicates) == (40, 0)
        assert (second.inserted, second.duplicates) == (0, 40)
        assert rollup_state() == state
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 40


def test_rollups_follow_only_new_rows(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, source_id, 10), NOW)
        store_batch(db.session, records(monitor_id, source_id, 10, start=5), NOW)  # 5 overlap
        db.session.commit()
        totals = db.session.execute(
            select(func.sum(Rollup.count), func.sum(Rollup.positive), func.sum(Rollup.negative))
            .where(Rollup.bucket == "1d", Rollup.source_id == 0)).one()
        assert tuple(totals) == (15, 7, 8)
        per_source = db.session.execute(select(func.sum(Rollup.count)).where(
            Rollup.bucket == "15m", Rollup.source_id == source_id)).scalar()
        assert per_source == 15


def test_duplicates_inside_one_batch(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        batch = records(monitor_id, source_id, 3) + records(monitor_id, source_id, 3)
        result = store_batch(db.session, batch, NOW)
        assert (result.inserted, result.duplicates) == (3, 3)


def test_bad_records_are_rejected_with_reasons(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        batch = records(monitor_id, source_id, 2) + [
            {"monitor_id": monitor_id, "source_id": source_id, "external_id": "e", "text": ""},
            {"monitor_id": "x", "source_id": source_id, "external_id": "e", "text": "t"},
        ]
        result = store_batch(db.session, batch, NOW)
        assert result.inserted == 2
        assert [i for i, _ in result.rejected] == [2, 3]


def test_records_of_deleted_sources_are_dropped(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        result = store_batch(db.session, records(monitor_id, source_id + 999, 2), NOW)
        assert (result.inserted, result.orphaned) == (0, 2)


@pytest.mark.parametrize("value,message", [
    ({"monitor_id": 1, "source_id": 1, "text": "t"}, "external_id"),
    ({"monitor_id": 1, "source_id": 1, "external_id": "a" * 600, "text": "t"}, "longer"),
    ({"monitor_id": 1, "source_id": 1, "external_id": "a", "text": None}, "text"),
    ({"monitor_id": 1, "source_id": 1, "external_id": "a", "text": "t", "published_at": "yesterday"}, "ISO"),
])
def test_normalize_rejects(value, message):
    with pytest.raises(BadRecord, match=message):
        normalize(value, NOW)


def test_normalize_times():
    base = {"monitor_id": 1, "source_id": 2, "external_id": 3, "text": "t"}
    assert normalize(base, NOW)["published_at"] == NOW
    naive = normalize({**base, "published_at": "2026-04-30T10:00:00"}, NOW)["published_at"]
    assert naive == datetime(2026, 4, 30, 10, tzinfo=timezone.utc)
    future = normalize({**base, "published_at": "2030-01-01T00:00:00Z"}, NOW)["published_at"]
    assert future == NOW
    assert normalize(base, NOW)["external_id"] == "3"
