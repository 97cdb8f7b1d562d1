"""The Noise page (mute list with errors beside the fields, relevance figures and switch), the muted
filter and relevance buttons on the mentions page, and suggestions on the lexicon page."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import Mention

from tests.helpers import mention, new_monitor

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc).isoformat()


def test_noise_page_mutes_and_the_mentions_page_filters(app, logged_in, auth, drain):
    client = logged_in
    monitor_id, _ = new_monitor(app, name="Pages")
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[
        mention(1, "Casino night, great fun", published_at=T0), mention(2, "I love my new board", published_at=T0)])
    drain()
    page = client.get(f"/monitors/{monitor_id}/noise")
    assert page.status_code == 200 and b"Mute list" in page.data and b"No model yet" in page.data
    bad = client.post(f"/monitors/{monitor_id}/noise", data={"authors": "", "domains": "not a domain\n",
                                                             "query": "casino AND"})
    assert bad.status_code == 400
    assert b"is not a domain" in bad.data and b"has-error" in bad.data
    saved = client.post(f"/monitors/{monitor_id}/noise", data={"authors": "", "domains": "", "query": "casino"},
                        follow_redirects=True)
    assert saved.status_code == 200 and b"1 stored mentions muted" in saved.data
    assert b"Muted mentions (1)" in saved.data
    listed = client.get(f"/monitors/{monitor_id}/mentions")
    assert b"my new board" in listed.data and b"night, " not in listed.data
    only = client.get(f"/monitors/{monitor_id}/mentions?muted=only")
    assert b"night, " in only.data and b"my new board" not in only.data
    assert client.get(f"/monitors/{monitor_id}/mentions?muted=bogus").status_code == 400
    with app.app_context():
        board = db.session.execute(select(Mention.id).where(Mention.external_id == "m2",
                                                            Mention.monitor_id == monitor_id)).scalar()
        db.session.remove()
    marked = client.post(f"/monitors/{monitor_id}/mentions/{board}/relevance",
                         data={"mark": "irrelevant", "back": f"/monitors/{monitor_id}/mentions?q=board"})
    assert marked.status_code == 302 and marked.headers["Location"].endswith(f"?q=board#mention-{board}")
    with app.app_context():
        assert db.session.get(Mention, board).irrelevant is True
        db.session.remove()
    assert client.post(f"/monitors/{monitor_id}/mentions/{board}/relevance", data={"mark": "x"}).status_code == 400
    assert client.post(f"/monitors/{monitor_id}/mentions/{2**64}/relevance",
                       data={"mark": "clear"}).status_code == 404
    trained = client.post(f"/monitors/{monitor_id}/noise/relevance", data={"action": "train"},
                          follow_redirects=True)
    assert trained.status_code == 200 and b"mark at least" in trained.data
    assert client.get(f"/monitors/{2**64}/noise").status_code == 404


def test_lexicon_page_lists_suggestions_and_applies_one(app, logged_in, auth, drain):
    client = logged_in
    monitor_id, _ = new_monitor(app, name="Skate")
    texts = ["that kickflip was sick", "sick board", "sick tricks at the park", "sick wheels"]
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth,
                json=[mention(i, t, published_at=T0) for i, t in enumerate(texts)])
    drain()
    with app.app_context():
        ids = [m.id for m in db.session.execute(select(Mention).where(Mention.monitor_id == monitor_id)
                                                .order_by(Mention.id)).scalars()]
        db.session.remove()
    for mention_id in ids[:3]:
        client.patch(f"/api/v1/monitors/{monitor_id}/mentions/{mention_id}", json={"label": "positive"},
                     headers=auth)
    page = client.get(f"/monitors/{monitor_id}/lexicon")
    assert page.status_code == 200
    assert b"&#39;sick&#39; was moved from negative to positive 3 times" in page.data
    assert b"0% \xe2\x86\x92 100%" in page.data
    applied = client.post(f"/monitors/{monitor_id}/lexicon/suggestions/sick", follow_redirects=True)
    assert applied.status_code == 200 and "“sick” now has valence".encode() in applied.data
