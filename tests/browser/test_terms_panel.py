"""In Chromium, the dashboard's terms panel: a rising phrase is listed, and clicking it opens the
mentions that hold it, with the phrase highlighted."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.browser.support import PASSWORD, push_mentions, screenshot, sign_in
from tests.helpers import make_user, new_monitor


def test_click_a_rising_term_to_its_highlighted_mentions(app, live_server, page, token, drain):
    make_user(app, email="terms@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Terms")
    now = datetime.now(timezone.utc)
    old = (now - timedelta(days=10)).isoformat()
    new = (now - timedelta(hours=2)).isoformat()
    items = [{"external_id": f"o{i}", "text": f"Acme delivery was quick, order {i}", "published_at": old}
             for i in range(30)]
    items += [{"external_id": f"n{i}", "text": "Acme battery recall announced today", "published_at": new}
              for i in range(12)]
    items += [{"external_id": f"d{i}", "text": f"Acme delivery was quick, order {i}", "published_at": new}
              for i in range(10)]
    push_mentions(live_server, token, monitor_id, items, drain)
    sign_in(page, "terms@example.com")

    page.goto(f"/monitors/{monitor_id}?range=7d")
    rising = page.locator("#terms-rising")
    link = rising.get_by_role("link", name="battery recall", exact=True)
    assert link.is_visible()
    assert rising.locator("a.term", has_text="delivery").count() == 0
    screenshot(page, "terms-panel")
    with page.expect_navigation():
        link.click()
    assert "/mentions" in page.url
    assert int(page.locator("#mention-total strong").inner_text()) == 12
    marks = page.locator("li.mention").first.locator("mark.match")
    assert " ".join(marks.all_inner_texts()).lower().split() == ["battery", "recall"]
