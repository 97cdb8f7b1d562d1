"""Mute lists: muted mentions are stored but counted in no rollup, series or alert; they show under
the "muted" filter; changing the list moves stored mentions and their rollup counts both ways."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest import rollups
from webapp.ingest.models import Mention, Rollup
from webapp.mentions.noise import service as noise

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc)


def rollup_rows(monitor_id: int) -> dict:
    return {(r.source_id, r.bucket, r.start): (r.count, round(r.sum_compound, 6), r.positive, r.neutral, r.negative)
            for r in db.session.execute(select(Rollup).where(Rollup.monitor_id == monitor_id)).scalars()
            if r.count or r.positive or r.neutral or r.negative}


def from_unmuted(monitor_id: int) -> dict:
    rows = db.session.execute(select(Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound,
                                     Mention.label).where(Mention.monitor_id == monitor_id,
                                                          Mention.muted.is_(False))).mappings()
    return {(s, b, t): (d.count, round(d.sum_compound, 6), d.positive, d.neutral, d.negative)
            for (_, s, b, t), d in rollups.deltas(rows).items()}


def test_is_muted_matches_authors_domains_and_the_query():
    rules = noise.check_mutes(["SpamBot"], ["https://www.Spam.example/x", "ads.test"], "casino OR \"free spins\"")
    assert noise.is_muted(rules, "spambot", None, "hello")
    assert noise.is_muted(rules, None, "http://news.spam.example/a?b", "hello")
    assert noise.is_muted(rules, None, "https://ads.test", "hello")
    assert not noise.is_muted(rules, None, "https://notads.test", "hello")
    assert noise.is_muted(rules, None, None, "Win FREE spins now")
    assert not noise.is_muted(rules, "someone", "https://good.example", "a fine product")
    assert not noise.is_muted(noise.MuteRules(), "x", "http://spam.example", "casino")


@pytest.mark.parametrize("authors, domains, query, field", [
    ([1], [], "", "authors"), (["a" * 300], [], "", "authors"), (["x\x00"], [], "", "authors"),
    ([], ["not a domain"], "", "domains"), ([], ["a" * 300 + ".com"], "", "domains"),
    ([], [], "casino AND", "query"), ([], [], "x\x00", "query"), ([], [], "(" * 1000, "query"),
    ([str(i) for i in range(noise.MAX_ENTRIES + 1)], [], "", "authors"), ([], [], 5, "query"),
])
def test_check_mutes_refuses_bad_input(authors, domains, query, field):
    with pytest.raises(noise.MutesInvalid) as caught:
        noise.check_mutes(authors, domains, query)
    assert field in caught.value.errors


@pytest.fixture
def monitor(app):
    return new_monitor(app, name="Noise")


def push(client, auth, monitor_id, items, drain):
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    assert response.status_code == 202, response.get_json()
    drain()


def test_muted_mentions_are_stored_but_out_of_rollups_series_and_shown_under_the_filter(app, client, auth, monitor,
                                                                                        drain):
    monitor_id, _ = monitor
    response = client.put(f"/api/v1/monitors/{monitor_id}/mutes", headers=auth, json={
        "authors": ["SpamBot"], "domains": ["spam.example"], "query": "casino"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["muted"] == 0
    at = T0.isoformat()
    push(client, auth, monitor_id, [
        mention(1, "I love this wonderful product", published_at=at),
        mention(2, "I love it too", author="spambot", published_at=at),
        mention(3, "Great deal", url="https://www.shop.spam.example/p", published_at=at),
        mention(4, "Best casino in town, great", published_at=at)], drain)
    with app.app_context():
        stored = {m.external_id: m.muted for m in db.session.execute(
            select(Mention).where(Mention.monitor_id == monitor_id)).scalars()}
        assert stored == {"m1": False, "m2": True, "m3": True, "m4": True}
        assert rollup_rows(monitor_id) == from_unmuted(monitor_id)
        assert {v[0] for v in rollup_rows(monitor_id).values()} == {1}
        db.session.remove()
    base = f"/api/v1/monitors/{monitor_id}/mentions"
    assert client.get(base, headers=auth).get_json()["total"] == 1
    only = client.get(base + "?muted=only", headers=auth).get_json()
    assert only["total"] == 3 and all(item["muted"] for item in only["items"])
    assert client.get(base + "?muted=all", headers=auth).get_json()["total"] == 4
    bad = client.get(base + "?muted=maybe", headers=auth)
    assert bad.status_code == 400 and "muted" in bad.get_json()["detail"]
    series = client.get(f"/api/v1/monitors/{monitor_id}/series?bucket=1d&start=2026-02-28T00:00:00Z"
                        "&end=2026-03-04T00:00:00Z", headers=auth).get_json()["buckets"]
    assert sum(b["count"] for b in series) == 1
    got = client.get(f"/api/v1/monitors/{monitor_id}/mutes", headers=auth).get_json()
    assert got == {"authors": ["spambot"], "domains": ["spam.example"], "query": "casino", "muted_mentions": 3}
    # the mentions page shows them under the filter
    page = client.get(f"/monitors/{monitor_id}/mentions?muted=only", headers=auth)
    assert page.status_code in (200, 302)


def test_a_mute_change_moves_stored_mentions_and_rollups_both_ways(app, client, auth, monitor, drain):
    monitor_id, _ = monitor
    push(client, auth, monitor_id, [
        mention(i, text, author=author, published_at=(T0 + timedelta(minutes=20 * i)).isoformat())
        for i, (text, author) in enumerate([("I love this", "ann"), ("This is terrible", "bob"),
                                            ("A plain note", "bob"), ("Wonderful day", "cy")])], drain)
    with app.app_context():
        original = rollup_rows(monitor_id)
        assert original == from_unmuted(monitor_id)
        db.session.remove()
    url = f"/api/v1/monitors/{monitor_id}/mutes"
    moved = client.put(url, headers=auth, json={"authors": ["BOB"], "domains": [], "query": ""}).get_json()
    assert (moved["muted"], moved["unmuted"]) == (2, 0)
    with app.app_context():
        muted = rollup_rows(monitor_id)
        assert muted == from_unmuted(monitor_id) and muted != original
        assert sum(v[0] for k, v in muted.items() if k[0] == 0 and k[1] == "1d") == 2
        db.session.remove()
    moved = client.put(url, headers=auth, json={"authors": [], "domains": [], "query": "wonderful"}).get_json()
    assert (moved["muted"], moved["unmuted"]) == (1, 2)
    with app.app_context():
        assert rollup_rows(monitor_id) == from_unmuted(monitor_id)
        db.session.remove()
    moved = client.put(url, headers=auth, json={}).get_json()
    assert (moved["muted"], moved["unmuted"]) == (0, 1)
    with app.app_context():
        assert rollup_rows(monitor_id) == original
        db.session.remove()


def test_a_muted_mention_override_moves_no_rollup(app, client, auth, monitor, drain):
    monitor_id, _ = monitor
    push(client, auth, monitor_id, [mention(1, "I love this", author="bob", published_at=T0.isoformat())], drain)
    client.put(f"/api/v1/monitors/{monitor_id}/mutes", headers=auth, json={"authors": ["bob"]})
    with app.app_context():
        mention_id = db.session.execute(select(Mention.id).where(Mention.monitor_id == monitor_id)).scalar()
        db.session.remove()
    assert client.patch(f"/api/v1/monitors/{monitor_id}/mentions/{mention_id}", json={"label": "negative"},
                        headers=auth).status_code == 200
    client.put(f"/api/v1/monitors/{monitor_id}/mutes", headers=auth, json={})
    with app.app_context():
        assert rollup_rows(monitor_id) == from_unmuted(monitor_id)
        assert {v[4] for k, v in rollup_rows(monitor_id).items()} == {1}
        db.session.remove()


def test_mutes_api_refuses_hostile_input(client, auth, monitor):
    monitor_id, _ = monitor
    url = f"/api/v1/monitors/{monitor_id}/mutes"
    deep = '{"authors": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.put(url, headers={**auth, "Content-Type": "application/json"}, data=deep)
    assert 400 <= response.status_code < 500 and set(response.get_json()) >= {"error", "detail"}
    for body in ({"authors": "x" * 100}, {"query": "casino AND"}, {"domains": ["bad domain"]},
                 {"authors": ["x\x00"]}, {"extra": 1}, {"query": "q" * 5000}):
        response = client.put(url, headers=auth, json=body)
        assert 400 <= response.status_code < 500, (body if len(str(body)) < 100 else "nested", response.status_code)
        assert set(response.get_json()) >= {"error", "detail"}
    assert client.put(f"/api/v1/monitors/{2**63 + 5}/mutes", headers=auth, json={}).status_code == 404
    assert client.get(url).status_code == 401


def test_muted_mentions_raise_no_mention_match_alert(app, client, auth, drain):
    from datetime import datetime as _dt

    from tests.alerting.test_alerts_evaluation import LAG, run, setup_rule
    from webapp.alerting.models import Delivery

    monitor_id, rule_id = setup_rule(app, client, auth, {
        "kind": "mention_match", "query": "acme AND outage", "digest_wait_seconds": 0, "digest_cap": 5})
    assert client.put(f"/api/v1/monitors/{monitor_id}/mutes", headers=auth,
                      json={"authors": ["troll"]}).status_code == 200
    push(client, auth, monitor_id, [mention(1, "Acme outage again", author="troll"),
                                    mention(2, "Acme outage today", author="ann"),
                                    mention(3, "acme outage, says troll", author="TROLL")], drain)
    now = _dt.now(timezone.utc) + timedelta(seconds=LAG + 1)
    first = run(app, rule_id, now)
    sent = first if first.notification else run(app, rule_id, now + timedelta(minutes=1))
    assert sent.notification == "firing", (first, sent)
    with app.app_context():
        data = db.session.get(Delivery, sent.deliveries[0]).payload["data"]
        db.session.remove()
    assert data["value"] == 1.0 and [m["text"] for m in data["sample_mentions"]] == ["Acme outage today"]
