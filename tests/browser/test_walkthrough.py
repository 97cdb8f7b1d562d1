"""In Chromium, the README's "your first monitor" walkthrough on the demo after a simulated day:
`flask seed-demo`, the demo's backfill and a day of live replay (the clock injected), then the
pages a newcomer sees. The demo stays believable: the dashboard's change against the day before
is comparable and modest, no alert fires. With SENTIMON_DOCS_IMG=1 the screenshots are also
written to docs/img/ (the README's pictures)."""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.cli import DEMO_EMAIL, DEMO_PASSWORD
from webapp.monitors.models import Source
from webapp.monitors.services import fetching
from tests.browser.support import charts_drawn, screenshot, sign_in

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    if os.environ.get("SENTIMON_DOCS_IMG") == "1":      # the README's pictures: one screen each
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / path.name), full_page=False)


def simulated_demo_day(app, drain) -> int:
    """The demo monitor after its backfill two days ago and live replay every 30 minutes since."""
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    now = datetime.now(timezone.utc)
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "demo")).scalar_one()
        source_id, monitor_id = source.id, source.monitor_id
        at = now - timedelta(days=2)
        while at <= now:
            report = fetching.run_fetch(db.session, runtime.bus(), source_id, fetching.slot_for(at, 60),
                                        runtime.egress_policy(), at)
            assert report.status == "ok"
            at += timedelta(minutes=30)
        db.session.remove()
    drain()
    return monitor_id


def test_first_monitor_walkthrough_on_the_demo_after_a_simulated_day(app, live_server, guard, drain):
    demo_id = simulated_demo_day(app, drain)
    page = guard.page
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)

    page.goto("/")
    row = page.locator(f'tr[data-monitor="{demo_id}"]')
    assert row.locator("svg.spark path").get_attribute("d").startswith("M ")
    assert "none firing" in row.inner_text()
    shot(page, "1-monitor-list")

    page.goto(f"/monitors/{demo_id}?range=24h&bucket=1h")
    charts_drawn(page, min_count=3)
    count = page.locator("#headline-count")
    assert count.get_attribute("data-comparable") == "yes"
    change = count.locator(".change").inner_text()
    percent = re.search(r"([+−-])(\d+\.\d)%", change)
    assert percent is None or float(percent.group(2)) < 60, change      # never +105300 %
    assert page.locator("#markers .marker-alert").count() == 0           # no rule fired
    assert page.locator("#feed-influential li").count() == 6
    shot(page, "2-dashboard")

    page.get_by_role("link", name="Alert rules").first.click()
    page.wait_for_url(re.compile(rf"/monitors/{demo_id}/rules"))
    assert page.get_by_text("Negative share at least 50 % over a day").count() >= 1
    shot(page, "3-alert-rules")

    page.goto("/monitors/new")
    page.get_by_label("Name", exact=True).fill("Rocket rivals")
    page.get_by_label("Query", exact=True).fill('"rival brew" OR rivalbrew')
    shot(page, "4-new-monitor")
    page.get_by_role("button", name="Create monitor").click()
    page.wait_for_url(re.compile(r"/monitors/\d+$"))
    assert page.locator("#empty-state").count() == 1 and page.locator(".chart").count() == 0
    shot(page, "5-empty-monitor")

    page.goto(f"/monitors/{demo_id}/mentions")
    assert page.locator("li.mention").count() > 10
    shot(page, "6-mentions")

    page.goto("/api/docs")
    page.locator(".opblock").first.wait_for()
    shot(page, "7-api-docs")
