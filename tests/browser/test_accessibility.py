"""axe-core in Chromium on every main page: no serious or critical violation (labels, headings,
names, contrast, ARIA). Each page is also saved as a screenshot under test-artifacts/screenshots/."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from tests.helpers import new_monitor

from tests.helpers import make_user
from tests.browser.support import (PASSWORD, accessibility_violations, alert_event, charts_drawn, push_mentions,
                      screenshot, sign_in)


def main_pages(app, monitor_id: int, other_id: int, event_id: int) -> list[tuple[str, str]]:
    """(name, path) of the pages people use; pages of features not (yet) in the app are left out."""
    pages = [
        ("monitors.index", "monitors", "/"), ("monitors.new", "new-monitor", "/monitors/new"),
        ("monitors.detail", "dashboard", f"/monitors/{monitor_id}"),
        ("monitors.detail", "dashboard-24h", f"/monitors/{monitor_id}?range=24h"),
        ("monitors.mentions", "mentions", f"/monitors/{monitor_id}/mentions"),
        ("monitors.mentions", "mentions-filtered", f"/monitors/{monitor_id}/mentions?label=negative&q=awful"),
        ("monitor_edit.edit", "edit-monitor", f"/monitors/{monitor_id}/edit"),
        ("mention_tools.lexicon_page", "lexicon", f"/monitors/{monitor_id}/lexicon"),
        ("compare.index", "compare", f"/compare?monitor={monitor_id}&monitor={other_id}&range=7d"),
        ("classify.classify", "classify", "/classify"), ("alerts.index", "alerts", "/alerts"),
        ("alerts.rules_page", "alert-rules", f"/monitors/{monitor_id}/rules"),
        ("alerts.history", "alert-history", f"/monitors/{monitor_id}/alerts"),
        ("alerts.event", "alert-event", f"/alerts/events/{event_id}"),
        ("scorers.index", "scorers", "/scorers"), ("scorers.explain", "scorers-explain", "/scorers/explain"),
        ("scorers.train", "scorers-train", "/scorers/train"),
        ("scorers.evaluate", "scorers-evaluate", "/scorers/evaluate"),
        ("scorers.monitor_scorer", "monitor-scorer", f"/monitors/{monitor_id}/scorer"),
        ("backfill.index", "backfill", f"/monitors/{monitor_id}/backfill"),
        ("account.my_tokens", "my-tokens", "/account/tokens"),
        ("admin.index", "admin", "/admin"), ("people.users", "admin-users", "/admin/users"),
        ("people.all_tokens", "admin-tokens", "/admin/tokens"),
        ("admin.sources", "admin-sources", "/admin/sources"),
        ("admin.pipeline", "admin-pipeline", "/admin/pipeline"),
        ("admin.deliveries", "admin-deliveries", "/admin/deliveries"),
    ]
    missing = [endpoint for endpoint, _, _ in pages if endpoint not in app.view_functions]
    assert not missing, f"pages missing: {missing}"
    return [(name, path) for _, name, path in pages]


def test_every_main_page_passes_axe(app, live_server, guard, page, token, drain):
    make_user(app, email="admin@example.com", role="admin", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Acme")
    other_id, _ = new_monitor(app, name="Globex")
    published = datetime.now(timezone.utc) - timedelta(hours=3)
    push_mentions(live_server, token, monitor_id, [
        {"external_id": f"a{i}", "text": text, "author": "someone", "url": "https://example.com/a",
         "published_at": (published + timedelta(minutes=i)).isoformat()}
        for i, text in enumerate(["I love it", "awful and broken", "a table", "great support"])], drain)
    event_id = alert_event(app, live_server, token, monitor_id, published)

    found: dict[str, list] = {}
    page.goto("/login")
    found["login"] = accessibility_violations(page)
    guard.expect_console_error(r"status of 400 .*/login")
    page.get_by_role("button", name="Sign in").click()                  # the error state too
    page.wait_for_selector(".error")
    found["login-errors"] = accessibility_violations(page)
    sign_in(page, "admin@example.com")
    for name, path in main_pages(app, monitor_id, other_id, event_id):
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        if name.startswith(("dashboard", "compare")):
            charts_drawn(page, min_count=3)
        found[name] = accessibility_violations(page)
        screenshot(page, name)
    page.goto("/classify")
    page.get_by_label("Text").fill("The support was great, the delivery awful.")
    page.get_by_role("button", name="Score").click()
    page.wait_for_selector("#score")
    found["classify-result"] = accessibility_violations(page)
    screenshot(page, "classify-result")

    bad = {name: v for name, v in found.items() if v}
    assert not bad, "serious/critical accessibility violations:\n" + json.dumps(bad, indent=1)
