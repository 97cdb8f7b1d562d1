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
from webapp.insights import intervals

COLORS = {"positive": "#2e9d5b", "neutral": "#8a94a6", "negative": "#d64545", "volume": "#3f6fd8",
          "gap": "#f0a030", "alert": "#b42318", "sentiment": "#6b4fd8",
          "band": "rgba(107, 79, 216, 0.18)"}
# The look of Plotly's "plotly_white" template, spelled out (the template itself is 7 kB per figure).
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "ticks": "",
         "automargin": True, "zerolinewidth": 2}
WHITE = {"font": {"color": "#2a3f5f"}, "paper_bgcolor": "white", "plot_bgcolor": "white",
         "hoverlabel": {"align": "left"}}
LAYOUT = {**WHITE, "margin": {"l": 48, "r": 16, "t": 24, "b": 36}, "height": 300,
          "hovermode": "x unified",
          "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}}   # above: below it met the axis title
LABELS = ("positive", "neutral", "negative")
BAND_WINDOW = 5      # buckets in the rolling window of the sentiment band (odd: centred)
MAX_TEXT = 80        # outside text is cut to this many characters before escaping
TITLES = {
    "volume": "Mentions per bucket, by sentiment",
    "sentiment": f"Average sentiment per bucket (band: ±1 s.d. of the bucket averages over "
                 f"{BAND_WINDOW} buckets)",
    "sources": "Average sentiment by source",
}
# Shown under a chart's heading (the pages give each chart an <h2> from TITLES; the figures
# themselves carry no title, so it is not said twice).
NOTES = {
    "volume": "Bars stack positive, neutral and negative mentions; their height is the volume. "
              "Select a bar to list that bucket's mentions. Strips along the top mark a failing "
              "source (amber) or a firing alert (red); they are listed under the charts.",
    "sentiment": "Compound score from −1 (negative) to 1 (positive); empty buckets are gaps. "
                 "Rollups keep sums, not single scores, so the band shows how much the bucket "
                 f"averages vary around each point: the average ± one standard deviation of the "
                 f"{BAND_WINDOW} bucket averages centred on it, weighted by mentions.",
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


def _strip(x0: str, x1: str, color: str, row: int) -> dict:
    """A thin strip along the top of a time chart (row 0 outages, row 1 alerts): a marker that
    takes no room from the data and carries no label that could overlap another."""
    top = 1 - 0.05 * row
    return {"type": "rect", "xref": "x", "yref": "y domain", "x0": x0, "x1": x1, "y0": top - 0.04,
            "y1": top, "fillcolor": color, "opacity": 0.85, "line": {"width": 0}, "layer": "above"}


ZERO_LINE = {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": 0, "y1": 0,
             "line": {"color": "#999", "width": 1, "dash": "dot"}}


def _bucket_spans(buckets: list[dict], bucket: str | None) -> list[list[str]] | None:
    """[start, end] (ISO) of every bucket, for the click-through to the mentions list."""
    starts = [datetime.fromisoformat(b["start"]) for b in buckets]
    step = BUCKETS.get(bucket) if bucket else (starts[1] - starts[0] if len(starts) > 1 else None)
    if step is None:
        return None
    return [[s.isoformat(), (s + step).isoformat()] for s in starts]


def clip_markers(markers: list[Marker], start: str, end: str) -> list[Marker]:
    """Markers cut to [start, end] (ISO), those outside dropped: an outage or a firing that is
    still open never stretches the time axis past `end` (now)."""
    lo, hi = datetime.fromisoformat(start), datetime.fromisoformat(end)
    out = []
    for a, b, label in markers:
        first, last = max(datetime.fromisoformat(a), lo), min(datetime.fromisoformat(b), hi)
        if first <= last:
            out.append((first.isoformat(), last.isoformat(), label))
    return out


def _marks(gaps: list[Marker], alerts: list[Marker]) -> list[dict]:
    """Layout shapes for source outages (amber) and alert firings (red), as strips."""
    return ([_strip(s, e, COLORS["gap"], 0) for s, e, _ in gaps]
            + [_strip(s, e, COLORS["alert"], 1) for s, e, _ in alerts])


def _with_spans(trace: dict, spans: list | None) -> dict:
    return {**trace, "customdata": spans} if spans is not None else trace


def time_axis(axis_range: tuple[str, str] | None) -> dict:
    """The x axis of a time chart: titled (static/js/charts.js names the viewer's zone in it and
    moves the times there) and fixed to the range, so no marker widens it."""
    axis = {"type": "date", "title": {"text": "time (UTC)"}}
    if axis_range:
        axis["range"] = list(axis_range)
    return axis


def volume(buckets: list[dict], gaps: list[Marker] = (), alerts: list[Marker] = (),
           bucket: str | None = None, axis_range: tuple[str, str] | None = None) -> dict:
    """Mentions per bucket as bars stacked by label (their height is the volume): the counts
    read at any bucket size, where shares of one or two mentions would jump between 0 and 100 %.
    Outages are marked so that a blocked source is not mistaken for a drop."""
    x = [b["start"] for b in buckets]
    spans = _bucket_spans(buckets, bucket)
    bars = [_with_spans({"type": "bar", "name": label, "x": x, "y": [b[label] for b in buckets],
                         "marker": {"color": COLORS[label]}}, spans)
            for label in ("negative", "neutral", "positive")]
    return figure(bars, {"barmode": "stack", "shapes": _marks(gaps, alerts),
                         "xaxis": time_axis(axis_range), "yaxis": {"title": {"text": "mentions"}}})


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


def band_outline(x: list, low: list, high: list) -> tuple[list, list]:
    """The band as closed outlines, one per run of buckets that have a band, separated by None:
    drawn with fill "toself", each run is filled on its own, so nothing spans an empty bucket."""
    xs: list = []
    ys: list = []
    run: list[int] = []
    for i in range(len(x) + 1):
        if i < len(x) and low[i] is not None and high[i] is not None:
            run.append(i)
            continue
        if run:
            if xs:
                xs.append(None)
                ys.append(None)
            xs += [x[j] for j in run] + [x[j] for j in reversed(run)]
            ys += [high[j] for j in run] + [low[j] for j in reversed(run)]
            run = []
    return xs, ys


def average_sentiment(buckets: list[dict], gaps: list[Marker] = (), alerts: list[Marker] = (),
                      bucket: str | None = None, axis_range: tuple[str, str] | None = None) -> dict:
    x = [b["start"] for b in buckets]
    low, high = rolling_band(buckets)
    bx, by = band_outline(x, low, high)
    band = {"type": "scatter", "x": bx, "y": by, "mode": "lines", "line": {"width": 0},
            "fill": "toself", "fillcolor": COLORS["band"], "hoverinfo": "skip", "connectgaps": False,
            "name": f"±1 s.d. over {BAND_WINDOW} buckets"}
    line = _with_spans({"type": "scatter", "x": x, "y": [b["avg_compound"] for b in buckets],
                        "mode": "lines+markers", "connectgaps": False, "name": "average compound",
                        "line": {"color": COLORS["sentiment"]}}, _bucket_spans(buckets, bucket))
    return figure([band, line],
                  {"yaxis": {"range": [-1, 1], "title": {"text": "compound"}},
                   "xaxis": time_axis(axis_range), "shapes": [ZERO_LINE, *_marks(gaps, alerts)]})


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
              source_names: dict[int, str] | None = None,
              axis_range: tuple[str, str] | None = None, clipped: bool = False) -> dict[str, dict]:
    """Every figure of the monitor page, keyed by its name (the page's `chart-<name>` ids).

    Each figure is shown once: the shares live in the headline (with their intervals), the
    label counts in the volume bars; `previous` is accepted for callers of the old signature.
    `clipped`: the markers are already cut to `axis_range` (which may then be stand-ins)."""
    if axis_range and not clipped:
        gaps, alerts = clip_markers(gaps, *axis_range), clip_markers(alerts, *axis_range)
    figures = {"volume": volume(buckets, gaps, alerts, bucket, axis_range),
               "sentiment": average_sentiment(buckets, gaps, alerts, bucket, axis_range)}
    if by_source is not None:
        figures["sources"] = sources_sentiment(by_source, source_names or {})
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
           higher_is: str = "neutral", percent: bool = False, interval=None,
           p: float | None = None, comparable: bool = True) -> dict:
    """One headline figure and its change against the previous period.

    direction is up / down / flat / none (nothing to compare with); tone is good / bad / neutral
    (for the colour; the arrow and the signed text carry the same meaning without colour).
    `interval` (intervals.Interval) adds the 95 % interval and the small-sample warning; `p` the
    test of the change (significant at 5 % or not); `comparable` False when the previous period is
    too small for a percentage change (the change is then said to be "not comparable").
    """
    shown = "–" if now is None else f"{now:.{digits}f}{unit}"
    significance = intervals.verdict(p)
    item = {"key": key, "label": label, "value": now, "value_text": shown, "previous": before,
            "delta": None, "delta_text": "", "percent_text": "", "direction": "none", "tone": "neutral",
            "ci_text": interval.text(digits, unit) if interval else "",
            "small": bool(interval and interval.small and now is not None),
            "significance": significance, "comparable": comparable}
    if now is None or before is None:
        item["description"] = f"{label}: {shown}; nothing to compare with in the previous period."
        return item
    delta = round(now - before, digits)
    item["delta"] = delta
    item["direction"] = "up" if delta > 0 else "down" if delta < 0 else "flat"
    item["delta_text"] = _signed(delta, digits) + (" pp" if unit == "%" else unit)
    if percent and before and comparable:
        item["percent_text"] = f"({_signed(100 * (now - before) / before, 1)}%)"
    if item["direction"] != "flat" and higher_is != "neutral" and significance != "not significant":
        item["tone"] = "good" if (item["direction"] == "up") == (higher_is == "good") else "bad"
    moved = {"up": "up", "down": "down", "flat": "unchanged"}[item["direction"]]
    amount = "" if delta == 0 else f" {item['delta_text']}{(' ' + item['percent_text']) if item['percent_text'] else ''}"
    tested = "" if significance == "unknown" else f" ({significance})"
    item["description"] = (f"{label}: {shown}, {moved}{amount} from {before:.{digits}f}{unit} "
                           f"in the previous period{tested}."
                           + ("" if comparable else " Too few mentions before to compare."))
    return item


