"""The social adapters through the real monitor API and fetch use case (loopback fakes)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.fake_social import NOW, FakeBluesky, FakeHackerNews, FakeX, hn_story, running, x_post, bsky_post
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.monitors.models import Source
from webapp.monitors.services import fetching
from webapp.monitors.sources import bluesky as bluesky_module


def test_monitors_fetch_social_sources_and_never_show_credentials(app, client, auth, drain):
    bluesky_module.clear_sessions()
    with running(FakeHackerNews()) as hn, running(FakeX()) as xapi, running(FakeBluesky()) as bsky:
        hn.hits = [hn_story(1, NOW - timedelta(minutes=1), "Acme Rocket is wonderful"),
                   hn_story(2, NOW - timedelta(minutes=2), "Acme job: barista wanted")]
        xapi.posts = [x_post(10, "acme support is terrible", NOW - timedelta(minutes=1))]
        bsky.posts = [bsky_post("3ka", "acme is great", NOW - timedelta(minutes=1))]
        answer = client.post("/api/v1/monitors", headers=auth, json={
            "name": "Acme", "query": "acme -job", "sources": [
                {"kind": "hackernews", "base_url": hn.base_url},
                {"kind": "x", "bearer_token": "x-bearer", "max_posts_per_day": 50, "base_url": xapi.base_url},
                {"kind": "bluesky", "identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop",
                 "base_url": bsky.base_url},
                {"kind": "mastodon", "instance": "mastodon.social", "tag": "#acme"}]})
        assert answer.status_code == 201, answer.get_json()
        shown = {s["kind"]: s for s in answer.get_json()["sources"]}
        assert "bearer_token" not in shown["x"] and shown["x"]["max_posts_per_day"] == 50
        assert "app_password" not in shown["bluesky"]
        assert shown["mastodon"]["instances"] == ["https://mastodon.social"] and shown["mastodon"]["tag"] == "acme"
        with app.app_context():
            kinds = ("hackernews", "x", "bluesky")
            sources = db.session.execute(select(Source).where(Source.kind.in_(kinds))).scalars().all()
            reports = [fetching.run_fetch(db.session, runtime.bus(), s.id, 1, runtime.egress_policy(), NOW)
                       for s in sources]
            assert all(r.status == "ok" for r in reports), [r.error for r in reports]
            assert xapi.requests[-1].arg("query") == "acme -job"
            assert db.session.get(Source, [s.id for s in sources if s.kind == "x"][0]).cursor["read"] == 1
    drain()
    with app.app_context():
        stored = dict(db.session.execute(select(Mention.external_id, Mention.label)).all())
    assert stored == {"1": "positive", "10": "negative", "at://did:plc:alice/app.bsky.feed.post/3ka": "positive"}
