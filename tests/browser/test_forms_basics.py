"""In Chromium: every source kind set up through the new-monitor form against the local fakes
(each one tested with “Test source”, then all saved with the check on save), the test-source
errors, deleting a monitor, changing one's password (the other session ends), and no page that
scrolls sideways at phone width (390x844)."""
from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.support import (PASSWORD, accessibility_violations, alert_event, no_horizontal_scroll,
                                   open_guarded, push_mentions, screenshot, sign_in)
from tests.browser.test_accessibility import main_pages
from tests.fake_news import FakeGdelt, FakeGitHub, FakeReddit, FakeServer, FakeYouTube, google_news_rss
from tests.fake_social import FakeBluesky, FakeHackerNews, FakeMastodon, FakeX, running
from tests.helpers import make_user, new_monitor
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.monitors.source_forms import input_name

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>b1</guid><title>Acme rocket launch praised</title></item></channel></rss>"""
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def fakes():
    """Every service the source kinds talk to, on loopback; yields kind -> the settings to type."""
    with ExitStack() as stack:
        news = FakeServer()
        stack.callback(news.close)
        gdelt, youtube, github = FakeGdelt(news), FakeYouTube(news), FakeGitHub(news)
        FakeReddit(news)
        news.routes["/rss/search"] = lambda req: (200, {"Content-Type": "application/xml"}, google_news_rss([]))
        news.routes["/feed.xml"] = lambda req: (200, {"Content-Type": "application/rss+xml"}, FEED)
        news.routes["/page.html"] = lambda req: (200, {"Content-Type": "text/html"}, "<html><body>Home</body></html>")
        news.routes["/items.json"] = lambda req: (200, {}, [{"id": "j1", "t": "Acme in JSON"}])
        hn = stack.enter_context(running(FakeHackerNews()))
        mastodon = stack.enter_context(running(FakeMastodon()))
        bluesky = stack.enter_context(running(FakeBluesky()))
        x = stack.enter_context(running(FakeX()))
        yield news, {
            "rss": {"rss_urls": f"{news.base}/feed.xml"},
            "demo": {},
            "hackernews": {"base_url": hn.base_url},
            "mastodon": {"instances": mastodon.base_url, "tag": "acme"},
            "bluesky": {"identifier": bluesky.identifier, "app_password": bluesky.password,
                        "base_url": bluesky.base_url},
            "x": {"bearer_token": x.token, "max_posts_per_day": "100", "base_url": x.base_url},
            "gdelt": {"base_url": gdelt.url},
            "youtube": {"api_key": youtube.key, "base_url": youtube.base},
            "github": {"token": github.token, "base_url": github.base},
            "reddit": {"base_url": news.base},
            "google_news": {"base_url": news.base},
            "json": {"url": f"{news.base}/items.json", "fields": '{"id": "id", "text": "t"}'},
        }


def _fill(page, kind: str, settings: dict) -> None:
    """Open the kind's section, tick its box and type its settings (ids are the input names)."""
    if page.locator(f"#source-{kind}").get_attribute("open") is None:
        page.locator(f"#source-{kind} > summary").click()
    if kind != "rss":
        page.locator(f"#{input_name(kind)}").check()
    for name, value in settings.items():
        page.locator(f"#{name}" if kind == "rss" else f"#{input_name(kind, name)}").fill(value)


def _test_source(page, kind: str) -> None:
    """Press the section's "Test source" (a plain submit to `...#source-<kind>`) and wait for the
    answer's page to finish loading. Its fragment scrolls the page once loaded: a click aimed
    before that lands wherever the scroll moved the page (once, the first section's own "Test
    source", which submitted the form again in the middle of the next section's filling)."""
    with page.expect_navigation(wait_until="load", timeout=30_000):
        page.locator(f"#test-source-{kind}").click()


def test_every_kind_through_the_form_against_the_fakes(app, live_server, guard, page, fakes):
    news, kinds = fakes
    app.config["SOURCE_CHECK_ON_SAVE"] = True
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    sign_in(page, "ed@example.com", next_path="/monitors/new")
    page.goto("/monitors/new")
    page.get_by_label("Name", exact=True).fill("Every kind")
    page.locator("#query").fill("acme")
    for kind, settings in kinds.items():
        _fill(page, kind, settings)
        _test_source(page, kind)
        result = page.locator(f"#source-{kind} .probe")
        result.first.wait_for()
        assert result.first.get_attribute("data-probe") == "ok", (kind, result.first.inner_text())
    screenshot(page, "new-monitor-tested")
    assert not accessibility_violations(page)
    for kind, settings in kinds.items():   # credentials are write-only: never put back in the page
        _fill(page, kind, settings)
    page.get_by_role("button", name="Create monitor").click()
    # the dashboard's charts may load slowly on a busy machine: the page itself is what counts
    page.wait_for_url(re.compile(r"/monitors/\d+$"), wait_until="domcontentloaded", timeout=30_000)
    assert "fetched within a minute" in page.locator(".flash").first.inner_text()
    with app.app_context():
        monitor = db.session.execute(db.select(Monitor).where(Monitor.name == "Every kind")).scalar_one()
        assert sorted(s.kind for s in monitor.fetched_sources) == sorted(kinds)
        db.session.remove()


