"""The dashboard's rendered body is remembered by the rows it was made of (insights/dashboard_data.py):
with the page cache off, any change to what the page shows is on the very next page, on both
databases, and only the time axis's end (now) moves between answers of unchanged data."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from tests.helpers import make_user, mention
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest import pipeline
from webapp.insights import dashboard_data

pytestmark = pytest.mark.both_databases


def _setup(app):
    from webapp.people.auth import create_token
    from webapp.people.models import User
    from tests.helpers import new_monitor

    make_user(app, email="e@example.com", role="editor", password="body password")
    make_user(app, email="v@example.com", role="viewer", password="body password")
    monitor_id, _ = new_monitor(app, "Body", "", [{"kind": "rss", "url": "https://feeds.example.com/b.xml", "every": 3600}])
    with app.app_context():
        token = create_token(db.session.execute(db.select(User).where(User.email == "e@example.com")).scalar_one())
    client = app.test_client()
    assert client.post("/login", data={"email": "e@example.com", "password": "body password"}).status_code == 302
    items = [mention(i, f"text number {i} is {'great' if i % 2 else 'awful'}") for i in range(8)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items,
                       headers={"Authorization": f"Bearer {token}"}).status_code == 202
    with app.app_context():
        pipeline.drain(runtime.bus(), db.session)
        db.session.remove()
    return client, monitor_id


def _sql(app, statement: str, **params) -> None:
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()
        db.session.remove()


def _feed(page: str) -> str:
    return page.split('id="feed-latest"', 1)[1].split("</ol>", 1)[0]


def test_every_change_of_what_the_page_shows_is_on_the_next_page(app):
    client, monitor_id = _setup(app)

    def page() -> str:
        response = client.get(f"/monitors/{monitor_id}?range=24h")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    first = page()
    assert "text number 7 is great" in _feed(first) and 'id="edit-link"' in first
    bodies = app.extensions["sentimon.dashboard_bodies"]
    assert len(bodies._found) == 1
    page()
    assert len(bodies._found) == 1                      # unchanged rows: the same body

    _sql(app, "UPDATE mentions SET muted = :yes WHERE monitor_id = :m AND external_id = 'm7'", yes=True, m=monitor_id)
    assert "text number 7" not in _feed(page())         # muted: out of the feed at once
    _sql(app, "UPDATE mentions SET label = 'negative', compound = -0.9 WHERE monitor_id = :m AND external_id = 'm6'",
         m=monitor_id)
    assert "negative -0.90" in _feed(page())             # re-scored: its new label at once
    with app.app_context():
        from webapp.mentions.inbox import service as inbox

        tag = inbox.ensure_tag(db.session, monitor_id, "urgent")
        db.session.commit()
        mention_id = db.session.execute(text("SELECT id FROM mentions WHERE external_id = 'm5'")).scalar()
        db.session.remove()
    _sql(app, "INSERT INTO mention_tags (mention_id, tag_id) VALUES (:i, :t)", i=mention_id, t=tag)
    shown = page()
    assert 'id="dashboard-tags"' in shown and ">urgent</a>" in shown
    _sql(app, "UPDATE monitors SET name = 'Renamed <monitor>' WHERE id = :m", m=monitor_id)
    assert "<h1>Renamed &lt;monitor&gt;</h1>" in page()
    assert 'title="went away"' not in page()
    _sql(app, "UPDATE sources SET last_status = 'error', last_error = 'went away' WHERE monitor_id = :m AND kind = 'rss'",
         m=monitor_id)
    assert '<span class="status error" title="went away">error</span>' in page()

    viewer = app.test_client()
    assert viewer.post("/login", data={"email": "v@example.com", "password": "body password"}).status_code == 302
    seen = viewer.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    assert 'id="edit-link"' not in seen and "text number 7" not in _feed(seen)   # the viewer's own role
    assert 'id="edit-link"' in page()                    # and the editor's again


def test_unchanged_rows_share_a_body_whose_axis_ends_now(app):
    client, monitor_id = _setup(app)

    def axis_end() -> str:
        shown = client.get(f"/monitors/{monitor_id}?range=7d").get_data(as_text=True)
        figure = json.loads(re.search(r'<script type="application/json" id="figure-volume">(.*?)</script>',
                                      shown, re.S).group(1))
        assert "@@axis" not in shown
        return figure["layout"]["xaxis"]["range"][1]

    ends = [axis_end(), axis_end()]
    assert ends[0] < ends[1]                             # now, per request
    assert len(app.extensions["sentimon.dashboard_bodies"]._found) == 1


def test_the_body_key_holds_every_row_read(app):
    """A unit check of the key: two reads that differ in any field are different keys."""
    _client, monitor_id = _setup(app)
    from datetime import datetime, timezone

    from webapp.insights import dashboard

    with app.test_request_context():
        choice = dashboard.choose_range({"range": "24h"}, datetime.now(timezone.utc))
        reads = dashboard_data.read(db.session, monitor_id, choice)
    assert hash(reads) is not None and reads.feed[0] and reads.series
    for field in reads._fields:
        value = getattr(reads, field)
        assert reads._replace(**{field: ("changed",)}) != reads, field
        assert value is None or isinstance(value, tuple), field
