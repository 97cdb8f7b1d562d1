"""The REST API against CONTRACT.md, including its error cases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases


def test_healthz_needs_no_auth(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_api_needs_a_valid_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/monitors", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_score_contract_example(client, auth):
    response = client.post("/api/v1/score", json={"text": "I love this place! The food is amazing."},
                           headers=auth)
    assert response.status_code == 200
    assert response.json == {"compound": 0.8516, "pos": 0.624, "neu": 0.376, "neg": 0.0, "label": "positive"}


def test_score_many_in_order(client, auth):
    response = client.post("/api/v1/score", json={"texts": ["awful", "fine day", "a chair"]}, headers=auth)
    labels = [r["label"] for r in response.json["results"]]
    assert labels == ["negative", "positive", "neutral"]


@pytest.mark.parametrize("body,status", [
    ({}, 422), ({"text": ""}, 422), ({"text": "a", "texts": ["b"]}, 422), ({"texts": []}, 422),
    ({"texts": ["x"] * 1001}, 422), ({"text": 5}, 422), ({"text": "a" * 20_001}, 422), ([1, 2], 422),
])
def test_score_bad_input(client, auth, body, status):
    response = client.post("/api/v1/score", json=body, headers=auth)
    assert response.status_code == status
    assert response.json["error"] == "validation_failed" and response.json["detail"]


def test_not_json_and_invalid_json(client, auth):
    assert client.post("/api/v1/score", data="text=hi", headers=auth).status_code == 415
    response = client.post("/api/v1/score", data="{nope", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


def test_unknown_route_and_method_answer_json(client, auth):
    assert client.get("/api/v1/nothing", headers=auth).json["error"] == "not_found"
    response = client.delete("/api/v1/score", headers=auth)
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"


def test_create_and_list_monitors(client, auth):
    body = {"name": "Brand", "query": 'acme AND "customer service" -job',
            "sources": [{"kind": "rss", "url": "https://example.com/feed.xml", "every": 600}, {"kind": "demo"}]}
    response = client.post("/api/v1/monitors", json=body, headers=auth)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["name"] == "Brand" and created["id"]
    assert [(s["kind"], s["every"]) for s in created["sources"]] == [("rss", 600), ("demo", 300)]
    listed = client.get("/api/v1/monitors", headers=auth).json
    assert [m["id"] for m in listed] == [created["id"]]
    assert client.get(f"/api/v1/monitors/{created['id']}", headers=auth).json["query"] == body["query"]


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "query": "(acme"}, "query"),
    ({"name": "x", "query": "acme AND"}, "query"),
    ({"name": "", "query": "a"}, "name"),
    ({"name": "x", "sources": [{"kind": "carrier-pigeon"}]}, "sources.0.kind"),
    ({"name": "x", "sources": [{"kind": "rss"}]}, "sources.0.url"),
    ({"name": "x", "sources": [{"kind": "rss", "url": "ftp://example.com/f"}]}, "sources.0.url"),
    ({"name": "x", "sources": [{"kind": "demo", "every": 5}]}, "sources.0.every"),
    ({"name": "x", "colour": "red"}, "colour"),
])
def test_monitor_validation_errors_point_at_the_field(client, auth, body, field):
    response = client.post("/api/v1/monitors", json=body, headers=auth)
    assert response.status_code == 422, response.json
    detail = response.json["detail"]
    keys = [d["loc"] for d in detail] if isinstance(detail, list) else list(detail)
    normalised = [k.replace("[", ".").replace("]", "") for k in keys]
    assert any(k.startswith(field) for k in normalised), detail


def test_query_error_names_the_position(client, auth):
    response = client.post("/api/v1/monitors", json={"name": "x", "query": "acme OR (b"}, headers=auth)
    assert "position" in response.json["detail"]["query"]


def test_push_list_and_series(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    now = datetime.now(timezone.utc)
    items = [mention(i, published_at=(now - timedelta(minutes=i)).isoformat()) for i in range(30)]
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    assert response.status_code == 202 and response.json == {"accepted": 30}
    drain()
    listed = client.get(f"/api/v1/monitors/{monitor_id}/mentions?limit=5", headers=auth).json
    assert listed["total"] == 30 and len(listed["items"]) == 5
    first = listed["items"][0]
    assert first["external_id"] == "m0" and first["label"] == "positive" and first["source"] == "push"
    series = client.get(f"/api/v1/monitors/{monitor_id}/series?bucket=15m", headers=auth).json
    assert sum(b["count"] for b in series["buckets"]) == 30
    assert set(series["buckets"][0]) == {"start", "count", "avg_compound", "positive", "neutral", "negative"}
    # Pushing the same mentions again adds none.
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    drain()
    again = client.get(f"/api/v1/monitors/{monitor_id}/series?bucket=1d", headers=auth).json
    assert sum(b["count"] for b in again["buckets"]) == 30
    assert client.get(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth).json["total"] == 30


def test_mentions_filters(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    items = [mention(1, "I love it"), mention(2, "I hate it"), mention(3, "It is a table")]
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    drain()
    for label, expected in (("positive", ["m1"]), ("negative", ["m2"]), ("neutral", ["m3"])):
        got = client.get(f"/api/v1/monitors/{monitor_id}/mentions?label={label}", headers=auth).json
        assert [i["external_id"] for i in got["items"]] == expected
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    got = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string={"since": future}, headers=auth)
    assert got.json["total"] == 0


@pytest.mark.parametrize("body", [
    [], {"external_id": "a", "text": "b"}, [{"text": "no id"}], [{"external_id": "a"}],
    [{"external_id": "a", "text": "t", "published_at": "not a time"}],
    [{"external_id": "", "text": "t"}], [{"external_id": "a", "text": "t"}] * 5001,
])
def test_push_bad_input(app, client, auth, body):
    monitor_id, _ = new_monitor(app)
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=body, headers=auth)
    assert response.status_code == 422 and response.json["error"] == "validation_failed"


@pytest.mark.parametrize("query", [
    "limit=0", "limit=5000", "limit=abc", "label=happy", "since=yesterday", "offset=-1",
])
def test_list_bad_query(app, client, auth, query):
    monitor_id, _ = new_monitor(app)
    response = client.get(f"/api/v1/monitors/{monitor_id}/mentions?{query}", headers=auth)
    assert response.status_code == 422


@pytest.mark.parametrize("query,status", [
    ("bucket=2h", 422), ("start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", 400),
    ("bucket=15m&start=2000-01-01T00:00:00Z", 400), ("end=soon", 422),
])
def test_series_bad_query(app, client, auth, query, status):
    monitor_id, _ = new_monitor(app)
    assert client.get(f"/api/v1/monitors/{monitor_id}/series?{query}", headers=auth).status_code == status


def test_unknown_monitor_is_404(client, auth):
    for path in ("/api/v1/monitors/999", "/api/v1/monitors/999/mentions", "/api/v1/monitors/999/series"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404 and response.json["error"] == "not_found"
    response = client.post("/api/v1/monitors/999/mentions", json=[mention(1)], headers=auth)
    assert response.status_code == 404


def test_viewer_cannot_write(app, client):
    from webapp.people.auth import create_token
    from webapp.core.extensions import db
    from webapp.people.models import User

    from tests.helpers import make_user

    make_user(app, email="viewer@example.com", role="viewer")
    with app.app_context():
        secret = create_token(db.session.execute(db.select(User).where(User.email == "viewer@example.com")).scalar_one())
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/monitors", headers=headers).status_code == 200
    assert client.post("/api/v1/monitors", json={"name": "x"}, headers=headers).status_code == 403


def test_too_large_body_is_413(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/score", json={"text": "x" * 5000}, headers=auth)
    assert response.status_code == 413 and response.json["error"]


def test_openapi_describes_every_route(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/healthz", "/api/v1/score", "/api/v1/monitors", "/api/v1/monitors/{monitor_id}/mentions",
                 "/api/v1/monitors/{monitor_id}/series"):
        assert path in spec["paths"]
    assert {"ScoreIn", "MonitorIn", "MentionIn", "Error"} <= set(spec["components"]["schemas"])
