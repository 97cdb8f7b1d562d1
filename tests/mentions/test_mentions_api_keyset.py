"""The mentions API's `before`: keyset paging newest first (only the rows returned are read, where
an offset reads every row it skips), the same items as one listing, ties in time included, with
other filters, on both databases; a bad `before` is a 400 or 422 naming it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from webapp.core.extensions import db
from webapp.ingest.models import Mention

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def listed(app):
    monitor_id, push_id = new_monitor(app, name="Keyset")
    other_id, other_push = new_monitor(app, name="Other")
    with app.app_context():
        db.session.execute(insert(Mention), [{
            "monitor_id": mid, "source_id": sid, "external_id": f"k{i}", "text": f"mention {i}",
            "published_at": T0 - timedelta(minutes=i // 3),   # three at each time: ties across pages
            "ingested_at": T0, "compound": 0.5 if i % 2 else -0.5, "scored": True, "pos": 0.3, "neu": 0.7,
            "neg": 0.0, "label": "positive" if i % 2 else "negative", "muted": False}
            for mid, sid in ((monitor_id, push_id), (other_id, other_push)) for i in range(23)])
        db.session.commit()
        db.session.remove()
    return monitor_id, other_id


def _walk(client, auth, monitor_id: int, limit: int, **params) -> list[int]:
    seen, before = [], None
    for _ in range(50):
        query = {"limit": limit, **params, **({"before": before} if before else {})}
        answer = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string=query, headers=auth)
        assert answer.status_code == 200, answer.get_json()
        items = answer.get_json()["items"]
        if not items:
            return seen
        seen += [item["id"] for item in items]
        before = items[-1]["id"]
    raise AssertionError("the keyset walk did not end")


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 100])
@pytest.mark.parametrize("params", [{}, {"label": "positive"}, {"since": "2026-11-30T11:56:00Z"}])
def test_before_walks_the_same_items_as_one_listing(client, auth, listed, limit, params):
    monitor_id, _ = listed
    whole = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string={"limit": 1000, **params},
                       headers=auth).get_json()["items"]
    walked = _walk(client, auth, monitor_id, limit, **params)
    assert walked == [item["id"] for item in whole] and len(set(walked)) == len(walked) > 0


def test_total_counts_from_the_cursor(client, auth, listed):
    monitor_id, _ = listed
    first = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string={"limit": 4}, headers=auth).get_json()
    after = client.get(f"/api/v1/monitors/{monitor_id}/mentions",
                       query_string={"limit": 4, "before": first["items"][-1]["id"]}, headers=auth).get_json()
    assert (first["total"], after["total"]) == (23, 19)


def test_a_bad_before_is_named(client, auth, listed):
    monitor_id, other_id = listed
    url = f"/api/v1/monitors/{monitor_id}/mentions"
    foreign = client.get(f"/api/v1/monitors/{other_id}/mentions", headers=auth).get_json()["items"][0]["id"]
    mine = client.get(url, headers=auth).get_json()["items"][0]["id"]
    for query, status in (({"before": foreign}, 400), ({"before": 99_999_999}, 400), ({"before": str(2**63)}, 422),
                          ({"before": "²"}, 422), ({"before": "x"}, 422), ({"before": "9" * 5_000}, 422),
                          ({"before": mine, "sort": "positive"}, 400)):
        answer = client.get(url, query_string=query, headers=auth)
        assert answer.status_code == status, (query, answer.status_code, answer.get_json())
        assert "before" in str(answer.get_json()["detail"]), query
