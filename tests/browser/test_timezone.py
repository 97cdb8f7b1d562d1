"""In Chromium set to another time zone (Playwright `timezone_id`): every time on the dashboard,
the chart axes and other pages show that zone, named; the UTC switch in the top bar is
remembered across pages (a cookie) and switches back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.helpers import make_user, new_monitor
from tests.browser.support import (PASSWORD, chart_id, charts_drawn, open_guarded, push_mentions,
                                   screenshot, sign_in)

ZONE = "Asia/Tokyo"              # UTC+09:00 all year: no daylight saving
OFFSET = timedelta(hours=9)


def axis(page, element_id: str) -> dict:
    return page.evaluate("""id => { const gd = document.getElementById(id);
        return {title: gd.layout.xaxis.title.text, x: Array.from(gd.data[0].x),
                range: gd.layout.xaxis.range}; }""", element_id)


def test_times_and_chart_axes_follow_the_browser_zone_and_the_utc_switch(app, live_server, browser, token, drain):
    make_user(app, email="tz@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Zones")
    at = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(minute=7, second=0, microsecond=0)
    push_mentions(live_server, token, monitor_id, [
        {"external_id": f"z{i}", "text": f"I love it, number {i}", "published_at": (at - timedelta(minutes=i)).isoformat()}
        for i in range(3)], drain)
    guard = open_guarded(browser, live_server, timezone_id=ZONE)
    page = guard.page
    try:
        sign_in(page, "tz@example.com")
        page.goto(f"/monitors/{monitor_id}?range=24h&bucket=1h")
        ids = charts_drawn(page, min_count=2)
        assert page.locator("#tz [data-zone-name]").inner_text() == ZONE
        latest = page.locator("#feed-latest time").first
        assert latest.inner_text() == (at + OFFSET).strftime("%Y-%m-%d %H:%M") + f" {ZONE}"
        assert latest.get_attribute("title") == at.strftime("%Y-%m-%d %H:%M:%S") + " UTC"
        compared = page.locator("#compared-with time").first.inner_text()
        assert compared.endswith(ZONE)
        volume = axis(page, chart_id(ids, "volume"))
        assert volume["title"] == f"time ({ZONE})"
        first_utc = datetime.fromisoformat(page.locator("#range-label").get_attribute("data-start"))
        assert volume["x"][0].startswith((first_utc + OFFSET).strftime("%Y-%m-%d %H:%M"))
        assert axis(page, chart_id(ids, "sentiment"))["title"] == f"time ({ZONE})"
        screenshot(page, "dashboard-tokyo")

        # UTC, chosen once, holds on the next pages too
        page.get_by_role("button", name="Use UTC").click()
        page.wait_for_load_state()
        ids = charts_drawn(page, min_count=2)
        assert page.locator("#tz [data-zone-name]").inner_text() == "UTC"
        assert page.locator("#feed-latest time").first.inner_text() == at.strftime("%Y-%m-%d %H:%M") + " UTC"
        volume = axis(page, chart_id(ids, "volume"))
        assert volume["title"] == "time (UTC)" and volume["x"][0].startswith(first_utc.strftime("%Y-%m-%d %H:%M"))
        page.goto(f"/monitors/{monitor_id}/mentions")
        assert page.locator("li.mention time").first.inner_text().endswith(" UTC")
        page.get_by_role("button", name=f"Use my time zone ({ZONE})").click()
        page.wait_for_load_state()
        assert page.locator("li.mention time").first.inner_text().endswith(ZONE)
        guard.check()
    finally:
        guard.context.close()
