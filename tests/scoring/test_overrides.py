"""Label overrides: the effective label changes, the scored one is kept, rollups follow in every
bucket and source row (counts and compound sums unchanged), clearing restores; page and API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import ALL_SOURCES, Mention, Rollup
from webapp.scoring import overrides
from webapp.ingest import rollups

from tests.helpers import make_user
from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc)


def rollup_rows(monitor_id: int) -> dict:
    return {(r.source_id, r.bucket, r.start): (r.count, round(r.sum_compound, 6), r.positive, r.neutral, r.negative)
            for r in db.session.execute(select(Rollup).where(Rollup.monitor_id == monitor_id)).scalars()}


def from_mentions(monitor_id: int) -> dict:
    rows = db.session.execute(select(Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound,
                                     Mention.label).where(Mention.monitor_id == monitor_id)).mappings()
    return {(s, b, t): (d.count, round(d.sum_compound, 6), d.positive, d.neutral, d.negative)
            for (_, s, b, t), d in rollups.deltas(rows).items()}


def test_label_moves_are_one_count_per_bucket_and_source():
    moves = overrides.label_moves(1, 7, T0, "positive", "negative")
    assert len(moves) == 2 * len(rollups.BUCKETS)
    assert {(k[1], k[2]) for k in moves} == {(s, b) for s in (7, ALL_SOURCES) for b in rollups.BUCKETS}
    assert all((d.count, d.sum_compound, d.positive, d.neutral, d.negative) == (0, 0.0, -1, 0, 1) for d in moves.values())
    assert moves[(1, 7, "1h", datetime(2026, 3, 2, 12, tzinfo=timezone.utc))]
    assert overrides.label_moves(1, 7, T0, "neutral", "neutral") == {}


@pytest.fixture
def pushed(app, logged_in, auth, drain):
    monitor_id, push_id = new_monitor(app, name="Overrides")
    items = [mention(1, "I love this, it is wonderful", published_at=T0.isoformat()),
             mention(2, "This is terrible", published_at=(T0 + timedelta(minutes=3)).isoformat()),
             mention(3, "A plain note", published_at=(T0 - timedelta(days=1)).isoformat())]
    assert logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    with app.app_context():
        found = {m.external_id: m.id for m in db.session.execute(
            select(Mention).where(Mention.monitor_id == monitor_id)).scalars()}
        db.session.remove()
    return monitor_id, found


def test_api_override_moves_the_rollups_and_clearing_restores(app, client, auth, pushed):
    monitor_id, ids = pushed
    with app.app_context():
        before = rollup_rows(monitor_id)
        assert before == from_mentions(monitor_id)
    url = f"/api/v1/monitors/{monitor_id}/mentions/{ids['m1']}"
    response = client.patch(url, json={"label": "negative"}, headers=auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["label"], body["scored_label"], body["overridden"], body["previous_label"]) == \
        ("negative", "positive", True, "positive")
    with app.app_context():
        m = db.session.get(Mention, ids["m1"])
        assert (m.label, m.scored_label, m.model_label, m.is_overridden) == ("negative", "positive", "positive", True)
        assert m.overridden_by_id is not None and m.overridden_at is not None
        after = rollup_rows(monitor_id)
        assert after == from_mentions(monitor_id)  # every bucket and source row follows
        changed = {k for k in after if after[k] != before[k]}
        assert len(changed) == 2 * len(rollups.BUCKETS)
        for key in changed:
            (c0, s0, p0, n0, g0), (c1, s1, p1, n1, g1) = before[key], after[key]
            assert (c1, s1, p1, n1, g1) == (c0, s0, p0 - 1, n0, g0 + 1)
        db.session.remove()
    # overriding again moves from the current label; the scored one stays
    assert client.patch(url, json={"label": "neutral"}, headers=auth).get_json()["scored_label"] == "positive"
    assert client.patch(url, json={"label": None}, headers=auth).get_json() | {"overridden_at": None} == {
        "id": ids["m1"], "label": "positive", "scored_label": "positive", "overridden": False,
        "previous_label": "neutral", "overridden_by_id": None, "overridden_at": None}
    with app.app_context():
        assert rollup_rows(monitor_id) == before
        m = db.session.get(Mention, ids["m1"])
        assert (m.label, m.scored_label, m.overridden_at, m.overridden_by_id) == ("positive", None, None, None)
    # the series API (rollups) reports it too
    series = client.get(f"/api/v1/monitors/{monitor_id}/series?bucket=1d&start=2026-02-28T00:00:00Z"
                        f"&end=2026-03-04T00:00:00Z", headers=auth).get_json()["buckets"]
    assert sum(b["positive"] for b in series) == 1


def test_api_override_errors(app, client, auth, pushed):
    monitor_id, ids = pushed
    other, _ = new_monitor(app, name="Other")
    url = f"/api/v1/monitors/{monitor_id}/mentions/{ids['m1']}"
    assert client.patch(url, json={"label": "angry"}, headers=auth).status_code == 422
    assert client.patch(url, json={"label": "positive", "x": 1}, headers=auth).status_code == 422
    assert client.patch(url, json={}, headers=auth).status_code == 422
    assert client.patch(url, data="label", headers=auth).status_code == 415
    assert client.patch(f"/api/v1/monitors/{other}/mentions/{ids['m1']}", json={"label": "neutral"},
                        headers=auth).status_code == 404
    assert client.patch(f"/api/v1/monitors/{monitor_id}/mentions/999999", json={"label": "neutral"},
                        headers=auth).status_code == 404
    assert client.patch(url, json={"label": "neutral"}).status_code == 401
    make_user(app, email="viewer@example.com", role="viewer")
    with app.app_context():
        from webapp.people.auth import create_token
        from webapp.people.models import User

        viewer = create_token(db.session.execute(select(User).where(User.email == "viewer@example.com")).scalar_one())
    assert client.patch(url, json={"label": "neutral"}, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "patch" in spec["paths"]["/api/v1/monitors/{monitor_id}/mentions/{mention_id}"]


def test_page_override_and_restore_keep_the_filters(app, logged_in, pushed):
    monitor_id, ids = pushed
    back = f"/monitors/{monitor_id}/mentions?label=negative&q=terrible"
    response = logged_in.post(f"/monitors/{monitor_id}/mentions/{ids['m2']}/label",
                              data={"label": "neutral", "back": back})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{back}#mention-{ids['m2']}"
    page = logged_in.get(f"/monitors/{monitor_id}/mentions?q=terrible").get_data(as_text=True)
    assert "overridden · scored negative" in page and 'class="secondary restore-label"' in page
    with app.app_context():
        assert rollup_rows(monitor_id) == from_mentions(monitor_id)
        assert db.session.get(Mention, ids["m2"]).label == "neutral"
        db.session.remove()
    response = logged_in.post(f"/monitors/{monitor_id}/mentions/{ids['m2']}/label",
                              data={"label": "neutral", "restore": "1", "back": "https://evil.example/x"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/monitors/{monitor_id}/mentions")
    with app.app_context():
        m = db.session.get(Mention, ids["m2"])
        assert (m.label, m.is_overridden) == ("negative", False)
        assert rollup_rows(monitor_id) == from_mentions(monitor_id)
        db.session.remove()
    bad = logged_in.post(f"/monitors/{monitor_id}/mentions/{ids['m2']}/label", data={"label": "furious"})
    assert bad.status_code == 400 and "label must be one of" in bad.get_data(as_text=True)
    assert logged_in.post(f"/monitors/{monitor_id}/mentions/999999/label", data={"label": "neutral"}).status_code == 404


def test_viewers_see_no_override_form_and_cannot_post(app, client, pushed):
    monitor_id, ids = pushed
    make_user(app, email="v@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "v@example.com", "password": "viewer password"})
    page = client.get(f"/monitors/{monitor_id}/mentions")
    assert page.status_code == 200 and 'class="override"' not in page.get_data(as_text=True)
    assert client.post(f"/monitors/{monitor_id}/mentions/{ids['m1']}/label", data={"label": "neutral"}).status_code == 403


def test_override_survives_a_redelivery_and_is_applied_once(app, logged_in, auth, drain, pushed):
    monitor_id, ids = pushed
    with app.app_context():
        overrides.set_label(db.session, monitor_id, ids["m3"], "negative", None)
        once = rollup_rows(monitor_id)
        # the same request again (a double submit) changes nothing more
        result = overrides.set_label(db.session, monitor_id, ids["m3"], "negative", None)
        assert not result.changed and rollup_rows(monitor_id) == once
        # clearing a mention that has no override is a no-op
        assert not overrides.set_label(db.session, monitor_id, ids["m1"], None).changed
        db.session.remove()
    # the bus redelivers the mention: ON CONFLICT DO NOTHING keeps the editor's label
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=[mention(3, "A plain note")], headers=auth)
    drain()
    with app.app_context():
        assert db.session.get(Mention, ids["m3"]).label == "negative"
        assert rollup_rows(monitor_id) == once == from_mentions(monitor_id)
        with pytest.raises(overrides.OverrideInvalid):
            overrides.set_label(db.session, monitor_id, ids["m3"], "bad")
