"""The terms API's per-process cache (TERMS_CACHE_SECONDS): one computed table per monitor and
aligned period serves both sorts and every limit until its seconds pass; other periods and
monitors are their own entries; 0 (the tests' default) computes every answer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.helpers import mention


def push(client, auth, monitor_id, texts, prefix):
    when = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    items = [mention(f"{prefix}{i}", text, published_at=when) for i, text in enumerate(texts)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=items).status_code == 202


def counts(client, auth, monitor_id, span, sort="count", limit=20):
    body = client.get(f"/api/v1/monitors/{monitor_id}/terms?range={span}&sort={sort}&limit={limit}",
                      headers=auth).get_json()
    return {t["term"]: t["count"] for t in body["terms"]}


def test_a_cached_table_serves_every_sort_and_limit_of_its_period(app, client, auth, drain):
    app.config["TERMS_CACHE_SECONDS"] = 300
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Cached", "query": ""}).get_json()["id"]
    push(client, auth, monitor_id, ["Acme battery fire"] * 4, "a")
    drain()
    assert counts(client, auth, monitor_id, "7d")["battery"] == 4
    push(client, auth, monitor_id, ["Acme battery fire"] * 3, "b")
    drain()
    assert counts(client, auth, monitor_id, "7d")["battery"] == 4              # the cached table
    assert counts(client, auth, monitor_id, "7d", limit=1) == {"acme": 4}      # the same table, cut
    assert counts(client, auth, monitor_id, "7d", sort="rising") == {}         # nothing before: none rises
    assert counts(client, auth, monitor_id, "24h")["battery"] == 7             # another period: computed now
    other = client.post("/api/v1/monitors", headers=auth, json={"name": "Other", "query": ""}).get_json()["id"]
    assert counts(client, auth, other, "7d") == {}


def test_without_the_cache_every_answer_is_computed(client, auth, drain):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Fresh", "query": ""}).get_json()["id"]
    push(client, auth, monitor_id, ["Acme battery fire"] * 2, "a")
    drain()
    assert counts(client, auth, monitor_id, "7d")["battery"] == 2
    push(client, auth, monitor_id, ["Acme battery fire"] * 3, "b")
    drain()
    assert counts(client, auth, monitor_id, "7d")["battery"] == 5
