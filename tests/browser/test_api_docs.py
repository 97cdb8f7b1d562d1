"""In Chromium: the interactive API reference (/api/docs) draws the operations of openapi.json from
local assets under the Content-Security-Policy; the dashboard's plotly.js arrives gzip-compressed
and cacheable for a year."""
from __future__ import annotations

from tests.helpers import make_user, new_monitor
from tests.browser.support import PASSWORD, charts_drawn, push_mentions, screenshot, sign_in
from datetime import datetime, timezone


def test_api_docs_draw_the_operations_from_local_assets(guard):
    page = guard.page
    page.goto("/api/docs")
    page.locator(".opblock").first.wait_for()
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/monitors" in s for s in summaries) and len(summaries) > 20
    assert page.get_by_role("button", name="Authorize").count() >= 1 or page.locator(".authorize").count() >= 1
    screenshot(page, "api-docs")
    guard.check()                 # no console error, no CSP violation, nothing from another host


def test_plotly_arrives_compressed_and_cacheable(app, guard, live_server, token, drain):
    make_user(app, email="gz@example.com", role="viewer", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Compressed")
    push_mentions(live_server, token, monitor_id, [{"external_id": "g1", "text": "lovely",
                                                    "published_at": datetime.now(timezone.utc).isoformat()}], drain)
    page = guard.page
    sign_in(page, "gz@example.com")
    with page.expect_response(lambda r: "/vendor/plotly.min.js" in r.url) as answer:
        page.goto(f"/monitors/{monitor_id}")
    response = answer.value
    headers = response.all_headers()
    assert headers.get("content-encoding") == "gzip" and "immutable" in headers.get("cache-control", "")
    assert int(headers.get("content-length", "0")) < 2_000_000
    charts_drawn(page, min_count=2)
    guard.check()
