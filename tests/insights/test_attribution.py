"""Spike attribution: near-duplicate clusters (MinHash + LSH), the breakdown and its summary
(pure), and a volume spike made of syndicated copies and one loud author, explained in the
webhook payload, the e-mail, the alert page and the on-demand API (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from webapp.insights.attribution import decompose, minhash

from tests.alert_fixtures import push, webhook_server  # noqa: F401 (fixture)

STORY = ("Acme Corp recalls 40,000 rocket batteries after reports of overheating in several states, "
         "the company said on Tuesday in a statement to regulators")
HEADS = ["BREAKING", "Wire", "Update", "Markets", "Tech news"]


def syndicated(n: int) -> list[str]:
    return [f"{HEADS[i % len(HEADS)]}: {STORY} https://site{i}.example/story?utm={i}" for i in range(n)]


def test_minhash_clusters_syndicated_copies_and_nothing_else():
    others = [f"Honest review number {i}: the {w} of the Acme {x} was {y}" for i, (w, x, y) in enumerate(
        (w, x, y) for w in ("price", "speed", "colour", "weight") for x in ("rocket", "drone", "car")
        for y in ("great", "poor", "fine"))]
    texts = others[:10] + syndicated(12) + others[10:] + ["short", "short"]
    groups = minhash.clusters(texts)
    assert sorted(groups[0]) == list(range(10, 22))
    assert all(len(g) < 5 for g in groups[1:])
    assert minhash.clusters([]) == [] and minhash.clusters(["", "", "x"]) == [[0, 1]]
    assert minhash.clusters(texts) == groups                     # seeded: the same every time


def test_domain_and_the_summary_of_a_breakdown():
    assert decompose.domain("https://WWW.Example.com:8080/x") == "example.com"
    assert decompose.domain("not a url at all") is None and decompose.domain(None) is None
    assert decompose.domain("http://[::1") is None
    items = [decompose.Item(t, "rss", f"wire{i}", f"https://site{i}.example/a") for i, t in enumerate(syndicated(40))]
    items += [decompose.Item(f"My take #{i} on Acme", "push", "loudmouth") for i in range(15)]
    groups = minhash.clusters([i.text for i in items])
    result = decompose.attribute(items, 55, 2.0, groups, [])
    assert result["excess"] == 53.0
    assert result["summary"] == "76 % of the excess is one story repeated on 40 sites"
    assert result["authors"][0] == {"value": "loudmouth", "count": 15, "share": 0.283}
    assert result["clusters"][0]["sites"] == 40 and result["clusters"][0]["count"] == 40
    loud = decompose.attribute(items[40:], 15, None, [], [])
    assert loud["summary"] == "100 % of the mentions is one author, loudmouth"
    assert decompose.attribute([], 0, 3.0, [], [])["summary"] == "No mentions in this bucket."




@pytest.mark.both_databases
def test_a_spike_of_copies_and_one_loud_author_is_explained_everywhere(app, client, auth, drain, logged_in,
                                                                      webhook_server):  # noqa: F811
    from webapp.alerting import evaluation
    from webapp.alerting.notifiers import email
    from webapp.alerting.notifiers.tasks import deliver
    from webapp.core.extensions import db

    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Acme", "query": ""}).json["id"]
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url}, headers=auth).json
    client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "volume_spike", "window": "1h", "z": 3.5, "ratio": 2, "min_count": 10, "notifiers": [hook["id"]]})
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    history = [{"external_id": f"bg{h}-{i}", "text": f"Acme rocket news {h} {i}, nothing special",
                "author": f"reader{h % 7}", "published_at": (hour - timedelta(hours=h, minutes=-10 - 30 * i)).isoformat()}
               for h in range(1, 8 * 24 + 1) for i in range(2)]
    copies = [{"external_id": f"copy{i}", "text": text, "author": f"wire desk {i}", "url": f"https://site{i}.example/s",
               "published_at": (hour + timedelta(minutes=20, seconds=i)).isoformat()}
              for i, text in enumerate(syndicated(40))]
    loud = [{"external_id": f"loud{i}", "text": f"Acme is the worst, thread part {i} of my rant", "author": "loudmouth",
             "published_at": (hour + timedelta(minutes=21, seconds=i)).isoformat()} for i in range(15)]
    push(client, auth, drain, monitor_id, history + copies + loud)

    reports = []
    for step in range(0, 5):
        with app.app_context():
            now = hour + timedelta(minutes=15 * step, seconds=150)
            reports += evaluation.evaluate_due(db.session, now, lag_seconds=120, public_url="http://sentimon.test")
            db.session.remove()
    fired = [r for r in reports if r.notification == "firing"]
    assert len(fired) == 1
    assert deliver(fired[0].deliveries[0])["outcome"] == "sent"
    payload = json.loads(webhook_server.requests[0].body)
    why = payload["data"]["details"]["attribution"]
    assert why["summary"].endswith("of the excess is one story repeated on 40 sites"), why["summary"]
    assert why["clusters"][0]["count"] == 40 and why["clusters"][0]["sites"] == 40
    assert why["authors"][0]["value"] == "loudmouth" and why["authors"][0]["count"] == 15
    assert why["baseline_method"] in ("hour_of_week", "trailing_7d") and why["excess"] > 40
    assert {t["term"] for t in why["terms"]} & {"batteries", "overheating", "recalls", "rocket batteries"}

    subject, text, html = email.render(payload)
    assert "Why: " + why["summary"] in text and why["summary"] in html

    page = logged_in.get(f"/alerts/events/{fired[0].event_id}").get_data(as_text=True)
    assert 'id="attribution-summary"' in page and why["summary"] in page and "loudmouth" in page

    on_demand = client.get(f"/api/v1/monitors/{monitor_id}/attribution?bucket=1h&start={hour.isoformat()}",
                           headers=auth)
    assert on_demand.status_code == 200, on_demand.json
    assert on_demand.json["summary"].endswith("of the excess is one story repeated on 40 sites")
    assert on_demand.json["count"] == 55 and on_demand.json["authors"][0]["value"] == "loudmouth"


@pytest.mark.parametrize("query", ["", "bucket=1h", "bucket=2h&start=2026-01-01T00:00:00Z", "start=yesterday",
                                   "start=99999-01-01", "start=1800-01-01T00:00:00Z", "bucket=&start=2026-01-01"])
def test_attribution_bad_parameters_are_a_400(app, client, auth, query):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "A", "query": ""}).json["id"]
    response = client.get(f"/api/v1/monitors/{monitor_id}/attribution?{query}", headers=auth)
    assert response.status_code == 400, response.json
    assert client.get(f"/api/v1/monitors/987654/attribution?start=2026-01-01", headers=auth).status_code == 404


def test_attribution_of_an_empty_bucket(app, client, auth):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "A", "query": ""}).json["id"]
    body = client.get(f"/api/v1/monitors/{monitor_id}/attribution?bucket=1d&start=2026-01-01T13:00:00Z",
                      headers=auth).json
    assert body["start"].startswith("2026-01-01T00:00:00") and body["count"] == 0 and body["baseline"] is None
    assert body["summary"] == "No mentions in this bucket."
