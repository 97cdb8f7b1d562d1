"""GET /api/v1/monitors/<id>/terms on SQLite and PostgreSQL: counts against the period before,
rising terms by the statistic, bad parameters answered 400, other teams' monitors 404."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import make_user, mention

pytestmark = pytest.mark.both_databases


def push(client, auth, monitor_id, texts, when, prefix):
    items = [mention(f"{prefix}{i}", text, published_at=when.isoformat()) for i, text in enumerate(texts)]
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=items)
    assert response.status_code == 202, response.get_json()


@pytest.fixture
def monitor(client, auth, drain):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Terms", "query": ""}).get_json()["id"]
    now = datetime.now(timezone.utc)
    today, last_week = now - timedelta(hours=1), now - timedelta(days=10)
    # the previous 7 days: the delivery is steady, the battery is quiet
    push(client, auth, monitor_id, ["Acme delivery was quick and friendly"] * 40 + ["Acme battery is fine"] * 2
         + ["Another lovely Acme delivery"] * 20, last_week, "old")
    # the last 7 days: a battery fire story spreads; the delivery stays; one fluke word appears 3 times
    push(client, auth, monitor_id, ["Acme battery fire reported in Ohio"] * 30 + ["Acme delivery was quick"] * 40
         + ["Zebra sighting near Acme"] * 3 + ["Acme battery fire again, terrible"] * 10, today, "new")
    drain()
    return monitor_id


def test_terms_by_count_and_rising(client, auth, monitor):
    body = client.get(f"/api/v1/monitors/{monitor}/terms?range=7d&sort=count&limit=5", headers=auth).get_json()
    terms = {t["term"]: t for t in body["terms"]}
    assert body["terms"][0]["term"] == "acme" and body["terms"][0]["count"] == 83
    assert len(body["terms"]) == 5 and body["complete"] is True
    assert set(body["terms"][0]) == {"term", "count", "previous", "rising", "avg_compound"}
    assert terms["acme"]["previous"] == 62
    rising = client.get(f"/api/v1/monitors/{monitor}/terms?range=7d", headers=auth).get_json()["terms"]
    names = [t["term"] for t in rising]
    assert "battery" in names[0] or "fire" in names[0], rising
    assert "battery fire" in names and "zebra" in names
    assert names.index("battery fire") < names.index("zebra")        # 0 -> 40 beats 0 -> 3
    assert "delivery" not in names                                     # it fell in share
    fire = next(t for t in rising if t["term"] == "battery fire")
    assert fire["count"] == 40 and fire["previous"] == 0 and fire["rising"] > 3
    assert fire["avg_compound"] < 0
    assert all(a["rising"] >= b["rising"] for a, b in zip(rising, rising[1:]))


def test_an_empty_monitor_has_no_terms(client, auth):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Empty", "query": ""}).get_json()["id"]
    for sort in ("rising", "count"):
        for span in ("24h", "7d", "30d", "90d"):
            response = client.get(f"/api/v1/monitors/{monitor_id}/terms?range={span}&sort={sort}", headers=auth)
            assert response.status_code == 200 and response.get_json()["terms"] == []


@pytest.mark.parametrize("query", ["range=1y", "range=", "sort=up", "limit=0", "limit=101", "limit=x",
                                   "limit=99999999999999999999999", "range=%00", "sort=count&limit=-1"])
def test_bad_parameters_are_a_400(client, auth, monitor, query):
    response = client.get(f"/api/v1/monitors/{monitor}/terms?{query}", headers=auth)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] in {"invalid_parameters", "nul_byte"}   # the input guard takes NULs


def test_other_teams_and_missing_monitors_are_404(app, client, auth, monitor):
    from webapp.core.extensions import db
    from webapp.people.auth import create_token
    from webapp.people.models import User

    make_user(app, email="outsider@example.com", team="Elsewhere")
    with app.app_context():
        outsider = create_token(db.session.execute(db.select(User).where(User.email == "outsider@example.com")).scalar_one())
    headers = {"Authorization": f"Bearer {outsider}"}
    assert client.get(f"/api/v1/monitors/{monitor}/terms", headers=headers).status_code == 404
    assert client.get("/api/v1/monitors/987654321/terms", headers=auth).status_code == 404
    assert client.get(f"/api/v1/monitors/{monitor}/terms").status_code == 401


def test_openapi_describes_terms(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/monitors/{monitor_id}/terms" in spec["paths"]
    assert set(spec["components"]["schemas"]["Term"]["properties"]) == {"term", "count", "previous", "rising",
                                                                         "avg_compound"}
