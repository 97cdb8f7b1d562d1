"""Plotly figures for the monitor dashboard, built from rollup buckets (pure: data in, JSON-able dicts out).

Plotly renders trace names, tick labels, annotations and hover text as a small HTML dialect, so
every piece of outside text (source names and URLs, rule names) goes through `esc` here, and is
never put into a hover *template* (where `%{...}` would be interpreted): it travels in
`customdata`. The page then embeds the figures with `tojson`.

Figures are plain dicts in Plotly's JSON schema rather than `plotly.graph_objects` objects: the
objects validate and deep-copy every property (with the plotly_white template, about 0.1 s per
figure and seconds for thousands of points), which alone would blow the dashboard's one-second
budget. tests/test_charts.py checks every figure against Plotly's own validation instead.

Time-series charts carry `customdata = [bucket start, bucket end]` (ISO) on their main traces;
`static/js/charts.js` uses it to open the mentions of a clicked bucket.
"""
from __future__ import annotations

import html
import json
import math
from datetime import datetime

from webapp.ingest.rollups import BUCKETS

COLORS = {"positive": "#2e9d5b", "neutral": "#8a94a6", "negative": "#d64545", "volume": "#3f6fd8",
          "gap": "#f0a030", "alert": "#b42318", "sentiment": "#6b4fd8",
          "band": "rgba(107, 79, 216, 0.18)"}
# The look of Plotly's "plotly_white" template, spelled out (the template itself is 7 kB per figure).
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "ticks": "",
         "automargin": True, "zerolinewidth": 2}
WHITE = {"font": {"color": "#2a3f5f"}, "paper_bgcolor": "white", "plot_bgcolor": "white",
         "hoverlabel": {"align": "left"}}
LAYOUT = {**WHITE, "margin": {"l": 48, "r": 16, "t": 24, "b": 36}, "height": 300,
          "hovermode": "x unified", "legend": {"orientation": "h", "y": -0.2}}
LABELS = ("positive", "neutral", "negative")
BAND_WINDOW = 5      # buckets in the rolling window of the sentiment band (odd: centred)
MAX_TEXT = 80        # outside text is cut to this many characters before escaping
TITLES = {
    "volume": "Mentions per bucket",
    "sentiment": f"Average sentiment per bucket (band: ±1 s.d. of the bucket averages over "
                 f"{BAND_WINDOW} buckets)",
    "shares": "Share of positive / neutral / negative (%)",
    "gauges": "Shares over the range (change against the previous period)",
    "sources": "Average sentiment by source",
    "distribution": "Distribution over the range",
}
# Shown under a chart's heading (the pages give each chart an <h2> from TITLES; the figures
# themselves carry no title, so it is not said twice).
NOTES = {
    "volume": "Select a bar to list that bucket's mentions. Amber spans: a source was failing; "
              "red spans marked ⚠: an alert was firing.",
    "sentiment": "Compound score from −1 (negative) to 1 (positive). Rollups keep sums, not "
                 "single scores, so the band shows how much the bucket averages vary around each "
                 f"point: the average ± one standard deviation of the {BAND_WINDOW} bucket averages "
                 "centred on it, weighted by mentions.",
    "gauges": "Arrows and signed numbers give the change in percentage points.",
}
Marker = tuple  # (start ISO, end ISO, label): a coverage gap or an alert firing


def esc(text) -> str:
    """Outside text made safe for Plotly's HTML-like labels: cut to MAX_TEXT, then `html.escape`d.

    Quotes are left alone: without `<` no tag can start, and Plotly shows `&quot;` literally.
    """
    return html.escape(shorten(text), quote=False)


