"""The monitor dashboard and the compare page through the Flask client: range and bucket pickers,
custom ranges and their errors, headline changes from seeded rollups, alert and outage markers,
escaping, and the compare page; plus the pure range and alert-span decisions behind them."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import ALL_SOURCES, Mention, Rollup
from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.monitors.models import Source, SourceFetch
from webapp.insights import dashboard
from webapp.ingest import store as ingest, rollups

from tests.helpers import new_monitor

NOW = datetime(2024, 3, 10, 12, 7, tzinfo=timezone.utc)


# --- pure decisions ------------------------------------------------------------------------

def test_choose_range_fixed_spans_buckets_and_fallbacks():
    week = dashboard.choose_range({}, NOW)
    assert (week.span, week.bucket, week.error) == ("7d", "1h", None)
    assert week.end == datetime(2024, 3, 10, 13, tzinfo=timezone.utc) and week.end - week.start == timedelta(days=7, hours=1)
    assert week.previous == (week.start - (week.end - week.start), week.start)
    day = dashboard.choose_range({"range": "24h", "bucket": "1d"}, NOW)
    assert (day.span, day.bucket) == ("24h", "1d")
    bogus = dashboard.choose_range({"range": "bogus", "bucket": "2m"}, NOW)
    assert (bogus.span, bogus.bucket, bogus.error) == ("7d", "1h", None)
    assert week.query() == {"range": "7d", "bucket": "1h"}


def test_choose_range_custom_dates_are_inclusive_utc_days_with_an_automatic_bucket():
    custom = dashboard.choose_range({"range": "custom", "start": "2024-03-01", "end": "2024-03-03"}, NOW)
    assert custom.error is None and (custom.span, custom.bucket) == ("custom", "1h")
    assert custom.start == datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert custom.end == datetime(2024, 3, 4, tzinfo=timezone.utc)
    assert custom.label == "2024-03-01 to 2024-03-03 (UTC)"
    assert custom.query() == {"range": "custom", "bucket": "1h", "start": "2024-03-01", "end": "2024-03-03"}
    one_day = dashboard.choose_range({"range": "custom", "start": "2024-03-01", "end": "2024-03-01"}, NOW)
    assert one_day.bucket == "15m" and one_day.end - one_day.start == timedelta(days=1)
    long = dashboard.choose_range({"range": "custom", "start": "2023-01-01", "end": "2024-01-01"}, NOW)
    assert long.bucket == "1d"


@pytest.mark.parametrize("start, end, message", [
    ("2024-03-05", "2024-03-01", "end date must be on or after the start date"),
    ("2024-13-45", "2024-03-01", "Dates must look like 2024-05-31"),
    ("2024-03-01", "", "needs both a start and an end date"),
    ("2024-04-01", "2024-04-02", "start date is in the future"),
    ("2020-01-01", "2024-01-01", "at most 731 days"),
])
def test_invalid_custom_ranges_say_why_and_fall_back_to_the_last_week(start, end, message):
    choice = dashboard.choose_range({"range": "custom", "start": start, "end": end}, NOW)
    assert message in choice.error and "Showing the last 7d instead" in choice.error
    assert (choice.span, choice.bucket) == ("7d", "1h")
    assert (choice.custom_start, choice.custom_end) == (start, end)   # given back to the form


def test_a_bucket_too_fine_for_the_range_falls_back_with_a_message():
    choice = dashboard.choose_range({"range": "custom", "start": "2022-01-01", "end": "2023-12-31",
                                     "bucket": "15m"}, NOW)
    assert choice.span == "custom" and choice.bucket == "1d"
    assert "more than 10000" in choice.error and "Showing 1d buckets instead" in choice.error


def test_coarsest_bucket_reads_the_fewest_rows_for_the_same_range():
    utc = timezone.utc
    assert dashboard.coarsest_bucket(datetime(2024, 3, 1, tzinfo=utc), datetime(2024, 3, 8, tzinfo=utc)) == "1d"
    assert dashboard.coarsest_bucket(datetime(2024, 3, 1, 5, tzinfo=utc), datetime(2024, 3, 8, tzinfo=utc)) == "1h"
    assert dashboard.coarsest_bucket(datetime(2024, 3, 1, 5, 15, tzinfo=utc), datetime(2024, 3, 8, tzinfo=utc)) == "15m"


def test_firing_spans_from_state_changes():
    start, end = NOW - timedelta(days=1), NOW
    at = lambda hours: start + timedelta(hours=hours)  # noqa: E731
    events = [
        (1, "spike", at(2), "pending", "firing"), (1, "spike", at(3), "firing", "firing"),   # a reminder
        (1, "spike", at(5), "firing", "resolved"), (1, "spike", at(8), "resolved", "firing"),
        (2, "mood", at(1), "firing", "resolved"),                 # was firing when the range began
        (3, "quiet", at(4), "normal", "pending"),                 # never fired
    ]
    spans = dashboard.firing_spans(events, {4: "long"}, start, end)
    assert spans == [
        (start.isoformat(), at(1).isoformat(), "alert: mood"),
        (start.isoformat(), end.isoformat(), "alert: long"),      # firing throughout, no events
        (at(2).isoformat(), at(5).isoformat(), "alert: spike"),
        (at(8).isoformat(), end.isoformat(), "alert: spike"),     # still firing at the end
    ]
    assert dashboard.firing_spans([], {}, start, end) == []


# --- pages ---------------------------------------------------------------------------------

def figures_of(html: str) -> dict[str, dict]:
    return {name: json.loads(body) for name, body in
            re.findall(r'<script type="application/json" id="figure-(\w+)">(.*?)</script>', html, re.S)}


def chart_points(html: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r'id="chart-(\w+)"[^>]*data-points="(\d+)"', html)}


def seed(app, monitor_id: int, source_id: int, rows: list[tuple[datetime, str]]) -> None:
    """Store mentions (published at, text) the way the pipeline does (scores + rollups)."""
    with app.app_context():
        result = ingest.store_batch(db.session, [
            {"monitor_id": monitor_id, "source_id": source_id, "external_id": f"x{i}-{ts.timestamp()}",
             "text": text, "published_at": ts.isoformat()} for i, (ts, text) in enumerate(rows)])
        db.session.commit()
        assert result.inserted == len(rows)


def headline(html: str, key: str) -> dict[str, str]:
    found = re.search(rf'<div id="headline-{key}" ([^>]*)>(.*?)</div>', html, re.S)
    assert found, key
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1)))
    return {**attrs, "html": found.group(2)}


def test_dashboard_headline_changes_from_seeded_mentions(app, logged_in):
    monitor_id, push_id = new_monitor(app, name="Headline")
    now = datetime.now(timezone.utc)
    day_ago, ten_days_ago = now - timedelta(days=1), now - timedelta(days=10)
    seed(app, monitor_id, push_id, [(day_ago, "I love it, wonderful"), (day_ago, "great stuff"),
                                    (day_ago, "terrible, awful service"),
                                    (ten_days_ago, "good"), (ten_days_ago, "bad and sad")])
    with app.app_context():
        compounds = [c for (c,) in db.session.execute(
            db.select(Mention.compound).order_by(Mention.published_at.desc(), Mention.id))]
    current, previous = compounds[:3], compounds[3:]
    html = logged_in.get(f"/monitors/{monitor_id}?range=7d&bucket=1h").get_data(as_text=True)
    assert 'id="total-count">3<' in html
    count = headline(html, "count")
    assert (count["value"], count["previous"], count["delta"], count["direction"]) == ("3", "2", "1", "up")
    # two mentions before are too few for a percentage: the change is "not comparable"
    assert "▲ +1, not comparable" in count["html"] and "%" not in count["html"].split("visually-hidden")[0]
    assert "up +1 from 2 in the previous period. Too few mentions before to compare." in count["html"]
    assert count["comparable"] == "no" and count["significance"] == "unknown"
    assert "only 2 mentions, too few to compare" in html
    avg = headline(html, "avg_compound")
    expected = round(round(sum(current) / 3, 4), 3) - round(round(sum(previous) / 2, 4), 3)
    assert float(avg["delta"]) == pytest.approx(expected, abs=0.0015) and avg["direction"] == "up"
    assert 'tone-good' in avg["html"] and "small sample" in avg["html"]
    positive = headline(html, "positive_share")
    assert (positive["value"], positive["previous"], positive["delta"]) == ("66.7", "50.0", "16.7")
    negative = headline(html, "negative_share")
    assert negative["direction"] == "down" and "▼ −16.7 pp" in negative["html"]
    assert "95 % CI 20.8–93.9%" in positive["html"]                   # Wilson, 2 of 3
    assert set(figures_of(html)) == {"volume", "sentiment", "sources", "languages"}  # each figure once
    assert 'id="label-counts"' not in html and "gauges" not in html


def test_range_and_bucket_pickers_drive_the_points(app, logged_in):
    monitor_id, push_id = new_monitor(app, name="Pickers")
    seed(app, monitor_id, push_id, [(datetime.now(timezone.utc) - timedelta(hours=2), "fine day")])
    for query, allowed in [("range=24h", {96, 97}), ("range=24h&bucket=1h", {24, 25}),
                           ("", {168, 169}), ("range=30d&bucket=1d", {30, 31}),
                           ("range=90d&bucket=15m", {8640, 8641})]:
        html = logged_in.get(f"/monitors/{monitor_id}?{query}").get_data(as_text=True)
        points, figures = chart_points(html), figures_of(html)
        assert points["volume"] in allowed and points["volume"] == len(figures["volume"]["data"][0]["x"])
        assert points["sentiment"] == points["volume"]
        assert points["sources"] == 1 and sum(sum(t["y"]) for t in figures["volume"]["data"]) == 1
    html = logged_in.get(f"/monitors/{monitor_id}?range=30d&bucket=1d").get_data(as_text=True)
    assert '<option value="30d" selected>' in html and '<option value="1d" selected>' in html
    assert f'data-click-url="/monitors/{monitor_id}/mentions"' in html
    assert html.count("data-click-url=") == 2                      # volume, sentiment
    for name in ("volume", "sentiment", "sources"):
        assert f'<h2 id="h-{name}" class="chart-title">' in html and f'aria-labelledby="h-{name}"' in html
    for field in ("range-select", "range-start", "range-end", "bucket-select"):
        assert f'<label for="{field}">' in html
    assert "<script>" not in html                                  # CSP: no inline scripts


def test_custom_range_shows_those_days_and_its_previous_period(app, logged_in):
    monitor_id, push_id = new_monitor(app, name="Custom")
    seed(app, monitor_id, push_id, [(datetime(2024, 1, 3, 10, tzinfo=timezone.utc), "happy happy"),
                                    (datetime(2024, 1, 7, 23, 59, tzinfo=timezone.utc), "sad"),
                                    (datetime(2024, 1, 8, 0, 0, tzinfo=timezone.utc), "outside"),
                                    (datetime(2023, 12, 30, tzinfo=timezone.utc), "before")])
    html = logged_in.get(f"/monitors/{monitor_id}?range=custom&start=2024-01-01&end=2024-01-07&bucket=1d"
                         ).get_data(as_text=True)
    assert chart_points(html)["volume"] == 7 and 'id="total-count">2<' in html
    volume = figures_of(html)["volume"]["data"]
    assert [sum(t["y"][i] for t in volume) for i in range(7)] == [0, 0, 1, 0, 0, 0, 1]
    volume = volume[0]
    assert volume["customdata"][2] == ["2024-01-03T00:00:00+00:00", "2024-01-04T00:00:00+00:00"]
    assert '<option value="custom" selected>' in html and 'value="2024-01-01"' in html and 'value="2024-01-07"' in html
    assert "2024-01-01 to 2024-01-07 (UTC)" in html
    assert '<time datetime="2023-12-25T00:00:00+00:00">2023-12-25 00:00 UTC</time> to <time datetime="2024-01-01T00:00:00+00:00">' in html
    assert headline(html, "count")["previous"] == "1"
    auto = logged_in.get(f"/monitors/{monitor_id}?range=custom&start=2024-01-01&end=2024-01-07").get_data(as_text=True)
    assert chart_points(auto)["volume"] == 168 and '<option value="1h" selected>' in auto


def test_invalid_custom_range_gives_a_message_and_falls_back(app, logged_in):
    monitor_id, _ = new_monitor(app, name="Bad range")
    response = logged_in.get(f"/monitors/{monitor_id}?range=custom&start=2024-02-10&end=2024-02-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The end date must be on or after the start date. Showing the last 7d instead." in html
    assert '<option value="7d" selected>' in html and 'id="empty-state"' in html
    assert 'value="2024-02-10"' in html                                # the typed dates stay
    html = logged_in.get(f"/monitors/{monitor_id}?range=custom&start=soon&end=later").get_data(as_text=True)
    assert "Dates must look like 2024-05-31." in html


def test_an_empty_monitor_shows_one_card_instead_of_empty_charts(app, logged_in):
    monitor_id, _ = new_monitor(app, name="Nothing yet")
    html = logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert html.count('id="empty-state"') == 1 and figures_of(html) == {} and "plotly" not in html.lower().split("<main>")[1].split("</main>")[0]
    assert "no sources to fetch yet" in html and f"POST /api/v1/monitors/{monitor_id}/mentions" in html
    assert 'id="headline"' not in html and 'id="insight-panels"' in html


def test_feed_lists_the_latest_and_the_strongest_mentions_escaped(app, logged_in):
    monitor_id, push_id = new_monitor(app, name="Feed")
    now = datetime.now(timezone.utc)
    seed(app, monitor_id, push_id, [(now - timedelta(hours=h), text) for h, text in enumerate(
        ["ok then", "<b>terrible</b> horrible awful disaster", "table chair", "fine", "lamp", "door",
         "window", "I absolutely love this wonderful amazing thing"], start=1)])
    html = logged_in.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    latest = re.search(r'id="feed-latest">(.*?)</ol>', html, re.S).group(1)
    strong = re.search(r'id="feed-influential">(.*?)</ol>', html, re.S).group(1)
    assert latest.count("<li") == 6 and latest.index("ok then") < latest.index("table chair")
    assert "absolutely love" not in latest                                # the 8th newest
    first_two = strong.split("</li>")[:2]
    assert any("absolutely love" in item for item in first_two)
    assert any("&lt;b&gt;terrible" in item for item in first_two) and "<b>terrible" not in html
    assert "how strongly they are worded" in html and '<time datetime="' in latest


def test_alert_firings_and_outages_are_marked_with_escaped_names(app, logged_in):
    monitor_id, push_id = new_monitor(app, name="Marked")
    now = datetime.now(timezone.utc)
    with app.app_context():
        rss = Source(monitor_id=monitor_id, kind="rss", settings={"url": "https://feed.example/<script>x</script>"})
        db.session.add(rss)
        db.session.flush()
        rule = Rule(monitor_id=monitor_id, name="Mood <b>drop</b>", kind="avg_sentiment", window="1h",
                    op="<", threshold=-0.3)
        db.session.add(rule)
        db.session.flush()
        db.session.add(AlertState(rule_id=rule.id, state="resolved", since=now - timedelta(hours=3)))
        db.session.add_all([
            AlertEvent(rule_id=rule.id, monitor_id=monitor_id, from_state="pending", to_state="firing",
                       at=now - timedelta(hours=6)),
            AlertEvent(rule_id=rule.id, monitor_id=monitor_id, from_state="firing", to_state="resolved",
                       at=now - timedelta(hours=3))])
        db.session.add(SourceFetch(source_id=rss.id, monitor_id=monitor_id, started_at=now - timedelta(hours=10),
                                   status="error", error="http_500"))
        db.session.commit()
        rss_id = rss.id
    seed(app, monitor_id, rss_id, [(now - timedelta(hours=1), "I love this")])
    html = logged_in.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    figures = figures_of(html)
    for name in ("volume", "sentiment"):                  # strips on the charts, labels in the list
        strips = [s for s in figures[name]["layout"]["shapes"] if s["type"] == "rect"]
        assert {s["fillcolor"] for s in strips} == {"#f0a030", "#b42318"}
        assert all(datetime.fromisoformat(s["x1"]) <= datetime.now(timezone.utc) for s in strips)
        assert datetime.fromisoformat(figures[name]["layout"]["xaxis"]["range"][1]) <= datetime.now(timezone.utc)
    assert "Outage, rss https://feed.example/&lt;script&gt;x&lt;/script&gt; failing:" in html
    assert "<script>x" not in html and "<b>drop" not in html
    assert 'class="marker-alert"' in html and "⚠ alert: Mood &lt;b&gt;drop&lt;/b&gt;:" in html
    assert "coverage gap" in html
    sources = figures["sources"]["data"][0]
    assert sources["y"] == ["rss https://feed.example/&lt;script&gt;x&lt;/script&gt;"]


def test_compare_two_monitors(app, logged_in):
    first, first_push = new_monitor(app, name="Acme")
    second, second_push = new_monitor(app, name="Rival <i>Inc</i>")
    new_monitor(app, name="Unchosen")
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    seed(app, first, first_push, [(hour_ago, "love it"), (hour_ago, "great"), (hour_ago, "awful")])
    seed(app, second, second_push, [(hour_ago, "fine")])
    response = logged_in.get(f"/compare?monitor={first}&monitor={second}&range=7d&bucket=1h")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    figures = figures_of(html)
    assert set(figures) == {"voice", "sentiment"}
    voice = figures["voice"]["data"]
    assert len(voice) == 2 and voice[1]["name"] == "Rival &lt;i&gt;Inc&lt;/i&gt;"
    non_empty = [i for i, y in enumerate(voice[0]["y"]) if y is not None]
    assert len(non_empty) == 1 and (voice[0]["y"][non_empty[0]], voice[1]["y"][non_empty[0]]) == (75.0, 25.0)
    assert len(figures["sentiment"]["data"]) == 2
    assert chart_points(html)["voice"] in {168, 169}
    rows = re.findall(r'<tr data-monitor="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(m) for m, _ in rows] == [first, second]
    assert ">3<" in rows[0][1] and "75.0%" in rows[0][1] and "25.0%" in rows[1][1]
    assert "Rival &lt;i&gt;Inc&lt;/i&gt;" in rows[1][1] and "<i>Inc" not in html
    assert f'href="/monitors/{first}?range=7d&amp;bucket=1h"' in rows[0][1]
    assert html.count(" checked>") == 2 and 'href="/compare"' in html
    assert "<script>" not in html


def test_compare_page_without_a_choice_and_with_unknown_monitors(app, logged_in, client):
    first, _ = new_monitor(app, name="Only")
    empty = logged_in.get("/compare").get_data(as_text=True)
    assert "Choose two or more monitors" in empty and "figure-voice" not in empty and "plotly" not in empty
    assert ">Compare</button>" in empty
    html = logged_in.get(f"/compare?monitor={first}&monitor=999&monitor=x&range=custom&start=2024-01-01&end=2024-01-02"
                         ).get_data(as_text=True)
    assert "No monitor with id 999; left out." in html and "to put beside Only" in html
    assert chart_points(html)["voice"] == 48
    logged_in.post("/logout")
    assert logged_in.get("/compare").status_code == 302


@pytest.mark.both_databases
def test_source_totals_and_alert_spans_in_sql(app):
    monitor_id, push_id = new_monitor(app, name="Totals")
    now = datetime.now(timezone.utc)
    seed(app, monitor_id, push_id, [(now - timedelta(days=2, hours=h), text) for h, text in
                                    enumerate(["love", "hate", "table", "great", "awful"])])
    with app.app_context():
        rss = Source(monitor_id=monitor_id, kind="rss", settings={"url": "https://x.example/f"})
        db.session.add(rss)
        db.session.commit()
        rss_id = rss.id
    seed(app, monitor_id, rss_id, [(now - timedelta(hours=5), "nice")])
    with app.app_context():
        for choice in (dashboard.choose_range({"range": "7d"}, now), dashboard.choose_range({"range": "30d"}, now),
                       dashboard.choose_range({"range": "24h"}, now)):
            fast = dashboard.source_totals(db.session, monitor_id, choice.start, choice.end)
            slow = sources_breakdown_reference(db.session, monitor_id, choice.bucket, choice.start, choice.end)
            assert fast == slow and fast
            listed = dashboard.source_totals(db.session, monitor_id, choice.start, choice.end, [rss_id, push_id])
            assert listed == fast     # the monitor's sources listed: the same sums, read by index seeks
        rule = Rule(monitor_id=monitor_id, name="r", kind="volume_spike", window="1h")
        db.session.add(rule)
        db.session.flush()
        db.session.add(AlertState(rule_id=rule.id, state="firing", since=now - timedelta(days=3)))
        db.session.commit()
        start, end = now - timedelta(days=1), now
        assert dashboard.alert_spans(db.session, monitor_id, start, end) == [
            (start.isoformat(), end.isoformat(), "alert: r")]
        db.session.add(AlertEvent(rule_id=rule.id, monitor_id=monitor_id, from_state="firing", to_state="resolved",
                                  at=now - timedelta(hours=2)))
        db.session.commit()
        assert dashboard.alert_spans(db.session, monitor_id, start, end) == [
            (start.isoformat(), (now - timedelta(hours=2)).isoformat(), "alert: r")]


def sources_breakdown_reference(session, monitor_id: int, bucket: str, start: datetime,
                      end: datetime) -> dict[int, dict]:
    """Totals per source over [start, end) from one bucket size, row by row: the plain reference
    that `dashboard.source_totals` (SQL sums over the coarsest fitting bucket) must equal."""
    rows = session.execute(
        select(Rollup).where(
            Rollup.monitor_id == monitor_id, Rollup.source_id != ALL_SOURCES,
            Rollup.bucket == bucket, Rollup.start >= start, Rollup.start < end,
        )
    ).scalars()
    totals: dict[int, rollups.Delta] = defaultdict(rollups.Delta)
    for r in rows:
        t = totals[r.source_id]
        t.count += r.count
        t.sum_compound += r.sum_compound
        t.positive += r.positive
        t.neutral += r.neutral
        t.negative += r.negative
    return {
        sid: {"count": t.count, "avg_compound": round(t.sum_compound / t.count, 4) if t.count else None,
              "positive": t.positive, "neutral": t.neutral, "negative": t.negative}
        for sid, t in totals.items()
    }
