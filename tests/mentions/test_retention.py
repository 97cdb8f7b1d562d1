"""Retention: raw mentions past a monitor's retention_days are deleted in batches, rollups stay, so
series totals (charts, alert baselines) are the same before and after; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.ingest import rollups, term_rollups
from webapp.mentions import retention
from webapp.monitors.models import Monitor

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _series(client, auth, monitor_id, bucket):
    start = (NOW - timedelta(days=40)).isoformat()
    got = client.get(f"/api/v1/monitors/{monitor_id}/series",
                     query_string={"bucket": bucket, "start": start, "end": NOW.isoformat()}, headers=auth)
    assert got.status_code == 200, got.get_json()
    return [(b["start"], b["count"], b["avg_compound"], b["positive"], b["negative"]) for b in got.get_json()["buckets"]]


def _push_history(client, auth, monitor_id, drain, days=30, per_day=3):
    texts = ("I love this, wonderful", "I hate this, awful", "It is a table")
    items = [mention(d * per_day + k, texts[(d + k) % 3],
                     published_at=(NOW - timedelta(days=d, hours=k, minutes=30)).isoformat())
             for d in range(days) for k in range(per_day)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    return len(items)


def _terms(client, auth, monitor_id):
    got = client.get(f"/api/v1/monitors/{monitor_id}/terms", query_string={"range": "90d", "sort": "count", "limit": 50},
                     headers=auth)
    assert got.status_code == 200, got.get_json()
    return {t["term"]: (t["count"], t["avg_compound"]) for t in got.get_json()["terms"]}


def test_pruning_keeps_series_totals_and_deletes_in_batches(app, client, auth, drain, runner):
    monitor_id, _ = new_monitor(app, "Retained")
    other_id, _ = new_monitor(app, "Kept forever")
    total = _push_history(client, auth, monitor_id, drain)
    _push_history(client, auth, other_id, drain, days=12, per_day=1)
    before = {bucket: _series(client, auth, monitor_id, bucket) for bucket in ("1h", "1d")}
    terms_before = _terms(client, auth, monitor_id)
    assert terms_before["love"][0] == 30   # a third of 30 days x 3
    answer = client.patch(f"/api/v1/monitors/{monitor_id}", json={"retention_days": 7}, headers=auth)
    assert answer.status_code == 200 and answer.get_json()["retention_days"] == 7

    with app.app_context():
        with_rollups = db.session.query(Rollup).filter_by(monitor_id=monitor_id).count()
        deleted = retention.prune_all(db.session, NOW, batch=10)   # many small transactions
        assert deleted == {monitor_id: total - 7 * 3}
        left = db.session.query(Mention.published_at).filter_by(monitor_id=monitor_id).all()
        assert len(left) == 21 and min(p for (p,) in left) >= NOW - timedelta(days=7)
        assert db.session.query(Mention).filter_by(monitor_id=other_id).count() == 12
        assert db.session.query(Rollup).filter_by(monitor_id=monitor_id).count() == with_rollups
        assert db.session.get(Monitor, monitor_id).pruned_before == NOW - timedelta(days=7)
    assert {bucket: _series(client, auth, monitor_id, bucket) for bucket in ("1h", "1d")} == before

    assert _terms(client, auth, monitor_id) == terms_before

    # A rebuild of the rollups (after re-scoring) keeps the buckets of pruned days.
    with app.app_context():
        rollups.rebuild(db.session, monitor_id)
        term_rollups.rebuild(db.session, monitor_id)
        db.session.commit()
    assert {bucket: _series(client, auth, monitor_id, bucket) for bucket in ("1h", "1d")} == before
    assert _terms(client, auth, monitor_id) == terms_before

    # Running again deletes nothing more; the command prints the count.
    result = runner.invoke(args=["prune-mentions", "--monitor", str(monitor_id)])
    assert result.exit_code == 0 and "deleted 0 mentions" in result.output
    monitor = client.get(f"/api/v1/monitors/{monitor_id}", headers=auth).get_json()
    # this second run prunes up to its own clock's week ago (a later day when the run crosses midnight)
    pruned = datetime.fromisoformat(monitor["pruned_before"])
    assert NOW - timedelta(days=7) <= pruned <= datetime.now(timezone.utc) - timedelta(days=7)
    with client.get(f"/api/v1/monitors/{monitor_id}/mentions/export?format=csv", headers=auth) as export:
        assert export.status_code == 200 and export.headers["X-Mentions-Pruned-Before"]


def test_the_command_prunes_every_monitor_with_a_retention(app, client, auth, drain, runner):
    monitor_id, _ = new_monitor(app)
    _push_history(client, auth, monitor_id, drain, days=10, per_day=2)
    assert client.patch(f"/api/v1/monitors/{monitor_id}", json={"retention_days": 8}, headers=auth).status_code == 200
    result = runner.invoke(args=["prune-mentions"])
    assert result.exit_code == 0, result.output
    assert f"monitor {monitor_id}: deleted 4 mentions" in result.output and "deleted 4 mentions" in result.output
    assert runner.invoke(args=["prune-mentions", "--monitor", "999999"]).exit_code != 0


@pytest.mark.parametrize("value", [6, 0, -1, 7.5, "30", True, [], {}, 10**12])
def test_a_bad_retention_is_a_400_and_changes_nothing(app, client, auth, value):
    monitor_id, _ = new_monitor(app)
    answer = client.patch(f"/api/v1/monitors/{monitor_id}", json={"retention_days": value, "name": "New"},
                          headers=auth)
    assert answer.status_code == 400, answer.get_json()
    assert "retention_days" in answer.get_json()["detail"]
    monitor = client.get(f"/api/v1/monitors/{monitor_id}", headers=auth).get_json()
    assert monitor["retention_days"] is None and monitor["name"] != "New"


def test_null_keeps_mentions_forever(app, client, auth):
    monitor_id, _ = new_monitor(app)
    assert client.patch(f"/api/v1/monitors/{monitor_id}", json={"retention_days": 30}, headers=auth).status_code == 200
    answer = client.patch(f"/api/v1/monitors/{monitor_id}", json={"retention_days": None}, headers=auth)
    assert answer.status_code == 200 and answer.get_json()["retention_days"] is None
    with app.app_context():
        assert retention.prune_all(db.session, NOW) == {}


def test_the_edit_page_sets_the_retention_and_refuses_bad_values(app, logged_in):
    monitor_id, _ = new_monitor(app, "Paged")
    page = logged_in.get(f"/monitors/{monitor_id}/edit")
    assert page.status_code == 200 and b'name="retention_days"' in page.data
    for bad in ("3", "abc", "7.5", "-9"):
        answer = logged_in.post(f"/monitors/{monitor_id}/edit", data={"name": "Paged", "retention_days": bad})
        assert answer.status_code == 400 and b"retention_days" in answer.data
    answer = logged_in.post(f"/monitors/{monitor_id}/edit", data={"name": "Paged", "retention_days": "30"})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Monitor, monitor_id).retention_days == 30
    answer = logged_in.post(f"/monitors/{monitor_id}/edit", data={"name": "Paged", "retention_days": ""})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Monitor, monitor_id).retention_days is None
        retention.prune_monitor(db.session, monitor_id, NOW)
        db.session.get(Monitor, monitor_id).pruned_before = NOW - timedelta(days=30)
        db.session.commit()
    assert b"were pruned" in logged_in.get(f"/monitors/{monitor_id}/mentions").data
