"""The pure Plotly figure builders of the dashboard and the compare page: points, traces, markers,
the sentiment band, headline changes, and escaping of outside text in labels."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from webapp.insights import charts, charts_compare

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def bucket(i: int, count: int = 0, avg: float | None = None, pos: int = 0, neu: int = 0, neg: int = 0,
           step: timedelta = timedelta(hours=1)) -> dict:
    return {"start": (T0 + i * step).isoformat(), "count": count, "avg_compound": avg,
            "positive": pos, "neutral": neu, "negative": neg}


BUCKETS = [bucket(0, 4, 0.5, 3, 1, 0), bucket(1), bucket(2, 2, -0.5, 0, 0, 2), bucket(3, 1, 0.0, 0, 1, 0)]


def no_raw_markup(figure: dict) -> None:
    text = json.dumps(figure)
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;" in text


def test_volume_has_one_bar_per_bucket_and_bucket_spans_for_clicks():
    fig = charts.volume(BUCKETS, bucket="1h")
    assert len(fig["data"]) == 1 and fig["data"][0]["type"] == "bar"
    assert fig["data"][0]["y"] == [4, 0, 2, 1] and len(fig["data"][0]["x"]) == 4
    assert fig["data"][0]["customdata"][2] == [(T0 + timedelta(hours=2)).isoformat(),
                                              (T0 + timedelta(hours=3)).isoformat()]
    # without a bucket name the step is read from the starts
    assert charts.volume(BUCKETS)["data"][0]["customdata"] == fig["data"][0]["customdata"]
    assert "customdata" not in charts.volume(BUCKETS[:1])["data"][0]


def test_outages_and_alert_firings_are_marked_on_both_time_charts_with_escaped_labels():
    gaps = [(BUCKETS[1]["start"], BUCKETS[2]["start"], f"rss {EVIL} failing")]
    alerts = [(BUCKETS[2]["start"], BUCKETS[3]["start"], f"alert: {EVIL}"),
              (BUCKETS[3]["start"], BUCKETS[3]["start"], "alert: second")]
    for fig in (charts.volume(BUCKETS, gaps, alerts, "1h"), charts.average_sentiment(BUCKETS, gaps, alerts, "1h")):
        rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
        assert len(rects) == 3
        assert [r["fillcolor"] for r in rects] == [charts.COLORS["gap"]] + [charts.COLORS["alert"]] * 2
        texts = [a["text"] for a in fig["layout"]["annotations"]]
        assert texts[1].startswith("⚠ alert: &lt;script&gt;") and "failing" in texts[0]
        no_raw_markup(fig)


def test_rolling_band_is_the_weighted_spread_of_neighbouring_averages():
    # averages are weighted by the scored mentions (positive + neutral + negative)
    low, high = charts.rolling_band([bucket(0, 1, 0.5, 1), bucket(1, 1, -0.5, 0, 0, 1)], window=3)
    # mean 0, standard deviation 0.5 around each bucket's own average
    assert low == [0.0, -1.0] and high == [1.0, 0.0]
    weighted = [bucket(0, 3, 0.4, 3), bucket(1, 1, 0.0, 0, 1)]
    low, high = charts.rolling_band(weighted, window=3)
    sd = (3 * 0.1 ** 2 + 1 * 0.3 ** 2) ** 0.5 / 2       # mean 0.3 with weights 3 and 1
    assert low[0] == pytest.approx(0.4 - sd, abs=1e-4) and high[1] == pytest.approx(sd, abs=1e-4)
    low, high = charts.rolling_band(BUCKETS, window=1)     # one bucket alone: no band
    assert low == high == [None] * 4
    low, _ = charts.rolling_band(BUCKETS)
    assert low[1] is None and low[0] is not None            # empty bucket: no band


def test_average_sentiment_has_band_traces_and_the_line_with_spans():
    fig = charts.average_sentiment(BUCKETS, bucket="1h")
    assert [t.get("name") for t in fig["data"]] == ["band high", f"±1 s.d. over {charts.BAND_WINDOW} buckets",
                                                   "average compound"]
    line = fig["data"][2]
    assert line["y"] == [0.5, None, -0.5, 0.0] and len(line["customdata"]) == 4
    assert fig["data"][1]["fill"] == "tonexty"
    assert "s.d." in charts.TITLES["sentiment"] and "standard deviation" in charts.NOTES["sentiment"]


def test_label_shares_stack_to_100_percent_where_there_are_mentions():
    fig = charts.label_shares(BUCKETS, "1h")
    assert [t["name"] for t in fig["data"]] == ["negative", "neutral", "positive"]
    for i, b in enumerate(BUCKETS):
        values = [t["y"][i] for t in fig["data"]]
        assert values == [None] * 3 if not b["count"] else sum(values) == pytest.approx(100, abs=0.2)


def test_gauges_show_current_shares_with_change_against_the_previous_period():
    now = charts.totals(BUCKETS)
    before = charts.totals([bucket(0, 4, 0.1, 1, 2, 1)])
    fig = charts.gauges(now, before)
    assert [t["type"] for t in fig["data"]] == ["indicator"] * 3
    assert [t["value"] for t in fig["data"]] == [now["positive_share"], now["neutral_share"], now["negative_share"]]
    assert [t["delta"]["reference"] for t in fig["data"]] == [25.0, 50.0, 25.0]
    assert fig["data"][2]["delta"]["increasing"]["color"] == charts.COLORS["negative"]   # more negative is bad
    alone = charts.gauges(now)
    assert all("delta" not in t["mode"] for t in alone["data"])


def test_sources_chart_escapes_names_orders_by_volume_and_keeps_duplicates_apart():
    by_source = {1: {"count": 2, "avg_compound": -0.2}, 2: {"count": 9, "avg_compound": 0.3},
                 3: {"count": 4, "avg_compound": 0.0}, 4: {"count": 0, "avg_compound": None}}
    names = {1: f"rss https://x.example/{EVIL}", 2: "push", 3: "push"}
    fig = charts.sources_sentiment(by_source, names)
    bar = fig["data"][0]
    assert len(bar["y"]) == 3 and bar["x"] == [-0.2, 0.0, 0.3]          # busiest last = on top
    assert bar["y"][1:] == ["push (#3)", "push (#2)"]
    assert bar["y"][0].startswith("rss https://x.example/&lt;script&gt;")
    assert "%{customdata[0]}" in bar["hovertemplate"] and EVIL not in bar["hovertemplate"]
    no_raw_markup(fig)
    assert len(charts.esc("x" * 500)) == charts.MAX_TEXT


def test_dashboard_builds_every_figure():
    figures = charts.dashboard(BUCKETS, bucket="1h", previous=BUCKETS, by_source={}, source_names={})
    assert list(figures) == ["volume", "sentiment", "shares", "gauges", "sources", "distribution"]
    assert set(figures) <= set(charts.TITLES)
    assert list(charts.dashboard(BUCKETS)) == ["volume", "sentiment", "shares", "gauges", "distribution"]


def test_headline_changes_against_the_previous_period():
    previous = [bucket(0, 2, -0.3, 1, 0, 1)]
    head = charts.headline(BUCKETS, previous)
    assert head["count"] == 7 and head["positive"] == 3 and head["avg_compound"] == round((2.0 - 1.0) / 7, 3)
    changes = {c["key"]: c for c in head["changes"]}
    assert changes["count"]["delta"] == 5 and changes["count"]["delta_text"] == "+5"
    assert changes["count"]["percent_text"] == "(+250.0%)" and changes["count"]["direction"] == "up"
    assert changes["avg_compound"]["delta"] == pytest.approx(0.443) and changes["avg_compound"]["tone"] == "good"
    assert changes["positive_share"]["delta"] == pytest.approx(42.9 - 50.0)
    assert changes["positive_share"]["delta_text"] == "−7.1 pp" and changes["positive_share"]["tone"] == "bad"
    assert changes["negative_share"]["direction"] == "down" and changes["negative_share"]["tone"] == "good"
    assert "down −21.4 pp from 50.0%" in changes["negative_share"]["description"]
    flat = {c["key"]: c for c in charts.headline(BUCKETS, BUCKETS)["changes"]}
    assert flat["count"]["direction"] == "flat" and "unchanged" in flat["count"]["description"]
    empty = {c["key"]: c for c in charts.headline(BUCKETS, [bucket(0)])["changes"]}
    assert empty["count"]["delta"] == 7 and empty["count"]["percent_text"] == ""
    assert empty["avg_compound"]["direction"] == "none" and empty["avg_compound"]["delta_text"] == ""
    assert all(c["direction"] == "none" for c in charts.headline(BUCKETS)["changes"])


SERIES = [(1, "Acme", [bucket(0, 3, 0.2, 0, 3), bucket(1), bucket(2, 1, -0.4, 0, 0, 1)]),
          (2, EVIL, [bucket(0, 1, 0.6, 1), bucket(1), bucket(2, 3, 0.0, 0, 3)]),
          (3, "Acme", [bucket(0), bucket(1), bucket(2)])]


def test_share_of_voice_is_a_stacked_percentage_per_bucket_with_escaped_names():
    fig = charts_compare.share_of_voice(SERIES)
    assert len(fig["data"]) == 3 and all(t["stackgroup"] == "voice" for t in fig["data"])
    assert [t["y"] for t in fig["data"]] == [[75.0, None, 25.0], [25.0, None, 75.0], [0.0, None, 0.0]]
    assert [t["name"] for t in fig["data"]][::2] == ["Acme (#1)", "Acme (#3)"]
    assert fig["data"][1]["name"].startswith("&lt;script&gt;") and fig["data"][1]["customdata"][0][1] == 1
    no_raw_markup(fig)


def test_sentiment_lines_and_totals_of_compared_monitors():
    fig = charts_compare.sentiment_lines(SERIES)
    assert [t["y"] for t in fig["data"]] == [[0.2, None, -0.4], [0.6, None, 0.0], [None, None, None]]
    no_raw_markup(fig)
    rows = charts_compare.totals_table(SERIES)
    assert [(r["count"], r["share_of_voice"]) for r in rows] == [(4, 50.0), (4, 50.0), (0, 0.0)]
    assert rows[1]["name"] == EVIL and rows[0]["avg_compound"] == round((0.6 - 0.4) / 4, 3)
    assert charts_compare.totals_table([]) == []
    with pytest.raises(ValueError):
        charts_compare.share_of_voice([SERIES[0], (4, "short", [bucket(0)])])
    assert set(charts_compare.compare(SERIES)) == set(charts_compare.TITLES)


def test_every_figure_passes_plotlys_own_validation():
    import plotly.graph_objects as go

    gaps = [(BUCKETS[1]["start"], BUCKETS[2]["start"], "rss failing")]
    alerts = [(BUCKETS[2]["start"], BUCKETS[3]["start"], "alert: x")]
    figures = [*charts.dashboard(BUCKETS, gaps, alerts, bucket="1h", previous=BUCKETS,
                                 by_source={1: {"count": 2, "avg_compound": 0.1}}, source_names={1: "push"}).values(),
               *charts.dashboard([]).values(), *charts_compare.compare(SERIES).values()]
    for fig in figures:
        checked = go.Figure(fig)            # raises ValueError on an unknown property or a bad value
        assert len(checked.data) == len(fig["data"])