def shorten(text, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters (an ellipsis marks the cut)."""
    text = str(text if text is not None else "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain(fig) -> dict:
    """A `plotly.graph_objects` figure as plain JSON data (for builders that use the objects)."""
    return json.loads(fig.to_json())


def figure(data: list[dict], layout: dict) -> dict:
    """A Plotly figure dict: `data` traces on LAYOUT (plus `layout`), white axes unless given."""
    merged = {**LAYOUT, **layout}
    for axis in ("xaxis", "yaxis"):
        merged[axis] = {**_AXIS, **merged.get(axis, {})}
    return {"data": data, "layout": merged}


def _rect(x0: str, x1: str, color: str, opacity: float, line: dict) -> dict:
    return {"type": "rect", "xref": "x", "yref": "y domain", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
            "fillcolor": color, "opacity": opacity, "line": line, "layer": "below"}


def _note(x: str, text: str, anchor: str, color: str | None = None) -> dict:
    return {"text": text, "x": x, "xref": "x", "y": 1, "yref": "y domain", "xanchor": anchor,
            "yanchor": "top", "showarrow": False,
            "font": {"size": 10, **({"color": color} if color else {})}}


ZERO_LINE = {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": 0, "y1": 0,
             "line": {"color": "#999", "width": 1, "dash": "dot"}}


def _bucket_spans(buckets: list[dict], bucket: str | None) -> list[list[str]] | None:
    """[start, end] (ISO) of every bucket, for the click-through to the mentions list."""
    starts = [datetime.fromisoformat(b["start"]) for b in buckets]
    step = BUCKETS.get(bucket) if bucket else (starts[1] - starts[0] if len(starts) > 1 else None)
    if step is None:
        return None
    return [[s.isoformat(), (s + step).isoformat()] for s in starts]


def _marks(gaps: list[Marker], alerts: list[Marker]) -> dict:
    """Layout shapes and annotations that shade source outages (amber) and alert firings (red,
    marked ⚠) on the time axis, each labelled in text."""
    shapes, notes = [], []
    for start, end, label in gaps:
        shapes.append(_rect(start, end, COLORS["gap"], 0.25, {"width": 0}))
        notes.append(_note(start, esc(label), "left"))
    for start, end, label in alerts:
        shapes.append(_rect(start, end, COLORS["alert"], 0.12, {"width": 1, "color": COLORS["alert"]}))
        notes.append(_note(end, "⚠ " + esc(label), "right", COLORS["alert"]))
    return {"shapes": shapes, "annotations": notes}


def _with_spans(trace: dict, spans: list | None) -> dict:
    return {**trace, "customdata": spans} if spans is not None else trace


def volume(buckets: list[dict], gaps: list[Marker] = (), alerts: list[Marker] = (),
           bucket: str | None = None) -> dict:
    """Mentions per bucket; outages are shaded so that a blocked source is not mistaken for a drop."""
    bars = _with_spans({"type": "bar", "name": "mentions", "x": [b["start"] for b in buckets],
                        "y": [b["count"] for b in buckets], "marker": {"color": COLORS["volume"]}},
                       _bucket_spans(buckets, bucket))
    return figure([bars], _marks(gaps, alerts))


def rolling_band(buckets: list[dict], window: int = BAND_WINDOW) -> tuple[list, list]:
    """(low, high) per bucket: its average ± the mention-weighted standard deviation of the
    averages of the `window` buckets centred on it.

    Rollups keep only sums and counts, so the spread inside one bucket is unknown; the spread of
    neighbouring averages shows how steady sentiment is around each point. None where the bucket
    is empty or fewer than two buckets of the window have mentions.
    """
    half = window // 2
    lows: list = []
    highs: list = []
    for i, b in enumerate(buckets):
        near = [(c["avg_compound"], _scored(c)) for c in buckets[max(0, i - half):i + half + 1]
                if _scored(c)]
        if not _scored(b) or len(near) < 2:
            lows.append(None)
            highs.append(None)
            continue
        total = sum(n for _, n in near)
        mean = sum(v * n for v, n in near) / total
        sd = math.sqrt(sum(n * (v - mean) ** 2 for v, n in near) / total)
        lows.append(round(max(-1.0, b["avg_compound"] - sd), 4))
        highs.append(round(min(1.0, b["avg_compound"] + sd), 4))
    return lows, highs


def average_sentiment(buckets: list[dict], gaps: list[Marker] = (), alerts: list[Marker] = (),
                      bucket: str | None = None) -> dict:
    x = [b["start"] for b in buckets]
    low, high = rolling_band(buckets)
    edge = {"type": "scatter", "x": x, "mode": "lines", "line": {"width": 0}, "connectgaps": False,
            "hoverinfo": "skip"}
    line = _with_spans({"type": "scatter", "x": x, "y": [b["avg_compound"] for b in buckets],
                        "mode": "lines+markers", "connectgaps": False, "name": "average compound",
                        "line": {"color": COLORS["sentiment"]}}, _bucket_spans(buckets, bucket))
    marks = _marks(gaps, alerts)
    return figure([{**edge, "y": high, "name": "band high", "showlegend": False},
                   {**edge, "y": low, "name": f"±1 s.d. over {BAND_WINDOW} buckets", "fill": "tonexty",
                    "fillcolor": COLORS["band"]},
                   line],
                  {"yaxis": {"range": [-1, 1]}, "shapes": [ZERO_LINE, *marks["shapes"]],
                   "annotations": marks["annotations"]})


def label_shares(buckets: list[dict], bucket: str | None = None) -> dict:
    """Stacked percentage areas of positive / neutral / negative per bucket."""
    x = [b["start"] for b in buckets]
    spans = _bucket_spans(buckets, bucket)
    traces = [_with_spans({"type": "scatter", "x": x, "name": label, "stackgroup": "shares", "mode": "lines",
                           "y": [round(100 * b[label] / _scored(b), 1) if _scored(b) else None for b in buckets],
                           "line": {"width": 0.5, "color": COLORS[label]}}, spans)
              for label in ("negative", "neutral", "positive")]
    return figure(traces, {"yaxis": {"range": [0, 100]}})


def distribution(buckets: list[dict]) -> dict:
    totals = {label: sum(b[label] for b in buckets) for label in LABELS}
    pie = {"type": "pie", "labels": list(totals), "values": list(totals.values()), "hole": 0.45,
           "sort": False, "marker": {"colors": [COLORS[k] for k in totals]}}
    return figure([pie], {"hovermode": "closest"})


def gauges(current: dict, previous: dict | None = None) -> dict:
    """One Plotly Indicator gauge per label: its share of the range's mentions, with the change
    in percentage points against the previous period (when that had mentions)."""
    traces = []
    for column, label in enumerate(LABELS):
        share = current[f"{label}_share"]
        before = previous[f"{label}_share"] if previous else None
        up, down = ("negative", "positive") if label == "negative" else ("positive", "negative")
        trace = {"type": "indicator", "mode": "gauge+number", "value": share,
                 "number": {"suffix": "%", "valueformat": ".1f"}, "title": {"text": label},
                 "gauge": {"axis": {"range": [0, 100]}, "bar": {"color": COLORS[label]}},
                 "domain": {"row": 0, "column": column}}
        if before is not None:
            trace["mode"] += "+delta"
            trace["delta"] = {"reference": before, "valueformat": "+.1f", "suffix": " pp",
                              "increasing": {"color": COLORS[up]}, "decreasing": {"color": COLORS[down]}}
        traces.append(trace)
    return {"data": traces, "layout": {**WHITE, "grid": {"rows": 1, "columns": 3, "pattern": "independent"},
                                       "margin": {"l": 36, "r": 36, "t": 40, "b": 16}, "height": 230}}


def source_labels(names: dict[int, str]) -> dict[int, str]:
    """Escaped, distinct labels for sources (two sources may show the same name)."""
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    return {sid: esc(name if seen[name] == 1 else f"{name} (#{sid})") for sid, name in names.items()}


def sources_sentiment(by_source: dict[int, dict], names: dict[int, str]) -> dict:
    """Horizontal bars of each source's average sentiment over the range (busiest source on top)."""
    labels = source_labels({sid: names.get(sid, f"source {sid}") for sid in by_source})
    order = sorted((sid for sid, t in by_source.items() if t["count"]),
                   key=lambda sid: (by_source[sid]["count"], -sid))
    avgs = [by_source[sid]["avg_compound"] for sid in order]
    bars = {"type": "bar", "orientation": "h", "name": "average compound",
            "y": [labels[sid] for sid in order], "x": avgs,
            "customdata": [[labels[sid], by_source[sid]["count"]] for sid in order],
            "hovertemplate": "%{customdata[0]}<br>average %{x:.3f}<br>%{customdata[1]} mentions<extra></extra>",
            "marker": {"color": [COLORS["positive"] if v >= 0.05 else COLORS["negative"] if v <= -0.05
                                 else COLORS["neutral"] for v in avgs]}}
    return figure([bars], {"xaxis": {"range": [-1, 1], "title": {"text": "average compound"}},
                           "yaxis": {"type": "category"}, "hovermode": "closest",
                           "height": max(220, 90 + 32 * len(order))})


def dashboard(buckets: list[dict], gaps: list[Marker] = (), alerts: list[Marker] = (), *,
              bucket: str | None = None, previous: list[dict] | None = None,
              by_source: dict[int, dict] | None = None,
              source_names: dict[int, str] | None = None) -> dict[str, dict]:
    """Every figure of the monitor page, keyed by its name (the page's `chart-<name>` ids)."""
    figures = {"volume": volume(buckets, gaps, alerts, bucket),
               "sentiment": average_sentiment(buckets, gaps, alerts, bucket),
               "shares": label_shares(buckets, bucket),
               "gauges": gauges(totals(buckets), totals(previous) if previous else None)}
    if by_source is not None:
        figures["sources"] = sources_sentiment(by_source, source_names or {})
    figures["distribution"] = distribution(buckets)
    return figures


def totals(buckets: list[dict]) -> dict:
    """Count, mention-weighted average compound, label counts and label shares (%) of buckets."""
    count = sum(b["count"] for b in buckets)
    scored = sum(_scored(b) for b in buckets)  # sentiment figures: scored mentions only
    weighted = sum(b["avg_compound"] * _scored(b) for b in buckets if _scored(b))
    out = {"count": count, "scored": scored, "avg_compound": round(weighted / scored, 3) if scored else None}
    for label in LABELS:
        out[label] = sum(b[label] for b in buckets)
        out[f"{label}_share"] = round(100 * out[label] / scored, 1) if scored else None
    return out


def _scored(b: dict) -> int:
    """A bucket's scored mentions: its count also holds unscored ones (insights/languages.py)."""
    return b["positive"] + b["neutral"] + b["negative"]


def _signed(value: float, digits: int) -> str:
    text = f"{abs(value):.{digits}f}"
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def change(key: str, label: str, now, before, *, digits: int, unit: str = "",
           higher_is: str = "neutral", percent: bool = False) -> dict:
    """One headline figure and its change against the previous period.

    direction is up / down / flat / none (nothing to compare with); tone is good / bad / neutral
    (for the colour; the arrow and the signed text carry the same meaning without colour).
    """
    shown = "–" if now is None else f"{now:.{digits}f}{unit}"
    item = {"key": key, "label": label, "value": now, "value_text": shown, "previous": before,
            "delta": None, "delta_text": "", "percent_text": "", "direction": "none", "tone": "neutral"}
    if now is None or before is None:
        item["description"] = f"{label}: {shown}; nothing to compare with in the previous period."
        return item
    delta = round(now - before, digits)
    item["delta"] = delta
    item["direction"] = "up" if delta > 0 else "down" if delta < 0 else "flat"
    item["delta_text"] = _signed(delta, digits) + (" pp" if unit == "%" else unit)
    if percent and before:
        item["percent_text"] = f"({_signed(100 * (now - before) / before, 1)}%)"
    if item["direction"] != "flat" and higher_is != "neutral":
        item["tone"] = "good" if (item["direction"] == "up") == (higher_is == "good") else "bad"
    moved = {"up": "up", "down": "down", "flat": "unchanged"}[item["direction"]]
    amount = "" if delta == 0 else f" {item['delta_text']}{(' ' + item['percent_text']) if item['percent_text'] else ''}"
    item["description"] = (f"{label}: {shown}, {moved}{amount} from {before:.{digits}f}{unit} "
                           "in the previous period.")
    return item


def headline(buckets: list[dict], previous: list[dict] | None = None) -> dict:
    """Totals over the range (the old keys) plus `changes`: the headline figures against the
    previous period of the same length (None when it is not known)."""
    now = totals(buckets)
    before = totals(previous) if previous is not None else None

    def prev(key):
        return before[key] if before is not None else None

    changes = [
        change("count", "Mentions", now["count"], prev("count"), digits=0,
               percent=True),
        change("avg_compound", "Average sentiment", now["avg_compound"], prev("avg_compound"),
               digits=3, higher_is="good"),
        change("positive_share", "Positive share", now["positive_share"], prev("positive_share"),
               digits=1, unit="%", higher_is="good"),
        change("negative_share", "Negative share", now["negative_share"], prev("negative_share"),
               digits=1, unit="%", higher_is="bad"),
    ]
    return {**now, "changes": changes}
