"""In Chromium: the retention field of the monitor edit page, and the reports page (add a report,
Send now to a real SMTP server on loopback, remove it)."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.monitors.models import Monitor

from tests.alert_fixtures import smtp_server  # noqa: F401  (fixture)
from tests.browser.support import PASSWORD, api, screenshot, sign_in
from tests.helpers import make_user, new_monitor, wait_for


def test_retention_field_and_report_form(app, live_server, guard, page, token, smtp_server):  # noqa: F811
    guard.expect_console_error(rf"status of 400 .*/monitors/\d+/edit")   # the refused retention
    app.config.update(SMTP_URL=smtp_server.url, SMTP_FROM="reports@sentimon.example")
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Reported")
    status, notifier = api(live_server, token, "POST", "/notifiers",
                           {"kind": "email", "to": ["team@example.com"], "name": "Team mail"})
    assert status == 201, notifier
    sign_in(page, "ed@example.com")

    # Retention: a value under 7 days is refused next to the field; 30 is saved.
    page.goto(f"/monitors/{monitor_id}/edit")
    field = page.get_by_label("Keep raw mentions for (days)")
    field.fill("3")
    page.get_by_role("button", name="Save").click()
    assert page.locator(".field.has-error").filter(has=page.locator("#retention_days")).count() == 1
    page.get_by_label("Keep raw mentions for (days)").fill("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    with app.app_context():
        assert db.session.get(Monitor, monitor_id).retention_days == 30
    page.goto(f"/monitors/{monitor_id}/edit")
    assert page.get_by_label("Keep raw mentions for (days)").input_value() == "30"

    # Reports: add a weekly one, send it now, remove it.
    page.goto(f"/monitors/{monitor_id}/edit")
    page.locator("#edit-reports-link").click()
    page.wait_for_url(f"**/monitors/{monitor_id}/reports")
    assert page.get_by_text("No reports yet.").is_visible()
    page.get_by_label("Every").select_option("weekly")
    page.get_by_label("Weekday (weekly reports)").select_option(label="Friday")
    page.get_by_label("Hour").select_option(label="09:00")
    page.get_by_label("Format").select_option("pdf")
    page.get_by_label("Team mail (email)").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add report").click()
    row = page.locator("#reports tbody tr")
    assert row.count() == 1 and "weekly, Friday at 09:00" in row.inner_text()
    assert "HTML + PDF" in row.inner_text() and "Team mail" in row.inner_text()
    screenshot(page, "reports")
    # in the web process: its first report imports matplotlib and WeasyPrint (matplotlib builds its
    # font list on a fresh machine), which on a loaded 2-core machine passed the 15 s default
    with page.expect_navigation(timeout=90_000):
        row.get_by_role("button", name="Send now").click(no_wait_after=True)
    assert page.get_by_text("Report sent.").is_visible()
    wait_for(lambda: smtp_server.messages, 10, message="the report email")
    message = smtp_server.messages[0][2]
    assert "Reported" in message["Subject"]
    assert any(p.get_content_type() == "application/pdf" for p in message.iter_attachments())
    with page.expect_navigation():
        page.locator("#reports tbody tr").get_by_role("button", name="Remove").click()
    assert page.get_by_text("Report removed.").is_visible() and page.get_by_text("No reports yet.").is_visible()
