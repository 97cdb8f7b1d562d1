"""In Chromium, the source sections of the new-monitor form: a section folds open, typing in it
ticks its "Add" box (js/source_form.js, under the Content-Security-Policy), the monitor is created
with those sources, and after an error the credential is not put back into the page."""
from __future__ import annotations

import re

from tests.browser.support import PASSWORD, accessibility_violations, sign_in
from tests.helpers import make_user
from webapp.core import crypto
from webapp.core.extensions import db
from webapp.monitors.models import Monitor

TOKEN = "ghp_BROWSERFORMSECRET42"


def test_sources_of_other_kinds_through_the_new_monitor_form(app, live_server, guard, page):
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    sign_in(page, "ed@example.com", next_path="/monitors/new")
    page.goto("/monitors/new")
    page.get_by_label("Name", exact=True).fill("Browser sources")

    # A wrong interval first: the page comes back with the error next to it, the token not echoed.
    page.locator("#source-github > summary").click()
    page.locator("#src-github-token").fill(TOKEN)
    assert page.locator("#src-github").is_checked()               # the script ticked "Add"
    page.locator("#src-github-every").fill("30")
    guard.expect_console_error(r"status of 400 .*/monitors/new")
    page.get_by_role("button", name="Create monitor").click()
    page.wait_for_selector("#source-github[open] .error")
    error = page.locator("#source-github .field", has=page.locator("#src-github-every")).locator(".error")
    assert "from 300" in error.inner_text()
    assert page.locator("#src-github-token").input_value() == "" and TOKEN not in page.content()
    assert not accessibility_violations(page)

    page.locator("#src-github-token").fill(TOKEN)
    page.locator("#src-github-every").fill("")
    page.locator("#source-mastodon > summary").click()
    page.locator("#src-mastodon-instances").fill("mastodon.social")
    page.locator("#src-mastodon-tag").fill("acme")
    assert page.locator("#src-mastodon").is_checked()
    page.get_by_role("button", name="Create monitor").click()
    page.wait_for_url(re.compile(r"/monitors/\d+$"))
    with app.app_context():
        monitor = db.session.execute(db.select(Monitor).where(Monitor.name == "Browser sources")).scalar_one()
        sources = {s.kind: crypto.reveal_settings(s.settings) for s in monitor.fetched_sources}
    assert sources == {"github": {"token": TOKEN},
                       "mastodon": {"instances": ["https://mastodon.social"], "tag": "acme"}}
