"""Stored XSS (#6): mentions carrying script, event-handler, `javascript:`, `</script>`, template and
MathJax-style payloads in text, author and URL, pushed through the REST API and rendered by
Chromium on every page that shows them. The context bypasses the Content-Security-Policy, so what
is proven is the escaping itself (the CSP is a second wall, checked by the other browser tests)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import make_user
from tests.browser.support import (PASSWORD, alert_event, api, charts_drawn, click_first_bar, push_mentions,
                      screenshot, sign_in)
from tests.browser.xss import NAME, RULE_NAME, TEXTS, URLS, assert_inert, hover_points, mentions

pytestmark = pytest.mark.bypass_csp


@pytest.fixture
def hostile(app, live_server, token, drain):
    """A monitor whose name, feed URL, mentions and alert rule all carry payloads; an admin to view it."""
    make_user(app, email="admin@example.com", role="admin", password=PASSWORD)
    status, monitor = api(live_server, token, "POST", "/monitors", {
        "name": NAME, "query": "", "sources": [
            {"kind": "rss", "url": "http://127.0.0.1:9/feed?q=<img src=x onerror=alert(1)>&m=$$x$$"}]})
    if status != 201:        # the feed URL may be refused when saved: then the name alone carries one
        status, monitor = api(live_server, token, "POST", "/monitors", {"name": NAME, "query": "", "sources": []})
    assert status == 201, monitor
    status, other = api(live_server, token, "POST", "/monitors", {"name": NAME + " (2)", "query": "", "sources": []})
    assert status == 201, other
    published = datetime.now(timezone.utc) - timedelta(hours=2)
    push_mentions(live_server, token, monitor["id"], mentions(published), drain)
    push_mentions(live_server, token, other["id"], mentions(published - timedelta(hours=1)), drain)
    event_id = alert_event(app, live_server, token, monitor["id"], published, name=RULE_NAME)
    return {"monitor_id": monitor["id"], "other_id": other["id"], "event_id": event_id}


def test_payloads_stay_text_on_every_page_that_shows_them(app, live_server, page, hostile):
    monitor_id, event_id = hostile["monitor_id"], hostile["event_id"]
    sign_in(page, "admin@example.com")

    for path in ("/", f"/monitors/{monitor_id}?range=24h", f"/monitors/{monitor_id}?range=7d"):
        page.goto(path)
        if "range" in path:
            charts_drawn(page, min_count=3)
            assert hover_points(page)
            assert page.get_by_role("heading", level=1).inner_text() == NAME
        assert_inert(page, path)
    screenshot(page, "xss-dashboard")

    # Clicking a bucket (where the dashboard offers it) opens that bucket's mentions.
    clickable = page.locator(".js-plotly-plot[data-click-url]")
    if clickable.count():
        click_first_bar(page)
        page.wait_for_url(re.compile(r"/mentions\?"))
        assert_inert(page, "bucket mentions")

    page.goto(f"/monitors/{monitor_id}/mentions")
    texts = page.locator(".mention .text").all_inner_texts()
    for text in TEXTS:                                   # shown, literally, as text
        assert any(text.strip() in shown for shown in texts), f"{text!r} not shown as text"
    hrefs = page.locator(".mention a[href]").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    own = re.compile(rf"/monitors/{monitor_id}/mentions(/\d+)?(\?tag=[\w%-]+)?$")   # inbox links: mention page, tag chips
    assert {h for h in hrefs if not own.match(h)} <= {u for u in URLS if u.startswith("https://")}, hrefs
    assert_inert(page, "mentions")
    screenshot(page, "xss-mentions")
    for label in ("positive", "neutral", "negative"):
        page.goto(f"/monitors/{monitor_id}/mentions?label={label}")
        assert_inert(page, f"mentions labelled {label}")

    page.goto(f"/monitors/{monitor_id}/edit")
    assert_inert(page, "edit")
    page.locator("#test-query").click()                  # the query preview lists stored mentions
    page.wait_for_selector("#preview")
    assert page.locator("#preview .mention").count() == len(TEXTS)
    assert_inert(page, "query preview")

    # monitor names become trace names on the compare page
    page.goto(f"/compare?monitor={monitor_id}&monitor={hostile['other_id']}&range=7d")
    charts_drawn(page, min_count=1)
    labels = hover_points(page)
    assert any(NAME in label for label in labels), labels[:3]   # the name, as text, in a hover label
    assert_inert(page, "compare")
    screenshot(page, "xss-compare")

    for path in [f"/monitors/{monitor_id}/rules", f"/monitors/{monitor_id}/alerts",
                 f"/alerts/events/{event_id}", "/alerts", "/admin/sources",
                 f"/monitors/{monitor_id}/scorer", f"/monitors/{monitor_id}/backfill",
                 f"/monitors/{monitor_id}/lexicon", "/admin/deliveries", "/admin/pipeline",
                 f"/monitors/{monitor_id}/mentions?q=script"]:
        response = page.goto(path)
        assert response.status == 200, path
        assert_inert(page, path)
    page.goto(f"/alerts/events/{event_id}")
    samples = page.locator(".mention .text").all_inner_texts()       # samples shown as text
    assert samples and all(any(s.strip() == t.strip() for t in TEXTS) for s in samples), samples
    screenshot(page, "xss-alert-event")


def test_typed_payloads_stay_text_on_the_classify_explain_and_evaluate_forms(app, live_server, guard, page):
    make_user(app, email="viewer@example.com", role="viewer", password=PASSWORD)
    sign_in(page, "viewer@example.com")
    payload = "\n".join(TEXTS)
    for path in ("/classify", "/scorers/explain"):
        page.goto(path)
        page.get_by_label("Text", exact=True).fill(payload)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        screenshot(page, "xss-" + path.strip("/").replace("/", "-"))
        assert page.get_by_label("Text", exact=True).input_value().replace("\r\n", "\n") == payload
        assert_inert(page, path)

    page.goto("/scorers/evaluate")
    rows = ["text,label"] + [f'"{t.replace(chr(34), chr(34) * 2)}",positive' for t in TEXTS] + \
        ['fine,"<img src=x onerror=window.__xss=1>"', '"$$x$$",</script><script>alert(1)</script>']
    page.get_by_label("Labelled file").set_input_files(files=[{
        "name": "<img src=x onerror=alert(1)>.csv", "mimeType": "text/csv",
        "buffer": "\n".join(rows).encode()}])
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    if page.locator(".error").count():           # refused (400): the browser notes it in the console
        guard.expect_console_error(r"status of 400")
    assert_inert(page, "evaluate report")
    screenshot(page, "xss-evaluate")


def test_the_checks_see_a_payload_that_became_markup(guard, page):
    """The control: the same payloads pasted unescaped into a page are caught by every check."""
    page.goto("/login")
    page.evaluate("html => { document.querySelector('main').innerHTML = html; }",
                  "".join(TEXTS) + f'<a href="{URLS[0]}">x</a>')
    page.wait_for_function("() => window.__xss === 1")
    with pytest.raises(AssertionError, match="window.__xss = 1.*onerror.*link with javascript:"):
        assert_inert(page, "control")
    assert guard.dialogs                                       # the alert(1) was seen too
    guard.console_errors.clear(); guard.dialogs.clear()      # what the control provoked on purpose
