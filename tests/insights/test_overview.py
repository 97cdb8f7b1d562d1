"""The monitor list (`/`): a 7-day volume sparkline from rollups, average sentiment and its
change, firing alerts and source health per monitor."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from webapp.alerting.models import AlertState, Rule
from webapp.core.extensions import db
from webapp.insights import overview
from webapp.monitors.models import Source
from webapp.monitors.models import Monitor

from tests.helpers import new_monitor
from tests.insights.test_dashboard_pages import seed

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


def test_spark_values_and_path():
    rows = [(T0, 2), (T0 + timedelta(hours=5), 1), (T0 + timedelta(hours=6), 4), (T0 - timedelta(hours=1), 9),
            (T0 + timedelta(days=7), 9)]
    values = overview.spark_values(rows, T0)
    assert len(values) == 28 and values[:3] == [3, 4, 0] and sum(values) == 7      # outside rows left out
    path = overview.spark_path([0, 4, 2], width=12, height=10)
    assert path == "M 1.0,9.0 L 6.0,1.0 L 11.0,5.0"
    assert overview.spark_path([0, 0]) == "M 1.0,27.0 L 119.0,27.0" and overview.spark_path([]) == ""


def test_health_counts_skip_disabled_sources():
    sources = [Source(kind="rss", last_status="ok", enabled=True), Source(kind="rss", last_status="error", enabled=True),
               Source(kind="rss", last_status="rate_limited", enabled=True), Source(kind="rss", enabled=True),
               Source(kind="rss", last_status="error", enabled=False)]
    assert overview.health_counts(sources) == {"ok": 1, "failing": 2, "waiting": 1}


def test_monitor_list_shows_sparkline_sentiment_change_alerts_and_health(app, logged_in):
    busy, push_id = new_monitor(app, name="Busy <i>one</i>")
    quiet, _ = new_monitor(app, name="Quiet")
    now = datetime.now(timezone.utc)
    happy = [(now - timedelta(hours=3 + 7 * i), "I love this, wonderful") for i in range(20)]
    sad = [(now - timedelta(days=7, hours=3 + 7 * i), "awful, terrible and sad") for i in range(20)]
    seed(app, busy, push_id, happy + sad)
    with app.app_context():
        db.session.add(Source(monitor_id=busy, kind="rss", settings={"url": "https://x.example/f"},
                              last_status="error", last_error="http_500"))
        rule = Rule(monitor_id=busy, name="spike", kind="volume_spike", window="1h", op=">", threshold=3)
        db.session.add(rule)
        db.session.flush()
        db.session.add(AlertState(rule_id=rule.id, state="firing", since=now))
        db.session.commit()
        figures = overview.overview(db.session, db.session.query(Monitor).order_by(Monitor.id).all(), now)
    assert figures[busy]["week"] == 20 and figures[busy]["avg"] > 0.5
    assert figures[busy]["avg_change"] > 1 and figures[busy]["avg_significance"] == "significant"
    assert figures[busy]["firing"] == 1 and figures[busy]["health"] == {"ok": 0, "failing": 1, "waiting": 0}
    assert figures[quiet]["week"] == 0 and figures[quiet]["avg"] is None and figures[quiet]["firing"] == 0
    html = logged_in.get("/").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-monitor="(\d+)">(.*?)</tr>', html, re.S))
    assert '<svg class="spark"' in rows[str(busy)] and "20 mentions in the last 7 days" in rows[str(busy)]
    assert "1 firing" in rows[str(busy)] and "1 failing" in rows[str(busy)] and "▲ +" in rows[str(busy)]
    assert "Busy &lt;i&gt;one&lt;/i&gt;" in rows[str(busy)] and "<i>one" not in html
    assert "none firing" in rows[str(quiet)] and "0 mentions in the last 7 days" in rows[str(quiet)]


@pytest.mark.both_databases
def test_overview_reads_rollups_on_both_databases(app):
    monitor_id, push_id = new_monitor(app, name="Both")
    now = datetime.now(timezone.utc)
    seed(app, monitor_id, push_id, [(now - timedelta(hours=h), "good") for h in (1, 30, 100)])
    with app.app_context():
        figures = overview.overview(db.session, [db.session.get(Monitor, monitor_id)], now)[monitor_id]
    assert figures["week"] == 3 and figures["spark"].startswith("M ") and figures["avg_change"] is None
