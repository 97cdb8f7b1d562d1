"""In Chromium, teams: create a team, add a member, switch the current team; the monitor list
and the new-monitor form follow the current team, and another team's monitor is a 404."""
from __future__ import annotations

from sqlalchemy import select

from tests.browser.support import PASSWORD, screenshot, sign_in
from tests.helpers import make_user, new_monitor
from webapp.core.extensions import db
from webapp.monitors.models import Monitor


def test_create_team_add_member_switch_and_scope(app, live_server, page, browser):
    make_user(app, email="lead@example.com", role="editor", password=PASSWORD)   # in Default
    make_user(app, email="mate@example.com", role="editor", password=PASSWORD, team=None)
    default_monitor, _ = new_monitor(app, name="Default brand")
    sign_in(page, "lead@example.com")

    page.goto("/teams")
    page.get_by_label("Name").fill("Agency")
    with page.expect_navigation():
        page.get_by_role("button", name="Create team").click()
    assert "Agency" in page.locator("h1").inner_text()
    page.get_by_label("Email of an existing user").fill("mate@example.com")
    page.locator("#role").select_option("viewer")
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    assert "mate@example.com is viewer of this team." in page.locator("body").inner_text()

    # The new team is current: a monitor made on the form goes there; the list shows only it.
    page.goto("/monitors/new")
    page.get_by_label("Name").fill("Agency brand")
    with page.expect_navigation():
        page.get_by_role("button", name="Create monitor").click()
    page.goto("/")
    listing = page.locator("main").inner_text()
    assert "Agency brand" in listing and "Default brand" not in listing
    page.goto("/teams")
    with page.expect_navigation():
        page.get_by_role("button", name="Switch to Default").click()
    listing = page.locator("main").inner_text()
    assert "Default brand" in listing and "Agency brand" not in listing
    screenshot(page, "teams-switched")

    # The member of Agency only sees Agency's monitor, and Default's is a 404 for them.
    with app.app_context():
        agency_monitor = db.session.execute(select(Monitor.id).where(Monitor.name == "Agency brand")).scalar_one()
    other = browser.new_context(base_url=live_server)
    mate = other.new_page()
    sign_in(mate, "mate@example.com")
    mate.goto("/")
    assert "Agency brand" in mate.locator("main").inner_text()
    assert "Default brand" not in mate.locator("main").inner_text()
    assert mate.goto(f"/monitors/{agency_monitor}").status == 200
    assert mate.goto(f"/monitors/{default_monitor}").status == 404
    other.close()
