"""Source health names sources by kind and setting and says what failed in a short sentence:
status and reason, never the raw HTML of a remote 404 page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.fake_news import FakeServer
from tests.helpers import make_user, new_monitor
from tests.monitors.test_source_health import fetch_at
from webapp.monitors.services.probe import short_error

ERROR_PAGE = "<!doctype html><html><body><h1>Not Found</h1><p>The page SECRETMARKUP is gone</p></body></html>"


@pytest.fixture
def fake():
    server = FakeServer()
    server.routes["/gone.xml"] = lambda req: (404, {"Content-Type": "text/html"}, ERROR_PAGE)
    yield server
    server.close()


def test_health_page_in_words(app, client, fake):
    url = f"{fake.base}/gone.xml"
    new_monitor(app, "Watched", sources=[{"kind": "rss", "url": url, "every": 300}])
    fetch_at(app, datetime.now(timezone.utc) - timedelta(minutes=5))
    make_user(app, email="root@example.com", role="admin", password="admin password")
    client.post("/login", data={"email": "root@example.com", "password": "admin password"})
    page = client.get("/admin/sources").get_data(as_text=True)
    assert f"RSS / Atom feed · url: {url}" in page
    assert "Nothing was found at this address (HTTP 404)" in page
    assert "SECRETMARKUP" not in page and "&lt;h1&gt;" not in page
    recent = page.split('id="recent-fetches"')[1]
    assert "RSS / Atom feed" in recent and "http_404" in recent


def test_short_error_reads_stored_texts():
    assert "HTTP 404" in short_error(None, "http_404: the feed answered HTTP 404", "rss")
    assert "EGRESS_ALLOW" in short_error("blocked", "10.0.0.1 points to a non-public address", "rss")
    assert short_error(None, None, "rss") == "" and short_error(None, "", "rss") == ""
    assert short_error(None, "something odd", "rss").endswith(".")
