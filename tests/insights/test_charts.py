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


def test_volume_stacks_label_counts_per_bucket_with_bucket_spans_for_clicks():
    fig = charts.volume(BUCKETS, bucket="1h")
    assert [t["name"] for t in fig["data"]] == ["negative", "neutral", "positive"]
    assert all(t["type"] == "bar" for t in fig["data"]) and fig["layout"]["barmode"] == "stack"
    heights = [sum(t["y"][i] for t in fig["data"]) for i in range(4)]
    assert heights == [4, 0, 2, 1]                      # the stack's height is the volume
    assert fig["data"][2]["y"] == [3, 0, 0, 0]
    assert fig["data"][0]["customdata"][2] == [(T0 + timedelta(hours=2)).isoformat(),
                                              (T0 + timedelta(hours=3)).isoformat()]
    # without a bucket name the step is read from the starts
    assert charts.volume(BUCKETS)["data"][0]["customdata"] == fig["data"][0]["customdata"]
    assert "customdata" not in charts.volume(BUCKETS[:1])["data"][0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "time (UTC)"


def test_outages_and_firings_are_thin_strips_without_labels_and_never_stretch_the_axis():
    gaps = [(BUCKETS[1]["start"], BUCKETS[2]["start"], f"rss {EVIL} failing")]
    alerts = [(BUCKETS[2]["start"], (T0 + timedelta(days=5)).isoformat(), f"alert: {EVIL}"),
              (BUCKETS[3]["start"], BUCKETS[3]["start"], "alert: second")]
    now = (T0 + timedelta(hours=3, minutes=30)).isoformat()
    figures = charts.dashboard(BUCKETS, gaps, alerts, bucket="1h", axis_range=(BUCKETS[0]["start"], now))
    for name in ("volume", "sentiment"):
        fig = figures[name]
        rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
        assert [r["fillcolor"] for r in rects] == [charts.COLORS["gap"]] + [charts.COLORS["alert"]] * 2
        assert all(r["y1"] - r["y0"] <= 0.05 for r in rects)          # strips, not shaded columns
        assert max(datetime.fromisoformat(r["x1"]) for r in rects) <= datetime.fromisoformat(now)
        assert fig["layout"]["xaxis"]["range"] == [BUCKETS[0]["start"], now]
        assert "annotations" not in fig["layout"]                     # labels are listed under the charts
        assert "<script" not in json.dumps(fig)
    inside = charts.clip_markers(alerts, BUCKETS[0]["start"], now)
    assert inside[0][1] == now and inside[1] == alerts[1]
    assert charts.clip_markers([((T0 - timedelta(days=3)).isoformat(), (T0 - timedelta(days=2)).isoformat(), "x")],
                               BUCKETS[0]["start"], now) == []


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


def test_average_sentiment_band_is_drawn_per_run_and_never_across_empty_buckets():
    fig = charts.average_sentiment(BUCKETS, bucket="1h")
    band, line = fig["data"]
    assert band["fill"] == "toself" and line["name"] == "average compound"
    assert line["y"] == [0.5, None, -0.5, 0.0] and len(line["customdata"]) == 4 and not line["connectgaps"]
    x = [b["start"] for b in BUCKETS]
    xs, ys = charts.band_outline(x, [0.1, None, -0.6, -0.1], [0.9, None, -0.4, 0.1])
    # two closed outlines, split by None: the empty bucket 1 is in neither
    assert xs == [x[0], x[0], None, x[2], x[3], x[3], x[2]]
    assert ys == [0.9, 0.1, None, -0.4, 0.1, -0.1, -0.6]
    assert x[1] not in xs
    assert charts.band_outline(x, [None] * 4, [None] * 4) == ([], [])
    assert "s.d." in charts.TITLES["sentiment"] and "standard deviation" in charts.NOTES["sentiment"]
    assert "gaps" in charts.NOTES["sentiment"]


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
    # each figure once: shares live in the headline, label counts in the volume bars
    assert list(figures) == ["volume", "sentiment", "sources"]
    assert set(figures) <= set(charts.TITLES)
    assert list(charts.dashboard(BUCKETS)) == ["volume", "sentiment"]


def test_headline_changes_against_the_previous_period():
    now = [bucket(i, 10, 0.2 if i % 2 else 0.0, 6, 2, 2) for i in range(8)]          # 80 mentions
    previous = [bucket(i, 5, -0.3, 1, 4 - neg, neg) for i, neg in enumerate([2, 2, 1, 1, 1, 1, 1, 1])]  # 40
    head = charts.headline(now, previous)
    assert head["count"] == 80 and head["positive"] == 48 and head["avg_compound"] == 0.1
    changes = {c["key"]: c for c in head["changes"]}
    assert changes["count"]["delta"] == 40 and changes["count"]["delta_text"] == "+40"
    assert changes["count"]["percent_text"] == "(+100.0%)" and changes["count"]["direction"] == "up"
    assert changes["count"]["significance"] == "significant" and changes["count"]["comparable"]
    assert changes["avg_compound"]["delta"] == pytest.approx(0.4) and changes["avg_compound"]["tone"] == "good"
    assert changes["avg_compound"]["ci_text"].startswith("95 % CI ")
    assert changes["positive_share"]["delta"] == pytest.approx(60.0 - 20.0)
    assert changes["positive_share"]["delta_text"] == "+40.0 pp" and changes["positive_share"]["tone"] == "good"
    assert changes["positive_share"]["ci_text"] == "95 % CI 49.0–70.0%"
    assert changes["negative_share"]["direction"] == "down"
    assert changes["negative_share"]["significance"] == "not significant"
    assert changes["negative_share"]["tone"] == "neutral"          # not significant: no colour
    assert "down −5.0 pp from 25.0% in the previous period (not significant)" in changes["negative_share"]["description"]
    flat = {c["key"]: c for c in charts.headline(now, now)["changes"]}
    assert flat["count"]["direction"] == "flat" and "unchanged" in flat["count"]["description"]
    empty = {c["key"]: c for c in charts.headline(now, [bucket(0)])["changes"]}
    assert empty["count"]["delta"] == 80 and empty["count"]["percent_text"] == ""
    assert not empty["count"]["comparable"] and "Too few mentions before" in empty["count"]["description"]
    assert empty["avg_compound"]["direction"] == "none" and empty["avg_compound"]["delta_text"] == ""
    assert all(c["direction"] == "none" for c in charts.headline(now)["changes"])


def test_a_tiny_previous_period_is_not_comparable_never_a_huge_percentage():
    """The demo's old failure: 1 mention before, 1054 now, shown as +105300 %."""
    head = charts.headline([bucket(0, 1054, 0.1, 500, 300, 254)], [bucket(0, 1, 0.1, 1, 0, 0)])
    count = {c["key"]: c for c in head["changes"]}["count"]
    assert count["delta_text"] == "+1053" and count["percent_text"] == "" and not count["comparable"]
    assert count["significance"] == "unknown"
    small = {c["key"]: c for c in charts.headline([bucket(0, 3, 0.1, 2, 1, 0)])["changes"]}
    assert small["positive_share"]["small"] and small["avg_compound"]["small"]


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
