"""In Chromium: the dashboard's top-authors and languages panels (issue 15) with a multi-language
sample and one loud author: the table ranks by influence, the language chart draws scored and
volume-only bars, a language opens its mentions, and the volume chart carries the reach line."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.browser.support import (PASSWORD, charts_drawn, figure_traces, push_mentions, screenshot,
                                   sign_in)
from tests.helpers import make_user, new_monitor

SAMPLE = [
    ("I love this coffee machine, it is wonderful", "loud", 2_000_000, 5_000),
    ("The delivery was awful and slow, really disappointed", "quiet", 12, None),
    ("La livraison est encore en retard, je suis vraiment déçu", "quiet", None, None),
    ("Die beste Kaffeemaschine, die ich je hatte, wirklich toll", "loud", 1_000, None),
    ("<script>alert(1)</script> great stuff, really great", "<b>bold</b>", 5, 1),
]


def _items(now: datetime) -> list[dict]:
    items = []
    for i, (text, author, reach, engagement) in enumerate(SAMPLE):
        item = {"external_id": f"a{i}", "text": text, "author": author,
                "published_at": (now - timedelta(minutes=20 + i)).isoformat()}
        if reach is not None:
            item["reach"] = reach
        if engagement is not None:
            item["engagement"] = engagement
        items.append(item)
    return items


def test_authors_and_languages_panels(app, live_server, page, token, drain):
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Audience")
    push_mentions(live_server, token, monitor_id, _items(datetime.now(timezone.utc)), drain)
    sign_in(page, "ed@example.com")
    page.goto(f"/monitors/{monitor_id}?range=24h&bucket=1h")
    ids = charts_drawn(page, min_count=2)
    assert "chart-languages" in ids

    rows = page.locator("#authors-table tbody tr")
    assert rows.count() == 3
    first = rows.nth(0).locator("td")
    assert first.nth(0).inner_text() == "loud" and first.nth(1).inner_text() == "2"
    assert float(first.nth(3).inner_text()) > float(rows.nth(1).locator("td").nth(3).inner_text())
    assert page.locator("#authors-table").get_by_text("<b>bold</b>").count() == 1   # shown as text

    scored, volume_only = figure_traces(page, "chart-languages")
    assert dict(zip(scored["y"], scored["x"]))["en"] == 3
    assert dict(zip(volume_only["y"], volume_only["x"])) == {"en": 0, "fr": 1, "de": 1}

    traces = figure_traces(page, "chart-volume")
    reach = [t for t in traces if t["name"] == "reach-weighted volume"]
    assert reach and sum(reach[0]["y"]) == 2_000_000 + 12 + 1_000 + 5
    screenshot(page, "audience-panels")

    page.locator("#languages-table").get_by_role("link", name="fr").click()
    page.wait_for_url(re.compile(r"lang=fr"))
    listed = page.locator("#mention-list li.mention")
    assert listed.count() == 1
    assert listed.first.locator(".label-badge").inner_text() == "unscored"
    assert listed.first.locator(".tag.lang").inner_text() == "fr"
    assert page.locator("#f-lang").input_value() == "fr"
