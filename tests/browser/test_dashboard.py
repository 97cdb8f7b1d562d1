"""In Chromium: sign in, create a monitor through the form, push mentions through the API, and read
the dashboard's Plotly charts back from the DOM; the range picker; a phone-width screen."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.helpers import new_monitor
from webapp.ingest import rollups

from tests.helpers import make_user
from tests.browser.support import (PASSWORD, chart_id, charts_drawn, click_first_bar, figure_traces,
                      no_horizontal_scroll, open_guarded, push_mentions, screenshot, sign_in)


def expected_points(page, bucket: str, span: timedelta, before: datetime, after: datetime) -> set[int]:
    """Buckets a dashboard range holds: from the range the page says it shows (`#range-label`)
    where it says so, else from the range rules with the page's `now` between `before` and `after`."""
    shown = page.locator("#range-label[data-start][data-end]")
    if shown.count():
        start, end = (datetime.fromisoformat(shown.get_attribute(a)) for a in ("data-start", "data-end"))
        assert before - span - rollups.BUCKETS[bucket] <= start and end <= after + rollups.BUCKETS[bucket]
        return {(end - start) // rollups.BUCKETS[bucket]}
    counts = set()
    for now in (before, after):
        start, end = rollups.resolve_range(bucket, now - span, now, now)
        counts.add((end - start) // rollups.BUCKETS[bucket])
    return counts


def spread_mentions(now: datetime) -> list[dict]:
    """3 mentions in the last 24 hours (3 different hours), 4 more on the 4 days before."""
    hours = [1, 3, 5, 2 * 24, 3 * 24, 4 * 24, 5 * 24]
    texts = ["I love it, wonderful", "terrible, awful service", "it is a table",
             "great work", "bad bad bad", "fine", "excellent and happy"]
    return [{"external_id": f"s{i}", "text": text, "author": f"user{i}",
             "url": f"https://example.com/post/{i}",
             "published_at": (now - timedelta(hours=h, minutes=7)).isoformat()}
            for i, (h, text) in enumerate(zip(hours, texts))]


def stacked(traces: list[dict]) -> dict:
    """The volume chart's bars (stacked by label) as one trace of totals per bucket."""
    bars = [t for t in traces if t["type"] == "bar"]
    return {"x": bars[0]["x"], "y": [sum(t["y"][i] for t in bars) for i in range(len(bars[0]["x"]))]}


def create_monitor_through_form(page, name: str, query: str = "") -> int:
    page.goto("/")
    page.get_by_role("link", name="New monitor").first.click()
    page.get_by_label("Name").fill(name)
    if query:
        page.get_by_label("Query").fill(query)
    page.get_by_role("button", name="Create monitor").click()
    page.wait_for_url(re.compile(r"/monitors/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_sign_in_create_monitor_push_and_read_the_charts(app, live_server, page, token, drain):
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    page.goto("/")
    assert "/login" in page.url                                   # pages need a session
    screenshot(page, "login")
    sign_in(page, "ed@example.com")
    monitor_id = create_monitor_through_form(page, "Rocket <b>Co</b>")
    assert page.get_by_role("heading", level=1).inner_text() == "Rocket <b>Co</b>"

    now = datetime.now(timezone.utc)
    push_mentions(live_server, token, monitor_id, spread_mentions(now), drain)

    before = datetime.now(timezone.utc)
    page.goto(f"/monitors/{monitor_id}?range=24h&bucket=15m")
    ids = charts_drawn(page, min_count=3)
    after = datetime.now(timezone.utc)
    volume = stacked(figure_traces(page, chart_id(ids, "volume")))
    assert len(volume["x"]) in expected_points(page, "15m", timedelta(hours=24), before, after)
    assert sum(volume["y"]) == 3 and sum(1 for y in volume["y"] if y) == 3
    screenshot(page, "dashboard-24h")

    # The range picker, as a person uses it: the choice is kept in the URL and the charts follow.
    page.locator("select[name=range]").select_option("7d")
    page.locator("select[name=bucket]").select_option("1h")
    before = datetime.now(timezone.utc)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"range=7d"))
    assert "bucket=1h" in page.url
    ids = charts_drawn(page, min_count=3)
    after = datetime.now(timezone.utc)
    volume = stacked(figure_traces(page, chart_id(ids, "volume")))
    assert len(volume["x"]) in expected_points(page, "1h", timedelta(days=7), before, after)
    assert sum(volume["y"]) == 7 and sum(1 for y in volume["y"] if y) == 7
    assert page.locator("select[name=range]").input_value() == "7d"
    screenshot(page, "dashboard-7d")

    page.get_by_role("link", name="Mentions", exact=True).first.click()
    page.wait_for_url(re.compile(rf"/monitors/{monitor_id}/mentions"))
    assert page.locator("li.mention").count() == 7
    screenshot(page, "mentions")

    page.go_back()
    charts_drawn(page, min_count=3)
    if page.locator(".js-plotly-plot[data-click-url]").count():    # a bucket's mentions, one click away
        count = click_first_bar(page)
        page.wait_for_url(re.compile(rf"/monitors/{monitor_id}/mentions\?.*since="))
        assert page.locator("li.mention").count() == count


def test_phone_width_has_no_sideways_scrolling_and_a_usable_nav(app, live_server, browser, token, drain):
    make_user(app, email="phone@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="A monitor with quite a long name for a small screen")
    push_mentions(live_server, token, monitor_id, spread_mentions(datetime.now(timezone.utc)), drain)
    guard = open_guarded(browser, live_server, viewport={"width": 390, "height": 844},
                         is_mobile=True, has_touch=True, device_scale_factor=2)
    page = guard.page
    try:
        sign_in(page, "phone@example.com")
        for path, name in [("/", "phone-monitors"), (f"/monitors/{monitor_id}", "phone-dashboard"),
                           (f"/monitors/{monitor_id}/mentions", "phone-mentions"),
                           ("/classify", "phone-classify"), ("/monitors/new", "phone-new-monitor"),
                           ("/compare", "phone-compare")]:
            page.goto(path)
            if "mentions" not in path and path.startswith("/monitors/") and path[-1].isdigit():
                charts_drawn(page, min_count=3)
            assert no_horizontal_scroll(page), f"{path} scrolls sideways at 390 px"
            screenshot(page, name)
        # The nav stays usable: every link is visible, inside the screen, and followable.
        links = page.locator("header nav a")
        assert links.count() >= 3
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            assert links.nth(i).is_visible() and box and box["x"] >= 0 and box["x"] + box["width"] <= 391, \
                f"nav link {links.nth(i).inner_text()!r} is off screen: {box}"
        page.locator("header nav").get_by_role("link", name="Classify text").tap()
        page.wait_for_url(re.compile(r"/classify$"))
        guard.check()
    finally:
        guard.context.close()
