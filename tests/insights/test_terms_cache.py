"""The terms API's per-process cache (TERMS_CACHE_SECONDS): one computed table per monitor and
aligned period serves both sorts and every limit until its seconds pass; other periods and
monitors are their own entries; 0 (the tests' default) computes every answer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.helpers import mention


def store(client, auth, drain, monitor_id, copies, prefix):
    """Push `copies` mentions of one text, five minutes old, and consume them."""
    when = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    items = [mention(f"{prefix}{i}", "Acme battery fire", published_at=when) for i in range(copies)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=items).status_code == 202
    drain()


def counts(client, auth, monitor_id, span, sort="count", limit=20):
    body = client.get(f"/api/v1/monitors/{monitor_id}/terms?range={span}&sort={sort}&limit={limit}",
                      headers=auth).get_json()
    return {t["term"]: t["count"] for t in body["terms"]}


def test_a_cached_table_serves_every_sort_and_limit_of_its_period(app, client, auth, drain):
    app.config["TERMS_CACHE_SECONDS"] = 300
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Cached", "query": ""}).get_json()["id"]
    store(client, auth, drain, monitor_id, 4, "a")
    assert counts(client, auth, monitor_id, "7d")["battery"] == 4
    store(client, auth, drain, monitor_id, 3, "b")
    assert counts(client, auth, monitor_id, "7d")["battery"] == 4              # the cached table
    assert counts(client, auth, monitor_id, "7d", limit=1) == {"acme": 4}      # the same table, cut
    assert counts(client, auth, monitor_id, "7d", sort="rising") == {}         # nothing before: none rises
    assert counts(client, auth, monitor_id, "24h")["battery"] == 7             # another period: computed now
    other = client.post("/api/v1/monitors", headers=auth, json={"name": "Other", "query": ""}).get_json()["id"]
    assert counts(client, auth, other, "7d") == {}


def test_without_the_cache_every_answer_is_computed(client, auth, drain):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Fresh", "query": ""}).get_json()["id"]
    store(client, auth, drain, monitor_id, 2, "a")
    assert counts(client, auth, monitor_id, "7d")["battery"] == 2
    store(client, auth, drain, monitor_id, 3, "b")
    assert counts(client, auth, monitor_id, "7d")["battery"] == 5
