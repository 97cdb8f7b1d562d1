"""In Chromium, the features of #9 beyond the dashboard: a label override moves the rollup, exports
download, the compare page draws several monitors, admin pages are for admins only.

Each test names the endpoints it needs and fails at once, naming them, where one is missing."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone


from tests.helpers import new_monitor

from tests.helpers import make_user
from tests.browser.support import (PASSWORD, chart_id, charts_drawn, figure_traces, open_guarded, push_mentions,
                      screenshot, sign_in)

ADMIN_PAGES = [("admin.index", "/admin"), ("people.users", "/admin/users"),
               ("people.all_tokens", "/admin/tokens"), ("admin.sources", "/admin/sources"),
               ("admin.pipeline", "/admin/pipeline"), ("admin.deliveries", "/admin/deliveries")]


def needs(app, *endpoints: str) -> None:
    missing = [e for e in endpoints if e not in app.view_functions]
    assert not missing, f"the feature behind {', '.join(missing)} is missing"


def feelings(n_pos: int, n_neg: int, hours_ago: float = 2) -> list[dict]:
    at = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    texts = ["I love this, wonderful and great"] * n_pos + ["awful, terrible and broken"] * n_neg
    return [{"external_id": f"f{i}", "text": f"{text} #{i}", "author": f"a{i}",
             "url": f"https://example.com/{i}", "published_at": (at + timedelta(minutes=i)).isoformat()}
            for i, text in enumerate(texts)]


def label_split(page, monitor_id: int) -> dict[str, int]:
    """positive/neutral/negative over the last 24 h, read from the dashboard's volume bars
    (stacked by label)."""
    page.goto(f"/monitors/{monitor_id}?range=24h")
    ids = charts_drawn(page, min_count=2)
    return {t["name"]: sum(t["y"]) for t in figure_traces(page, chart_id(ids, "volume"))}


def test_a_label_override_moves_the_rollup(app, live_server, page, token, drain):
    needs(app, "mention_tools.set_label")
    make_user(app, email="ed@example.com", role="editor", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Overrides")
    push_mentions(live_server, token, monitor_id, feelings(2, 1), drain)
    sign_in(page, "ed@example.com")
    assert label_split(page, monitor_id) == {"positive": 2, "neutral": 0, "negative": 1}

    page.goto(f"/monitors/{monitor_id}/mentions?label=positive")
    first = page.locator("li.mention").first
    first.get_by_label("Label").select_option("negative")
    with page.expect_navigation():
        first.get_by_role("button", name="Set label").click()
    assert page.locator("li.mention").count() == 1          # back on the list it left
    assert label_split(page, monitor_id) == {"positive": 1, "neutral": 0, "negative": 2}

    page.goto(f"/monitors/{monitor_id}/mentions?label=negative")
    assert page.locator(".tag.overridden").count() == 1
    screenshot(page, "mentions-override")
    page.locator("li.mention").filter(has=page.locator(".tag.overridden")).get_by_role(
        "button", name=re.compile("Restore scored label")).click()
    page.wait_for_selector(".tag.overridden", state="detached")
    assert label_split(page, monitor_id) == {"positive": 2, "neutral": 0, "negative": 1}


def test_exports_download(app, live_server, page, token, drain, tmp_path):
    needs(app, "mention_tools.export_mentions", "mention_tools.export_series")
    make_user(app, email="viewer@example.com", role="viewer", password=PASSWORD)
    monitor_id, _ = new_monitor(app, name="Exports")
    items = feelings(3, 2)
    items[0]["text"] = '=HYPERLINK("http://evil.example","click"), with "quotes"\nand a newline'
    push_mentions(live_server, token, monitor_id, items, drain)
    sign_in(page, "viewer@example.com")
    page.goto(f"/monitors/{monitor_id}/mentions")

    with page.expect_download() as info:
        page.locator("#export-mentions-csv").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 5
    assert {r["external_id"] for r in rows} == {i["external_id"] for i in items}
    formula = next(r for r in rows if r["external_id"] == "f0")
    assert not formula["text"].startswith("="), "CSV formula injection: a cell starts with ="

    with page.expect_download() as info:
        page.locator("#export-mentions-json").click()
    info.value.save_as(tmp_path / "mentions.json")
    exported = json.loads((tmp_path / "mentions.json").read_text())
    exported = exported.get("items", exported) if isinstance(exported, dict) else exported
    assert len(exported) == 5

    # The series of the chosen range: the dashboard's link where it has one, else the URL.
    page.goto(f"/monitors/{monitor_id}?range=24h&bucket=1h")
    link = page.locator("a[href*='/series.csv']")
    if link.count():
        with page.expect_download() as info:
            link.first.click()
        info.value.save_as(tmp_path / "series.csv")
        text = (tmp_path / "series.csv").read_text(encoding="utf-8-sig")
    else:
        response = page.request.get(f"/monitors/{monitor_id}/series.csv?range=24h&bucket=1h")
        assert response.ok, response.status
        text = response.text()
    series = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["count"]) for r in series) == 5


def test_compare_draws_two_monitors(app, live_server, page, token, drain):
    needs(app, "compare.index")
    make_user(app, email="viewer@example.com", role="viewer", password=PASSWORD)
    first, _ = new_monitor(app, name="Alpha")
    second, _ = new_monitor(app, name="Beta")
    push_mentions(live_server, token, first, feelings(3, 1), drain)
    push_mentions(live_server, token, second, feelings(1, 1, hours_ago=5), drain)
    sign_in(page, "viewer@example.com")
    page.goto("/compare")
    page.get_by_label("Alpha").check()
    page.get_by_label("Beta").check()
    page.locator("#compare-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"monitor=.*monitor="))
    ids = charts_drawn(page, min_count=1)
    for element_id in ids:
        traces = figure_traces(page, element_id)
        names = {t["name"] for t in traces}
        assert {"Alpha", "Beta"} <= names or len(traces) >= 2, (element_id, names)
    counts = dict(zip(page.locator("#compare-totals tbody th").all_inner_texts(),
                      page.locator("#compare-totals tbody td:nth-of-type(1)").all_inner_texts()))
    assert counts == {"Alpha": "4", "Beta": "2"}
    screenshot(page, "compare")


def test_admin_pages_load_for_an_admin_and_are_refused_to_a_viewer(app, live_server, browser, page):
    needs(app, *(endpoint for endpoint, _ in ADMIN_PAGES))
    make_user(app, email="admin@example.com", role="admin", password=PASSWORD)
    make_user(app, email="viewer@example.com", role="viewer", password=PASSWORD)
    sign_in(page, "admin@example.com")
    for endpoint, path in ADMIN_PAGES:              # axe runs on them in test_accessibility.py
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        screenshot(page, "admin-" + endpoint.split(".")[1])

    viewer = open_guarded(browser, live_server)
    try:
        sign_in(viewer.page, "viewer@example.com")
        assert viewer.page.locator("header nav").get_by_role("link", name="Admin").count() == 0
        viewer.expect_console_error(r"status of 403")
        for _, path in ADMIN_PAGES:
            assert viewer.page.goto(path).status == 403, path
        viewer.check()
    finally:
        viewer.context.close()
