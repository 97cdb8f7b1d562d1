"""Canonical URLs (pure) and ingest's deduplication of fetched mentions on them, on SQLite and
PostgreSQL: a page brought by two sources of a monitor is stored once, rollups stay exact, and
pushed / imported / demo mentions are kept as given."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import Source
from webapp.ingest.canonical import canonical_url, url_key
from webapp.ingest.store import store_batch

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("url,canonical", [
    ("HTTPS://Example.COM:443/a/b/?utm_source=x&b=2&a=1&fbclid=z#frag", "https://example.com/a/b?a=1&b=2"),
    ("http://example.com:80/", "http://example.com"),
    ("https://example.com:8443/x/", "https://example.com:8443/x"),
    ("https://example.com/p?gclid=1&mc_cid=2&mc_eid=3&ref=hn&utm_medium=rss", "https://example.com/p"),
    ("https://example.com/p?q=a+b&Q=c", "https://example.com/p?Q=c&q=a%20b"),
    ("https://example.com/p?q=a%20b", "https://example.com/p?q=a%20b"),
    ("https://example.com/Case/Path?x=Y", "https://example.com/Case/Path?x=Y"),
    ("https://example.com/p?b=2&a=1&a=0", "https://example.com/p?a=1&a=0&b=2"),  # stable for repeats
    ("  https://EXAMPLE.com.  ", "https://example.com"),
    ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ("ftp://example.com/x", "ftp://example.com/x"),
    ("not a url", "not a url"),
    ("https://example.com:99999/x", "https://example.com:99999/x"),  # bad port: left alone
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_url_key_keeps_http_and_https_apart_and_ignores_non_urls():
    assert url_key("https://example.com/a?utm_campaign=x") == url_key("https://EXAMPLE.com/a/#c")
    assert len(url_key("https://example.com/a")) == 32
    assert url_key("http://example.com/a") != url_key("https://example.com/a")
    assert url_key("https://www.example.com/a") != url_key("https://example.com/a")
    for value in (None, "", "mailto:a@example.com", "http://", "/relative/path", 42):
        assert url_key(value) is None


def records(monitor_id, source_id, items):
    return [{"monitor_id": monitor_id, "source_id": source_id, "external_id": eid, "text": text,
             "url": url, "published_at": (NOW - timedelta(minutes=i)).isoformat()}
            for i, (eid, text, url) in enumerate(items)]


def fetched_monitor(app):
    monitor_id, push_id = new_monitor(app, sources=[
        {"kind": "rss", "url": "https://feeds.example.com/a.xml"},
        {"kind": "rss", "url": "https://feeds.example.com/b.xml"}])
    with app.app_context():
        a, b = db.session.execute(select(Source.id).where(
            Source.kind == "rss", Source.monitor_id == monitor_id).order_by(Source.id)).scalars()
    return monitor_id, a, b, push_id


def totals():
    count = db.session.execute(select(func.count()).select_from(Mention)).scalar()
    rollups = {bucket: db.session.execute(select(func.coalesce(func.sum(Rollup.count), 0)).where(
        Rollup.source_id == 0, Rollup.bucket == bucket)).scalar() for bucket in ("15m", "1h", "1d")}
    per_source = dict(db.session.execute(select(Rollup.source_id, func.sum(Rollup.count)).where(
        Rollup.source_id != 0, Rollup.bucket == "1d").group_by(Rollup.source_id)).all())
    return count, rollups, per_source


def test_a_page_from_another_source_is_not_stored_again(app):
    monitor_id, a, b, _ = fetched_monitor(app)
    with app.app_context():
        first = store_batch(db.session, records(monitor_id, a, [
            ("a1", "Acme is great", "https://news.example.com/story?utm_source=feed-a"),
            ("a2", "Acme is awful", "https://news.example.com/other")]), NOW)
        db.session.commit()
        second = store_batch(db.session, records(monitor_id, b, [
            ("b1", "Acme is great", "HTTPS://news.example.com/story/?utm_source=feed-b#c"),
            ("b2", "Something new", "https://news.example.com/new")]), NOW)
        db.session.commit()
        assert (first.inserted, second.inserted, second.duplicates) == (2, 1, 1)
        count, rollups, per_source = totals()
        assert count == 3 and rollups == {"15m": 3, "1h": 3, "1d": 3}
        assert per_source == {a: 2, b: 1}
        keys = db.session.execute(select(Mention.external_id, Mention.url_key).order_by(Mention.external_id)).all()
        assert [k for k, _ in keys] == ["a1", "a2", "b2"] and all(len(v) == 32 for _, v in keys)
        # The same batch again changes nothing at all.
        again = store_batch(db.session, records(monitor_id, b, [
            ("b1", "Acme is great", "https://news.example.com/story"),
            ("b2", "Something new", "https://news.example.com/new")]), NOW)
        db.session.commit()
        assert (again.inserted, again.duplicates) == (0, 2) and totals()[0] == 3


def test_the_same_url_twice_in_one_batch(app):
    monitor_id, a, b, _ = fetched_monitor(app)
    with app.app_context():
        batch = records(monitor_id, a, [("a1", "one", "https://x.example.com/p?ref=a")]) + records(
            monitor_id, b, [("b1", "one again", "https://x.example.com/p?ref=b"),
                            ("b2", "no url", None), ("b3", "no url either", "")])
        result = store_batch(db.session, batch, NOW)
        db.session.commit()
        assert (result.inserted, result.duplicates) == (3, 1)
        assert totals()[1]["1d"] == 3
        assert sorted(db.session.execute(select(Mention.external_id)).scalars()) == ["a1", "b2", "b3"]


def test_pushed_mentions_are_kept_as_given(app):
    monitor_id, a, _, push_id = fetched_monitor(app)
    url = "https://news.example.com/story"
    with app.app_context():
        store_batch(db.session, records(monitor_id, a, [("a1", "fetched", url)]), NOW)
        result = store_batch(db.session, records(monitor_id, push_id, [
            ("p1", "pushed", url), ("p2", "pushed twice", url)]), NOW)
        db.session.commit()
        assert result.inserted == 2
        keys = dict(db.session.execute(select(Mention.external_id, Mention.url_key)).all())
        assert keys["p1"] is None and keys["p2"] is None and keys["a1"] == url_key(url)


def test_other_monitors_and_the_demo_replay_are_not_affected(app):
    monitor_id, a, _, _ = fetched_monitor(app)
    other_id, other_a, _, _ = fetched_monitor(app)
    demo_monitor, _ = new_monitor(app, sources=[{"kind": "demo"}])
    with app.app_context():
        demo = db.session.execute(select(Source.id).where(Source.kind == "demo")).scalar_one()
        url = "https://news.example.com/story"
        store_batch(db.session, records(monitor_id, a, [("a1", "one", url)]), NOW)
        store_batch(db.session, records(other_id, other_a, [("a1", "one", url)]), NOW)
        result = store_batch(db.session, records(demo_monitor, demo, [("d-r0", "one", url), ("d-r1", "one", url)]), NOW)
        db.session.commit()
        assert result.inserted == 2 and totals()[0] == 4
