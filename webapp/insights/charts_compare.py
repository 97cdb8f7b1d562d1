"""Plotly figures and totals that put several monitors side by side (pure: rollup buckets in,
JSON-able dicts out).

Input is a list of (monitor id, monitor name, buckets) where every bucket list covers the same
range with the same bucket (dense `rollups.series`). Monitor names are outside text: they are
escaped with `charts.esc` and reach hover labels only through `customdata`.
"""
from __future__ import annotations

from webapp.insights.charts import ZERO_LINE, esc, figure, time_axis, totals
from webapp.insights import intervals

# Okabe-Ito colours: told apart with the common colour-vision deficiencies.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")
TITLES = {
    "voice": "Share of voice (% of all compared mentions per bucket)",
    "sentiment": "Average sentiment per bucket (compound, −1 to 1)",
}
Series = tuple  # (monitor id, name, buckets)


def labels(series: list[Series]) -> list[str]:
    """Escaped, distinct display names (two monitors may have the same name)."""
    names = [name for _, name, _ in series]
    return [esc(name if names.count(name) == 1 else f"{name} (#{mid})") for mid, name, _ in series]


def _x(series: list[Series]) -> list[str]:
    starts = [[b["start"] for b in buckets] for _, _, buckets in series]
    if any(s != starts[0] for s in starts):
        raise ValueError("every monitor's buckets must cover the same range")
    return starts[0] if starts else []


def share_of_voice(series: list[Series]) -> dict:
    """Stacked areas: each monitor's share (%) of the compared monitors' mentions per bucket
    (no value where none of them had a mention)."""
    x = _x(series)
    per_bucket = [sum(buckets[i]["count"] for _, _, buckets in series) for i in range(len(x))]
    traces = [{"type": "scatter", "x": x, "name": label, "stackgroup": "voice", "mode": "lines",
               "y": [round(100 * b["count"] / t, 1) if t else None for b, t in zip(buckets, per_bucket)],
               "line": {"width": 0.5, "color": PALETTE[n % len(PALETTE)]},
               "customdata": [[label, b["count"]] for b in buckets],
               "hovertemplate": "%{customdata[0]}: %{y:.1f}% (%{customdata[1]} mentions)<extra></extra>"}
              for n, ((_, _, buckets), label) in enumerate(zip(series, labels(series)))]
    return figure(traces, {"yaxis": {"range": [0, 100], "ticksuffix": "%"}, "xaxis": time_axis(None)})


def sentiment_lines(series: list[Series]) -> dict:
    """One line of average sentiment per monitor, on one axis."""
    x = _x(series)
    traces = [{"type": "scatter", "x": x, "name": label, "mode": "lines+markers", "connectgaps": False,
               "y": [b["avg_compound"] for b in buckets], "line": {"color": PALETTE[n % len(PALETTE)]},
               "customdata": [[label, b["count"]] for b in buckets],
               "hovertemplate": "%{customdata[0]}: %{y:.3f} (%{customdata[1]} mentions)<extra></extra>"}
              for n, ((_, _, buckets), label) in enumerate(zip(series, labels(series)))]
    return figure(traces, {"yaxis": {"range": [-1, 1]}, "shapes": [ZERO_LINE], "xaxis": time_axis(None)})


def totals_table(series: list[Series]) -> list[dict]:
    """Per monitor over the range: mentions, share of voice (%) with its Wilson 95 % interval
    (`voice_ci`, `voice_small` below intervals.MIN_SAMPLE mentions in all), average sentiment,
    positive and negative shares (%). Names stay raw here: the template escapes them."""
    rows = [{"id": mid, "name": name, **totals(buckets)} for mid, name, buckets in series]
    grand = sum(r["count"] for r in rows)
    for r in rows:
        r["share_of_voice"] = round(100 * r["count"] / grand, 1) if grand else None
        voice = intervals.wilson(r["count"], grand)          # 95 % interval; small samples flagged
        r["voice_ci"], r["voice_small"] = voice.text(1, "%"), voice.small and grand > 0
    return rows


def compare(series: list[Series]) -> dict[str, dict]:
    """The compare page's figures, keyed by name (the page's `chart-<name>` ids)."""
    return {"voice": share_of_voice(series), "sentiment": sentiment_lines(series)}
