"""Source health: rate limits pause a source, the circuit breaker opens and closes, gaps show."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.models import Source, SourceFetch
from webapp.monitors.services import fetching, health

from tests.helpers import new_monitor

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b'<item><guid isPermaLink="false">a1</guid><title>hello</title></item></channel></rss>')


def test_next_pause_rules():
    rng = random.Random(1)
    assert health.next_pause("ok", 0, None, NOW, rng) is None
    assert health.next_pause("error", health.BREAKER_THRESHOLD - 1, None, NOW, rng) is None
    opened = health.next_pause("error", health.BREAKER_THRESHOLD, None, NOW, 300, rng)
    assert timedelta(minutes=10) <= opened - NOW <= timedelta(minutes=12)  # skips a slot
    longer = health.next_pause("error", health.BREAKER_THRESHOLD + 2, None, NOW, 300, rng)
    assert timedelta(minutes=40) <= longer - NOW <= timedelta(minutes=48)
    capped = health.next_pause("error", 40, None, NOW, 300, rng)
    assert capped - NOW <= health.BREAKER_MAX * 1.2
    daily = health.next_pause("error", health.BREAKER_THRESHOLD, None, NOW, 86400, rng)
    assert daily - NOW >= timedelta(days=1)
    asked = health.next_pause("rate_limited", 0, 90, NOW, 300, rng)
    assert timedelta(seconds=90) <= asked - NOW <= timedelta(seconds=108)
    assert health.next_pause("rate_limited", 0, None, NOW, 300, rng) - NOW >= health.RATE_LIMIT_DEFAULT


def test_coverage_gaps():
    t = [NOW + timedelta(minutes=5 * i) for i in range(6)]
    rows = [(1, t[0], "ok", None), (1, t[1], "error", "http_500"), (1, t[2], "error", "http_500"),
            (1, t[3], "ok", None), (2, t[4], "rate_limited", None), (2, t[0], "ok", None)]
    gaps = health.coverage_gaps(rows, t[5])
    assert [(g.source_id, g.start, g.end) for g in gaps] == [(1, t[1], t[3]), (2, t[4], t[5])]
    assert gaps[0].reason == "http_500"


@pytest.fixture
def flaky_feed():
    state = {"answers": [], "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"] += 1
            status, headers = state["answers"].pop(0) if state["answers"] else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(FEED if status == 200 else b"no")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed", state
    server.shutdown()
    server.server_close()


def fetch_at(app, when):
    with app.app_context():
        claimed = fetching.claim_due(db.session, when)
        reports = [fetching.run_fetch(db.session, runtime.bus(), sid, slot, runtime.egress_policy(), when)
                   for sid, slot in claimed]
        db.session.remove()
        return reports


def test_rate_limit_pauses_the_source_as_long_as_asked(app, flaky_feed):
    url, state = flaky_feed
    new_monitor(app, sources=[{"kind": "rss", "url": url, "every": 300}])
    state["answers"] = [(429, {"Retry-After": "600"})]
    [report] = fetch_at(app, NOW)
    assert report.status == "rate_limited"
    assert fetch_at(app, NOW + timedelta(minutes=5)) == []  # paused: not even claimed
    assert state["hits"] == 1
    [report] = fetch_at(app, NOW + timedelta(minutes=15))
    assert report.status == "ok"


def test_breaker_opens_after_failures_in_a_row_and_closes_on_success(app, flaky_feed):
    url, state = flaky_feed
    new_monitor(app, sources=[{"kind": "rss", "url": url, "every": 300}])
    state["answers"] = [(500, {})] * health.BREAKER_THRESHOLD
    when = NOW
    for _ in range(health.BREAKER_THRESHOLD):
        [report] = fetch_at(app, when)
        assert report.status == "error"
        when += timedelta(minutes=5)
    assert report.paused_until is not None  # the breaker is open now: the next slot is skipped
    assert fetch_at(app, when) == []
    [report] = fetch_at(app, when + timedelta(minutes=10))
    assert report.status == "ok"
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "rss")).scalar_one()
        assert (source.consecutive_failures, source.paused_until) == (0, None)
        statuses = db.session.execute(select(SourceFetch.status).order_by(SourceFetch.id)).scalars().all()
        assert statuses == ["error"] * health.BREAKER_THRESHOLD + ["ok"]
        gaps = health.monitor_gaps(db.session, source.monitor_id, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
        assert len(gaps) == 1 and gaps[0].start == NOW


def test_one_failing_source_does_not_stop_the_others(app, flaky_feed):
    url, state = flaky_feed
    new_monitor(app, sources=[{"kind": "rss", "url": url + "?a", "every": 300},
                              {"kind": "demo", "every": 60}])
    state["answers"] = [(500, {})]
    reports = fetch_at(app, NOW)
    assert sorted(r.status for r in reports) == ["error", "ok"]


def test_health_page_and_chart_gaps(app, client, flaky_feed):
    from tests.helpers import make_user

    url, state = flaky_feed
    monitor_id, _ = new_monitor(app, sources=[{"kind": "rss", "url": url, "every": 300}])
    state["answers"] = [(500, {})]
    now = datetime.now(timezone.utc)
    fetch_at(app, now - timedelta(minutes=30))
    make_user(app, email="root@example.com", role="admin", password="admin password")
    client.post("/login", data={"email": "root@example.com", "password": "admin password"})
    page = client.get("/admin/sources").get_data(as_text=True)
    assert "http_500" in page and url in page
    dashboard = client.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    assert "coverage gap" in dashboard and "source " in dashboard and "failing" in dashboard


def test_health_page_is_for_admins_only(app, logged_in):
    assert logged_in.get("/admin/sources").status_code == 403
