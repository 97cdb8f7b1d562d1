"""Pushes with hostile items (issue 18): a 202 means every item is stored, on SQLite and
PostgreSQL; what the worker would refuse (and dead-letter) is refused at once, the whole batch,
with each item's index, field and reason."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

YEAR_ONE = "0001-01-01T00:00:00+14:00"
YEAR_9999 = "9999-12-31T23:59:59-12:00"


@pytest.mark.parametrize("item, field", [
    ({"external_id": "9" * 600, "text": "long id"}, "external_id"),
    ({"external_id": int("9" * 600), "text": "600-digit integer id"}, "external_id"),
    ({"external_id": 2**63, "text": "just past 64 bits"}, "external_id"),
    ({"external_id": "a", "text": "old", "published_at": YEAR_ONE}, "published_at"),
    ({"external_id": "b", "text": "late", "published_at": YEAR_9999}, "published_at"),
    ({"external_id": "c", "text": "invalid day", "published_at": "2026-11-31"}, "published_at"),
    ({"external_id": "d", "text": "typo", "publishedAt": "2026-05-01T00:00:00Z"}, "publishedAt"),
    ({"external_id": True, "text": "bool id"}, "external_id"),
    ({"external_id": 1.0, "text": "float id"}, "external_id"),
    ({"external_id": "  ", "text": "blank id"}, "external_id"),
    ({"external_id": "e", "text": 5}, "text"),
])
def test_push_refuses_what_would_be_dead_lettered(app, client, auth, drain, item, field):
    monitor_id, _ = new_monitor(app)
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=[mention(1), item], headers=auth)
    assert response.status_code == 422, response.json
    problems = response.json["detail"]
    assert {"index": 1, "field": field} == {k: problems[0][k] for k in ("index", "field")}, problems
    assert problems[0]["reason"]
    drain()
    with app.app_context():   # all or nothing: the good item of the refused batch is not stored
        assert db.session.execute(select(Mention)).first() is None


def test_integer_and_string_ids_are_the_same_mention(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    for external_id in (1, "1", 2**63 - 1):
        response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth,
                               json=[{"external_id": external_id, "text": "same one"}])
        assert response.status_code == 202
    outcome = drain()
    with app.app_context():
        ids = sorted(db.session.execute(select(Mention.external_id)).scalars())
    assert ids == ["1", str(2**63 - 1)], outcome


def test_a_202_push_is_stored_whole(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    items = [mention(i, published_at=when) for i, when in enumerate(
        ["2026-05-01T10:00:00+02:00", "2026-05-01", 1_780_000_000, None, "1900-01-01T00:00:00Z"])]
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    assert response.status_code == 202 and response.json == {"accepted": 5}
    outcome = drain()
    with app.app_context():
        assert len(db.session.execute(select(Mention)).all()) == 5, outcome