def test_test_source_errors_in_the_page(app, live_server, guard, page, fakes):
    news, _ = fakes
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    sign_in(page, "ed@example.com", next_path="/monitors/new")
    page.goto("/monitors/new")
    page.locator("#rss_urls").fill(f"{news.base}/page.html\n{news.base}/missing.xml")
    _test_source(page, "rss")
    probes = page.locator("#source-rss .probe")
    probes.nth(1).wait_for()
    assert "not with an RSS or Atom feed" in probes.nth(0).inner_text()
    assert "HTTP 404" in probes.nth(1).inner_text()
    screenshot(page, "test-source-errors")

    app.config["EGRESS_ALLOW"] = ""       # a fresh policy: loopback is refused again
    app.extensions.pop("sentimon.egress", None)
    page.locator("#rss_urls").fill(f"{news.base}/feed.xml")
    guard.expect_console_error(r"status of 400 .*/monitors/new")
    _test_source(page, "rss")
    page.wait_for_selector("#source-rss .field .error")
    assert "EGRESS_ALLOW" in page.locator("#source-rss .field .error").first.inner_text()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Monitor)).scalar() == 0
        db.session.remove()


def test_delete_a_monitor(app, live_server, guard, page):
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Short-lived")
    sign_in(page, "ed@example.com", next_path=f"/monitors/{monitor_id}/edit")
    page.goto(f"/monitors/{monitor_id}/edit")
    page.locator("#delete-monitor-link").click()
    page.wait_for_url(f"**/monitors/{monitor_id}/delete")
    assert "Delete Short-lived?" in page.locator("h1").inner_text()
    assert not accessibility_violations(page)
    screenshot(page, "delete-monitor")
    page.locator("#confirm-delete").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "deleted" in page.locator(".flash").first.inner_text()
    assert page.goto(f"/monitors/{monitor_id}").status == 404
    assert "Page not found" in page.locator("h1").inner_text()
    guard.expect_console_error(r"status of 404")
    assert not accessibility_violations(page)
    screenshot(page, "not-found")


def test_change_password_ends_the_other_session(app, live_server, guard, page, browser):
    make_user(app, email="me@example.com", role="viewer", password=PASSWORD)
    other = open_guarded(browser, live_server)
    try:
        sign_in(other.page, "me@example.com")
        sign_in(page, "me@example.com", next_path="/account")
        page.goto("/account")
        assert not accessibility_violations(page)
        screenshot(page, "account")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password (at least 10 characters)").fill("a fresh passphrase")
        page.get_by_label("New password again").fill("a fresh passphrase")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_selector(".flash")
        assert "other sessions are signed out" in page.locator(".flash").first.inner_text()
        assert page.goto("/").url.endswith("/")                      # this one stays
        other.page.goto("/")
        assert "/login" in other.page.url                            # the other one ended
        other.check()
    finally:
        other.context.close()


def test_no_page_scrolls_sideways_at_phone_width(app, live_server, browser, token, drain):
    make_user(app, email="admin@example.com", role="admin", password=PASSWORD)
    long_name = "A monitor with a long name " + "x" * 60
    monitor_id, _ = new_monitor(app, name=long_name, sources=[
        {"kind": "rss", "url": "https://feeds.example.com/" + "very-long-path-segment/" * 8 + "feed.xml"}])
    other_id, _ = new_monitor(app, name="Globex")
    published = datetime.now(timezone.utc) - timedelta(hours=3)
    push_mentions(live_server, token, monitor_id, [
        {"external_id": f"p{i}", "text": text + " https://example.com/" + "long" * 30, "author": "someone",
         "published_at": (published + timedelta(minutes=i)).isoformat()}
        for i, text in enumerate(["I love it", "awful and broken", "a table"])], drain)
    event_id = alert_event(app, live_server, token, monitor_id, published)
    phone = open_guarded(browser, live_server, viewport=PHONE, is_mobile=True)
    try:
        page = phone.page
        page.goto("/login")
        wide = [] if no_horizontal_scroll(page) else ["/login"]
        sign_in(page, "admin@example.com")
        extra = [("account", "/account"), ("teams", "/teams"), ("delete", f"/monitors/{monitor_id}/delete"),
                 ("tags", f"/monitors/{monitor_id}/tags"), ("noise", f"/monitors/{monitor_id}/noise"),
                 ("dead-letters", "/admin/dead-letters")]
        for name, path in [*main_pages(app, monitor_id, other_id, event_id), *extra]:
            response = page.goto(path)
            if response.status == 404 and name in ("tags", "noise", "dead-letters"):
                continue      # a page of a feature this app does not have
            assert response.status == 200, (path, response.status)
            page.wait_for_load_state("load")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            screenshot(page, f"phone-{name}")
            if width > PHONE["width"]:
                wide.append(f"{path}: {width}px")
        assert not wide, "pages wider than 390 px:\n" + "\n".join(wide)
        phone.check()
    finally:
        phone.context.close()