def headline(buckets: list[dict], previous: list[dict] | None = None) -> dict:
    """Totals over the range (the old keys) plus `changes`: the headline figures against the
    previous period of the same length (None when it is not known), each with its 95 % interval
    and whether its change is significant (webapp/insights/intervals.py)."""
    now = totals(buckets)
    before = totals(previous) if previous is not None else None

    def prev(key):
        return before[key] if before is not None else None

    n, n0 = now["count"], prev("count")
    comparable = intervals.count_change_comparable(n0)
    counted = n0 is not None and comparable

    def shares(label: str, higher_is: str) -> dict:
        return change(f"{label}_share", f"{label.capitalize()} share", now[f"{label}_share"],
                      prev(f"{label}_share"), digits=1, unit="%", higher_is=higher_is,
                      interval=intervals.wilson(now[label], n),
                      p=intervals.two_proportion_p(now[label], n, before[label], n0) if counted else None,
                      comparable=comparable)

    changes = [
        change("count", "Mentions", n, n0, digits=0, percent=True,
               p=intervals.count_p(n, n0) if counted else None, comparable=comparable),
        change("avg_compound", "Average sentiment", now["avg_compound"], prev("avg_compound"),
               digits=3, higher_is="good", interval=intervals.mean_interval(buckets),
               p=intervals.welch_p(buckets, previous) if counted else None, comparable=comparable),
        shares("positive", "good"),
        shares("negative", "bad"),
    ]
    return {**now, "changes": changes}
