"""In Chromium, the mention inbox: filter, bulk-tag 200 mentions (more than a page), assign them,
mark one done from its own page and the rest from the list, and find them again by filters."""
from __future__ import annotations

import re

from tests.browser.support import PASSWORD, push_mentions, screenshot, sign_in
from tests.helpers import make_user, new_monitor


def total(page) -> int:
    return int(page.locator("#mention-total strong").inner_text())


def apply_filters(page, **selects) -> None:
    for field, value in selects.items():
        page.locator(f"#f-{field}").select_option(value)
    with page.expect_navigation():
        page.locator("#apply-filters").click()


def bulk(page, action: str, **fields) -> str:
    page.locator("#bulk-action").select_option(action)
    if "tag" in fields:
        page.locator("#bulk-tag").fill(fields["tag"])
    if "assignee" in fields:
        page.locator("#bulk-assignee").select_option(label=fields["assignee"])
    with page.expect_navigation():
        page.locator("#bulk-apply").click()
    return page.locator("body").inner_text()


def test_filter_bulk_tag_assign_and_mark_done(app, live_server, page, token, drain):
    make_user(app, email="inbox@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Inbox")
    items = [{"external_id": f"b{i}", "text": f"my order {i} arrived broken"} for i in range(200)]
    items += [{"external_id": f"f{i}", "text": f"all fine with order {i}"} for i in range(40)]
    push_mentions(live_server, token, monitor_id, items, drain)
    sign_in(page, "inbox@example.com")

    page.goto(f"/monitors/{monitor_id}/mentions")
    assert total(page) == 240
    page.locator("#f-q").fill("broken")
    apply_filters(page)
    assert total(page) == 200 and page.locator("li.mention").count() == 50   # one page of 50 shown

    text = bulk(page, "tag", tag="Hardware")
    assert "Tag: 200 mentions changed." in text
    apply_filters(page, tag="hardware")
    assert total(page) == 200
    assert page.locator("li.mention").first.locator("a.chip", has_text="hardware").count() == 1

    assert "Assign: 200 mentions changed." in bulk(page, "assign", assignee="inbox@example.com")
    page.goto(f"/monitors/{monitor_id}/mentions")
    apply_filters(page, assignee="me")
    assert total(page) == 200
    assert "inbox@example.com" in page.locator("li.mention").first.locator(".assignee").inner_text()

    first = page.locator("li.mention").first
    assert first.get_attribute("data-read") == "no"
    with page.expect_navigation():
        first.locator("a.notes-link").click()
    assert re.search(r"/mentions/\d+$", page.url)
    with page.expect_navigation():
        page.locator("#do-done").click()
    assert page.locator("#mention-status").text_content() == "done"
    page.locator("#note-body").fill("replacement sent")
    with page.expect_navigation():
        page.locator("#add-note").click()
    assert "replacement sent" in page.locator("#notes-list").inner_text()

    page.goto(f"/monitors/{monitor_id}/mentions?assignee=me&status=open")
    assert total(page) == 199
    assert "Done: 199 mentions changed." in bulk(page, "done")
    apply_filters(page, status="done")
    assert total(page) == 200
    page.goto(f"/monitors/{monitor_id}/mentions?read=read")
    assert total(page) == 1 and page.locator("li.mention").first.get_attribute("data-read") == "yes"
    page.goto(f"/monitors/{monitor_id}?range=24h")
    assert "200" in page.locator("#dashboard-tags").inner_text()
    screenshot(page, "inbox-dashboard")
