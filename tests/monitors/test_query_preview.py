"""Monitor editing and the query preview: highlighting (pure, escaped), the preview's limits, the
edit page with "Test this query", removing sources with exact rollups, and the API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import Monitor, Source
from webapp.people.models import User
from webapp.ingest.store import store_batch
from webapp.monitors.services.preview import highlight, highlight_spans, preview
from webapp.monitors.sources import get_adapter

from tests.helpers import make_user
from tests.helpers import new_monitor

NOW = datetime.now(timezone.utc)


# --- highlighting (pure) ---------------------------------------------------------------------

def test_highlight_marks_words_prefixes_phrases_and_escapes_everything_else():
    html = highlight('<b>ACME</b> support & "Customer  Service" rocks, #acme acmes',
                     'acme* AND ("customer service" OR support) -job')
    assert str(html) == ('&lt;b&gt;<mark>ACME</mark>&lt;/b&gt; <mark>support</mark> &amp; &#34;'
                         '<mark>Customer  Service</mark>&#34; rocks, <mark>#acme</mark> <mark>acmes</mark>')


def test_highlight_never_lets_markup_through():
    html = str(highlight('<script>alert("acme")</script><img src=x onerror=acme>', "acme"))
    assert "<script" not in html and "<img" not in html
    assert html.count("<mark>acme</mark>") == 2 and "&lt;script&gt;" in html


@pytest.mark.parametrize("text,query,marked", [
    ("#rust and rust", "#rust", ["#rust"]),  # a hashtag query needs the hashtag
    ("#rust and rust", "rust", ["#rust", "rust"]),  # a word matches its hashtag too
    ("Café and CAFE\u0301 and cafe", "café", ["Café", "CAFE\u0301"]),  # folded as the matcher folds
    ("Straße", "strasse", ["Straße"]),
    ("acme job", "acme -job", ["acme"]),  # negated terms are not marked
    ("the acme rocket", '"acme rocket" OR zzz', ["acme rocket"]),
    ("lovely loving love", "lov*", ["lovely", "loving", "love"]),
    ("anything", "", []),
])
def test_highlight_spans(text, query, marked):
    assert [text[s:e] for s, e in highlight_spans(text, query)] == marked


def store(app, monitor_id, source_id, items):
    """Store (external id, text, age) mentions directly, as the consumer would."""
    with app.app_context():
        store_batch(db.session, [
            {"monitor_id": monitor_id, "source_id": source_id, "external_id": eid, "text": text,
             "published_at": (NOW - age).isoformat()} for eid, text, age in items], NOW)
        db.session.commit()


@pytest.mark.both_databases
def test_preview_scans_the_newest_mentions_of_seven_days(app):
    monitor_id, push_id = new_monitor(app)
    store(app, monitor_id, push_id, [(f"n{i}", f"acme news {i}" if i % 2 else f"other {i}", timedelta(hours=i))
                                     for i in range(20)] + [("old", "acme long ago", timedelta(days=8))])
    with app.app_context():
        result = preview(db.session, monitor_id, "acme")
        assert (result.matches, result.scanned, len(result.items)) == (10, 20, 10)
        assert result.items[0]["external_id"] == "n1" and result.items[0]["spans"] == [(0, 4)]
        limited = preview(db.session, monitor_id, "acme", scan=6, show=2)
        assert (limited.matches, limited.scanned, [i["external_id"] for i in limited.items]) == (3, 6, ["n1", "n3"])
        assert preview(db.session, monitor_id, "").matches == 20


# --- pages -----------------------------------------------------------------------------------

def test_edit_page_previews_the_typed_query_escaped_and_saves_nothing(app, logged_in):
    monitor_id, push_id = new_monitor(app, query="acme")
    store(app, monitor_id, push_id, [("x", '<script>alert(1)</script> Rocket launch', timedelta(hours=1)),
                                     ("y", "nothing here", timedelta(hours=2))])
    page = logged_in.get(f"/monitors/{monitor_id}/edit")
    assert page.status_code == 200 and 'id="test-query"' in page.text and 'value="acme"' in page.text
    shown = logged_in.post(f"/monitors/{monitor_id}/edit/preview", data={"name": "", "query": "rocket"})
    assert shown.status_code == 200
    assert "<mark>Rocket</mark>" in shown.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<script>alert(1)" not in shown.text
    assert '<strong>1</strong> of 2 mentions' in shown.text and 'value="rocket"' in shown.text
    bad = logged_in.post(f"/monitors/{monitor_id}/edit/preview", data={"name": "x", "query": "acme AND"})
    assert bad.status_code == 400 and "missing term after" in bad.text
    with app.app_context():
        assert db.session.get(Monitor, monitor_id).query == "acme"


def test_edit_page_saves_name_query_and_sources(app, logged_in):
    monitor_id, _ = new_monitor(app, name="Old", sources=[
        {"kind": "rss", "url": "https://feeds.example.com/a.xml"}, {"kind": "demo"}])
    with app.app_context():
        rss, demo = db.session.execute(select(Source.id).where(
            Source.monitor_id == monitor_id, Source.kind.in_(("rss", "demo"))).order_by(Source.id)).scalars()
    invalid = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "New", "query": "(acme", "enabled": [str(rss)], "rss_urls": "ftp://nope"})
    assert invalid.status_code == 400 and "missing &#39;)&#39;" in invalid.text
    bad_feed = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "New", "query": "acme", "enabled": [str(rss)], "rss_urls": "ftp://nope"})
    assert bad_feed.status_code == 400 and "ftp://nope:" in bad_feed.text
    saved = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "New", "query": "acme OR rocket", "enabled": [str(rss)],
        "rss_urls": "https://feeds.example.com/b.xml\n", "every": "600"})
    assert saved.status_code == 302
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        assert (monitor.name, monitor.query) == ("New", "acme OR rocket")
        sources = {(s.kind, (s.settings or {}).get("url"), s.enabled, s.every) for s in monitor.fetched_sources}
        rss_every, demo_every = get_adapter("rss").default_every, get_adapter("demo").default_every
        assert sources == {("rss", "https://feeds.example.com/a.xml", True, rss_every), ("demo", None, False, demo_every),
                           ("rss", "https://feeds.example.com/b.xml", True, 600)}
    detail = logged_in.get(f"/monitors/{monitor_id}")
    assert f"/monitors/{monitor_id}/edit" in detail.text
    assert f"/monitors/{monitor_id}/backfill" not in detail.text   # rss and demo cannot fetch history


@pytest.mark.both_databases
def test_removing_a_source_deletes_its_mentions_and_keeps_rollups_exact(app, logged_in):
    monitor_id, push_id = new_monitor(app, sources=[
        {"kind": "rss", "url": "https://feeds.example.com/a.xml"}, {"kind": "rss", "url": "https://feeds.example.com/b.xml"}])
    with app.app_context():
        a, b = db.session.execute(select(Source.id).where(
            Source.monitor_id == monitor_id, Source.kind == "rss").order_by(Source.id)).scalars()
    store(app, monitor_id, a, [(f"a{i}", "I love acme" if i % 2 else "I hate acme", timedelta(hours=i)) for i in range(6)])
    store(app, monitor_id, b, [(f"b{i}", "acme is fine", timedelta(hours=i)) for i in range(4)])
    store(app, monitor_id, push_id, [("p1", "pushed acme", timedelta(hours=1))])
    response = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "Test", "query": "", "enabled": [str(a), str(b)], "remove": [str(a)]})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Source, a) is None
        left = db.session.execute(select(func.count()).select_from(Mention)).scalar()
        assert left == 5
        for bucket in ("15m", "1h", "1d"):
            total, positive, negative = db.session.execute(select(
                func.sum(Rollup.count), func.sum(Rollup.positive), func.sum(Rollup.negative)).where(
                Rollup.source_id == 0, Rollup.bucket == bucket)).one()
            assert total == 5 and negative == 0
        assert db.session.execute(select(func.count()).select_from(Rollup).where(Rollup.source_id == a)).scalar() == 0


def test_edit_needs_an_editor(app, client):
    monitor_id, _ = new_monitor(app)
    assert client.get(f"/monitors/{monitor_id}/edit").status_code == 302  # to the login page
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "viewer@example.com", "password": "viewer password"})
    assert client.get(f"/monitors/{monitor_id}/edit").status_code == 403
    assert client.post(f"/monitors/{monitor_id}/edit/preview", data={"query": "x"}).status_code == 403
    assert "edit-link" not in client.get(f"/monitors/{monitor_id}").text


# --- API -------------------------------------------------------------------------------------

@pytest.fixture
def viewer_auth(app):
    make_user(app, email="viewer-token@example.com", role="viewer")
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "viewer-token@example.com")).scalar_one()
        return {"Authorization": f"Bearer {create_token(user)}"}


@pytest.mark.both_databases
def test_patch_monitor(app, client, auth, viewer_auth):
    monitor_id, _ = new_monitor(app, name="Before", query="acme")
    url = f"/api/v1/monitors/{monitor_id}"
    done = client.patch(url, json={"query": "acme OR rocket"}, headers=auth)
    assert done.status_code == 200 and done.json["query"] == "acme OR rocket" and done.json["name"] == "Before"
    assert client.patch(url, json={"name": "After"}, headers=auth).json["name"] == "After"
    bad = client.patch(url, json={"query": "acme AND"}, headers=auth)
    assert bad.status_code == 422 and "query" in bad.json["detail"]
    assert client.patch(url, json={"name": ""}, headers=auth).status_code == 422
    assert client.patch(url, json={"sources": []}, headers=auth).status_code == 422  # unknown field
    assert client.patch(url, data="x", headers=auth).status_code == 415
    assert client.patch(url, json={"name": "V"}, headers=viewer_auth).status_code == 403
    assert client.patch("/api/v1/monitors/999", json={"name": "V"}, headers=auth).status_code == 404
    assert client.get(url, headers=auth).json["name"] == "After"


def test_preview_api(app, client, auth, viewer_auth):
    monitor_id, push_id = new_monitor(app)
    store(app, monitor_id, push_id, [("x", "Acme rocket <b>launch</b>", timedelta(hours=1)),
                                     ("y", "other", timedelta(hours=2))])
    url = f"/api/v1/monitors/{monitor_id}/preview"
    answer = client.post(url, json={"query": '"acme rocket"'}, headers=viewer_auth)
    assert answer.status_code == 200
    body = answer.json
    assert (body["matches"], body["scanned"], len(body["items"])) == (1, 2, 1)
    item = body["items"][0]
    assert item["highlights"] == [[0, 11]] and item["text"][0:11] == "Acme rocket" and item["backfilled"] is False
    bad = client.post(url, json={"query": "acme AND"}, headers=auth)
    assert bad.status_code == 422 and bad.json["error"] == "invalid_query" and bad.json["detail"]["position"] == 5
    assert client.post(url, json={}, headers=auth).status_code == 422
    assert client.post("/api/v1/monitors/999/preview", json={"query": ""}, headers=auth).status_code == 404
    assert client.post(url, json={"query": ""}).status_code == 401
    mentions = client.get(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth).json
    assert all(m["backfilled"] is False for m in mentions["items"])


def test_openapi_documents_edit_preview_and_backfilled(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/monitors/{monitor_id}"])
    assert "post" in spec["paths"]["/api/v1/monitors/{monitor_id}/preview"]
    assert spec["components"]["schemas"]["Mention"]["properties"]["backfilled"]["type"] == "boolean"
    assert {"MonitorPatch", "PreviewIn", "PreviewItem"} <= set(spec["components"]["schemas"])
