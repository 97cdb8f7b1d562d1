"""The progress boxes poll their JSON (static/js/poll.js) and show it: a backfill's page."""
from __future__ import annotations

from playwright.sync_api import expect

from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.monitors.backfill import service as backfills

from tests.backfill_pager import install, uninstall
from tests.helpers import make_user
from tests.helpers import new_monitor
from tests.monitors.test_backfill import SINCE, UNTIL
from tests.browser.support import PASSWORD, screenshot, sign_in


def test_the_backfill_page_polls_its_progress_until_it_is_finished(app, live_server, page):
    install()
    try:
        make_user(app, email="bf@example.com", role="editor", password=PASSWORD)
        monitor_id = new_monitor(app, name="History", query="acme", sources=[{"kind": "pager"}])[0]
        with app.app_context():
            backfill_id = backfills.start_backfill(db.session, db.session.get(Monitor, monitor_id), SINCE, UNTIL).id
            assert backfills.cancel(db.session, backfill_id)   # finished: the page stops polling
        sign_in(page, "bf@example.com")
        page.goto(f"/monitors/{monitor_id}/backfills/{backfill_id}")
        # The page renders the state without a class; the script's first answer sets one.
        # A locator wait, not wait_for_function: its polling evaluates a string, which the page's
        # CSP (no 'unsafe-eval') refuses whenever the first check is not already true.
        expect(page.locator("#backfill-status")).to_have_class("status cancelled", timeout=30_000)
        assert page.locator("#backfill-status").inner_text().startswith("cancelled: 0 of ")
        screenshot(page, "backfill-progress")
    finally:
        uninstall()
