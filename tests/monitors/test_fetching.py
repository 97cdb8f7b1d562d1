"""Scheduled fetching: slots claimed once, query filtering, cursors, errors recorded."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.monitors.models import Source
from webapp.monitors.services import fetching

from tests.helpers import new_monitor

NOW = datetime(2026, 6, 1, 12, 0, 7, tzinfo=timezone.utc)

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid isPermaLink="false">a1</guid><title>Acme launches a wonderful rocket</title><link>https://example.com/1</link>
<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>
<item><guid isPermaLink="false">a2</guid><title>Weather today</title><link>https://example.com/2</link></item>
<item><guid isPermaLink="false">a3</guid><title>Acme support is terrible</title><link>https://example.com/3</link></item>
</channel></rss>"""


@pytest.fixture
def feed_server():
    state = {"status": 200, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"] += 1
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(FEED if state["status"] == 200 else b"oops")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml", state
    server.shutdown()
    server.server_close()


def test_is_due():
    assert fetching.is_due(None, None, 5)
    assert fetching.is_due(4, None, 5)
    assert not fetching.is_due(5, None, 5)
    assert not fetching.is_due(4, 5, 5)
    assert fetching.slot_for(NOW, 300) == int(NOW.timestamp()) // 300


def test_claim_due_hands_out_each_slot_once(app):
    new_monitor(app, sources=[{"kind": "demo", "every": 300}, {"kind": "demo", "every": 60}])
    with app.app_context():
        first = fetching.claim_due(db.session, NOW)
        assert len(first) == 2  # system (push/import) sources are never fetched
        assert fetching.claim_due(db.session, NOW) == []
        later = fetching.claim_due(db.session, NOW + timedelta(seconds=60))
        assert [slot for _, slot in later] == [fetching.slot_for(NOW + timedelta(seconds=60), 60)]


def test_demo_fetch_publishes_and_advances_cursor(app, drain):
    monitor_id, _ = new_monitor(app, query="", sources=[{"kind": "demo", "every": 60}])
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "demo")).scalar_one()
        report = fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW)
        assert report.status == "ok" and report.published == report.fetched > 100
        # The same slot again is skipped; the next slot continues from the cursor.
        assert fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW).status == "skipped"
        cursor = dict(db.session.get(Source, source.id).cursor)
        nxt = fetching.run_fetch(db.session, runtime.bus(), source.id, 2, runtime.egress_policy(),
                                 NOW + timedelta(hours=1))       # the demo's pace: a few an hour
        assert nxt.status == "ok" and 0 < nxt.fetched < 50
        assert db.session.get(Source, source.id).cursor != cursor
    outcome = drain()
    assert outcome.inserted == report.published + nxt.published


def test_rss_fetch_filters_with_the_query(app, feed_server, drain):
    url, _ = feed_server
    monitor_id, _ = new_monitor(app, query="acme", sources=[{"kind": "rss", "url": url}])
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "rss")).scalar_one()
        report = fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW)
        assert (report.fetched, report.published) == (3, 2)
    drain()
    with app.app_context():
        labels = dict(db.session.execute(select(Mention.external_id, Mention.label)).all())
        assert labels == {"a1": "positive", "a3": "negative"}


def test_fetch_errors_are_recorded_not_raised(app, feed_server):
    url, state = feed_server
    state["status"] = 500
    new_monitor(app, sources=[{"kind": "rss", "url": url}])
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "rss")).scalar_one()
        report = fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW)
        assert report.status == "error" and "500" in report.error
        stored = db.session.get(Source, source.id)
        assert (stored.last_status, stored.last_slot) == ("error", 1) and "500" in stored.last_error


def test_loopback_feed_is_refused_without_the_allowlist(app, feed_server):
    url, state = feed_server
    new_monitor(app, sources=[{"kind": "rss", "url": url}])
    app.config["EGRESS_ALLOW"] = ""
    app.extensions.pop("sentimon.egress", None)
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "rss")).scalar_one()
        report = fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW)
        assert report.status == "error" and "blocked" in report.error
        assert state["hits"] == 0
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 0


def test_a_query_that_does_not_parse_costs_no_fetch(app, feed_server):
    url, state = feed_server
    monitor_id, _ = new_monitor(app, query="acme", sources=[{"kind": "rss", "url": url}])
    with app.app_context():
        from webapp.monitors.models import Monitor

        db.session.get(Monitor, monitor_id).query = "(acme"   # saved before the rules got stricter
        db.session.commit()
        source = db.session.execute(select(Source).where(Source.kind == "rss")).scalar_one()
        report = fetching.run_fetch(db.session, runtime.bus(), source.id, 1, runtime.egress_policy(), NOW)
        assert (report.status, report.error_code, report.fetched) == ("error", "QueryError", 0)
        assert state["hits"] == 0
