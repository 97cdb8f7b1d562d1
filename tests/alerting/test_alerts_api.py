"""The alerting REST API (CONTRACT.md) and the end-to-end path: a spike pushed through the API
produces exactly one firing and, once its window has passed, exactly one resolved webhook."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.alerting import evaluation

from tests.alert_fixtures import push, webhook_server  # noqa: F401  (fixture)
from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

LAG = 120


def test_create_notifiers(client, auth):
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": "http://127.0.0.1:9/h"}, headers=auth)
    assert hook.status_code == 201
    assert hook.json["secret"].startswith("whsec_") and hook.json["id"]
    given = client.post("/api/v1/notifiers", headers=auth, json={
        "kind": "webhook", "url": "https://hooks.example.com/x", "secret": "whsec_" + "QUJD" * 8, "name": "Ops"})
    assert given.status_code == 201 and "secret" not in given.json and given.json["name"] == "Ops"
    mail = client.post("/api/v1/notifiers", json={"kind": "email", "to": ["a@example.com"]}, headers=auth)
    assert mail.status_code == 201 and "secret" not in mail.json
    listed = client.get("/api/v1/notifiers", headers=auth).json
    assert [n["kind"] for n in listed] == ["webhook", "webhook", "email"]
    assert all("secret" not in n for n in listed)


@pytest.mark.parametrize("body,field", [
    ({"kind": "pager"}, "kind"),
    ({"kind": "webhook"}, "url"),
    ({"kind": "webhook", "url": "ftp://example.com/x"}, "url"),
    ({"kind": "webhook", "url": "http://169.254.169.254/latest"}, "url"),
    ({"kind": "webhook", "url": "https://example.com/h", "secret": "plain"}, "secret"),
    ({"kind": "webhook", "url": "https://example.com/h", "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"kind": "email", "to": []}, "to"),
    ({"kind": "email", "to": ["not an address"]}, "to"),
    ({"kind": "email", "url": "https://example.com"}, ""),
])
def test_bad_notifiers_are_422(client, auth, body, field):
    response = client.post("/api/v1/notifiers", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation_failed"
    assert any(d["loc"].startswith(field) for d in response.json["detail"]), response.json


def test_notifiers_need_an_editor(app, client, auth):
    from webapp.people.auth import create_token
    from webapp.people.models import User

    from tests.helpers import make_user

    make_user(app, email="viewer@example.com", role="viewer")
    with app.app_context():
        token = create_token(db.session.execute(db.select(User).filter_by(email="viewer@example.com")).scalar_one())
    viewer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/notifiers", headers=viewer).status_code == 200
    assert client.post("/api/v1/notifiers", json={"kind": "email", "to": ["a@example.com"]},
                       headers=viewer).status_code == 403
    assert client.get("/api/v1/notifiers").status_code == 401


def test_create_and_list_rules(app, client, auth):
    monitor_id, _ = new_monitor(app)
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": "http://127.0.0.1:9/h"}, headers=auth).json
    created = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "avg_sentiment", "window": "6h", "op": "<=", "threshold": -0.25, "min_mentions": 20,
        "for_seconds": 900, "cooldown_seconds": 3600, "notifiers": [hook["id"]]})
    assert created.status_code == 201, created.json
    rule = created.json
    assert (rule["kind"], rule["window"], rule["op"], rule["threshold"], rule["notifiers"]) == (
        "avg_sentiment", "6h", "<=", -0.25, [hook["id"]])
    assert rule["state"]["state"] == "normal" and rule["name"] == "Average sentiment <= -0.25 over 6h"
    spike = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "volume_spike", "window": "1h", "z": 4, "ratio": 3, "min_count": 25, "notifiers": []}).json
    assert (spike["z"], spike["ratio"], spike["min_count"]) == (4, 3, 25)
    share = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth,
                        json={"kind": "negative_share", "threshold": 40, "notifiers": []}).json
    assert (share["op"], share["window"], share["min_mentions"]) == (">=", "1h", 5)
    listed = client.get(f"/api/v1/monitors/{monitor_id}/rules", headers=auth).json
    assert [r["id"] for r in listed] == [rule["id"], spike["id"], share["id"]]
    assert client.get(f"/api/v1/rules/{spike['id']}", headers=auth).json["kind"] == "volume_spike"
    assert client.delete(f"/api/v1/rules/{spike['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/rules/{spike['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"kind": "avg_sentiment"}, "threshold"),
    ({"kind": "avg_sentiment", "threshold": 2}, "threshold"),
    ({"kind": "negative_share", "threshold": 120}, "threshold"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "window": "2h"}, "window"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "op": "=="}, "op"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "notifiers": [999]}, "notifiers"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "z": 3}, "z"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "min_mentions": -1}, "min_mentions"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "repeat_seconds": 60}, "repeat_seconds"),
    ({"kind": "volume_spike", "threshold": 10}, "threshold"),
    ({"kind": "volume_spike", "ratio": 0.5}, "ratio"),
    ({"kind": "mention_match"}, "query"),
    ({"kind": "mention_match", "query": "acme AND ("}, "query"),
    ({"kind": "mention_match", "query": "acme", "digest_cap": 50}, "digest_cap"),
    ({"kind": "page_me"}, "kind"),
    ({"kind": "avg_sentiment", "threshold": -0.2, "colour": "red"}, "colour"),
])
def test_bad_rules_are_422_with_the_field(app, client, auth, body, field):
    monitor_id, _ = new_monitor(app)
    response = client.post(f"/api/v1/monitors/{monitor_id}/rules", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert any(d["loc"].startswith(field) for d in response.json["detail"]), response.json


def test_rules_of_a_missing_monitor_and_bad_bodies(app, client, auth):
    monitor_id, _ = new_monitor(app)
    assert client.post("/api/v1/monitors/999/rules", json={"kind": "volume_spike"}, headers=auth).status_code == 404
    assert client.post(f"/api/v1/monitors/{monitor_id}/rules", data="x", headers=auth).status_code == 415
    bad_json = client.post(f"/api/v1/monitors/{monitor_id}/rules", data="{x",
                           headers={**auth, "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json["error"] == "invalid_json"
    assert client.post(f"/api/v1/monitors/{monitor_id}/rules", json=[1], headers=auth).status_code == 422
    assert client.get("/api/v1/monitors/999/alerts", headers=auth).status_code == 404
    assert client.post("/api/v1/notifiers/999/test", headers=auth).status_code == 404
    assert client.post("/api/v1/deliveries/999/redeliver", headers=auth).status_code == 404


def test_silences_api(app, client, auth):
    monitor_id, _ = new_monitor(app)
    bad = client.post(f"/api/v1/monitors/{monitor_id}/silences", json={"reason": "x"}, headers=auth)
    assert bad.status_code == 422
    past = client.post(f"/api/v1/monitors/{monitor_id}/silences", headers=auth,
                       json={"ends_at": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json["detail"][0]["loc"] == "ends_at"
    wrong_rule = client.post(f"/api/v1/monitors/{monitor_id}/silences", headers=auth,
                             json={"rule_id": 12345, "duration_minutes": 5})
    assert wrong_rule.status_code == 422
    made = client.post(f"/api/v1/monitors/{monitor_id}/silences", headers=auth,
                       json={"duration_minutes": 90, "reason": "deploy"})
    assert made.status_code == 201 and made.json["rule_id"] is None
    active = client.get(f"/api/v1/monitors/{monitor_id}/silences", headers=auth).json
    assert [s["id"] for s in active] == [made.json["id"]]
    assert client.delete(f"/api/v1/silences/{made.json['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/monitors/{monitor_id}/silences", headers=auth).json == []


def test_backtest_over_stored_rollups(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=10)
    items = [{"external_id": f"h{h}-{i}", "text": "an ordinary day",
              "published_at": (base + timedelta(hours=h)).isoformat()}
             for h in range(9 * 24) for i in range(2)]
    items += [{"external_id": f"s{i}", "text": "everyone is talking", "published_at":
               (base + timedelta(days=9, minutes=5)).isoformat()} for i in range(40)]
    push(client, auth, drain, monitor_id, items)
    unsaved = client.post(f"/api/v1/monitors/{monitor_id}/rules/backtest", headers=auth,
                          json={"kind": "volume_spike", "window": "1h"})
    assert unsaved.status_code == 200, unsaved.json
    summary = unsaved.json["summary"]
    assert summary["fired"] == 1 and summary["resolved"] == 1 and summary["notifications"] == 2
    fired_at = datetime.fromisoformat(summary["firings"][0][0])
    assert base + timedelta(days=9) < fired_at <= base + timedelta(days=9, hours=1)
    assert len(unsaved.json["points"]) == 30 * 96
    rule = client.post(f"/api/v1/monitors/{monitor_id}/rules", json={"kind": "volume_spike"}, headers=auth).json
    saved = client.post(f"/api/v1/rules/{rule['id']}/backtest", headers=auth).json
    assert saved["summary"]["fired"] == 1
    bad = client.post(f"/api/v1/monitors/{monitor_id}/rules/backtest", json={"kind": "avg_sentiment"}, headers=auth)
    assert bad.status_code == 422


def test_openapi_documents_the_alerting_api(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/notifiers", "/api/v1/monitors/{monitor_id}/rules", "/api/v1/monitors/{monitor_id}/alerts",
                 "/api/v1/notifiers/{notifier_id}/test", "/api/v1/rules/{rule_id}/backtest",
                 "/api/v1/monitors/{monitor_id}/silences", "/api/v1/deliveries/{delivery_id}/redeliver"):
        assert path in spec["paths"], path
    assert {"NotifierIn", "RuleIn", "SilenceIn", "AlertEvent", "Delivery"} <= set(spec["components"]["schemas"])


def test_a_spike_through_the_api_fires_once_and_resolves_once(app, client, auth, drain, webhook_server):
    """End to end: REST push → bus → rollups → evaluation (time driven) → outbox → signed webhooks."""
    from webapp.alerting.notifiers.tasks import deliver

    monitor_id, _ = new_monitor(app, name="Acme")
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url}, headers=auth).json
    rule = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "volume_spike", "window": "1h", "z": 3.5, "ratio": 2, "min_count": 10,
        "notifiers": [hook["id"]]}).json
    spike_hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    history = [{"external_id": f"bg{h}-{i}", "text": "Acme rocket news, nothing special",
                "published_at": (spike_hour - timedelta(hours=h) + timedelta(minutes=10 + 30 * i)).isoformat()}
               for h in range(1, 8 * 24 + 1) for i in range(2)]
    spike = [{"external_id": f"spike{i}", "text": f"Acme rocket exploded on the pad! report {i}",
              "published_at": (spike_hour + timedelta(minutes=20, seconds=i)).isoformat()} for i in range(30)]
    push(client, auth, drain, monitor_id, history + spike)

    sent = []
    for step in range(0, 13):                                   # every 15 minutes for 3 hours
        now = spike_hour + timedelta(minutes=15 * step, seconds=LAG + 30)
        for _ in range(2):                                      # beat ran twice: still evaluated once
            with app.app_context():
                reports = evaluation.evaluate_due(db.session, now, lag_seconds=LAG,
                                                  public_url="http://sentimon.test")
                db.session.remove()
            for report in reports:
                for delivery_id in report.deliveries:
                    assert deliver(delivery_id)["outcome"] == "sent"
                    assert deliver(delivery_id)["outcome"] == "skipped"
                    sent.append((step, delivery_id))
    payloads = [json.loads(r.body) for r in webhook_server.requests]
    assert [p["type"] for p in payloads] == ["alert.firing", "alert.resolved"]
    firing, resolved = payloads
    assert firing["data"]["value"] == 31.0 and firing["data"]["window"] == "1h"   # spike + 1 background
    assert firing["data"]["threshold"] == 10.0 and firing["data"]["status"] == "firing"
    assert len(firing["data"]["sample_mentions"]) == 5
    assert all("exploded" in m["text"] for m in firing["data"]["sample_mentions"])
    assert firing["data"]["link"] == f"http://sentimon.test/monitors/{monitor_id}/alerts"
    assert resolved["data"]["status"] == "resolved" and resolved["data"]["rule"]["id"] == rule["id"]
    # fired when the spike's 15-minute bucket closed, resolved once the 1 h window no longer held it
    assert [s for s, _ in sent] == [2, 6]
    alerts = client.get(f"/api/v1/monitors/{monitor_id}/alerts", headers=auth).json
    assert [(a["from"], a["to"], a["notification"]) for a in alerts] == [
        ("resolved", "normal", None), ("firing", "resolved", "resolved"), ("normal", "firing", "firing")]
    deliveries = client.get(f"/api/v1/alerts/{alerts[2]['id']}/deliveries", headers=auth).json
    assert [(d["status"], d["attempts"], d["last_http_status"]) for d in deliveries] == [("sent", 1, 200)]
