"""Backfill is offered only where a source can fetch history; elsewhere the page says why."""
from __future__ import annotations

from tests.helpers import new_monitor


def test_no_button_but_an_explanation_without_a_history_source(app, logged_in):
    monitor_id, _ = new_monitor(app, sources=[{"kind": "rss", "url": "https://f.example.com/x.xml"}])
    page = logged_in.get(f"/monitors/{monitor_id}/backfill").get_data(as_text=True)
    assert 'id="backfill-form"' not in page and 'id="backfill-unavailable"' in page
    assert "None of this monitor's enabled sources can fetch history" in page and "Hacker News" in page
    assert "url: https://f.example.com/x.xml" in page   # the source by kind and setting
    assert 'id="backfill-link"' not in logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    refused = logged_in.post(f"/monitors/{monitor_id}/backfill", data={"since": "2026-01-01", "until": "2026-01-02"})
    assert refused.status_code == 400 and "Traceback" not in refused.get_data(as_text=True)

    bare, _ = new_monitor(app, name="Bare")
    assert "This monitor has no fetched source." in logged_in.get(f"/monitors/{bare}/backfill").get_data(as_text=True)


def test_the_button_where_a_source_can(app, logged_in):
    monitor_id, _ = new_monitor(app, sources=[{"kind": "hackernews"}])
    page = logged_in.get(f"/monitors/{monitor_id}/backfill").get_data(as_text=True)
    assert 'id="backfill-form"' in page and 'id="backfill-unavailable"' not in page
    assert 'id="backfill-link"' in logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
