"""View data of the dashboard's audience panels (templates insights/panels/authors.html and
languages.html) and the reach-weighted volume line, from the language and author rollups."""
from __future__ import annotations

from datetime import datetime

from webapp.ingest.rollups import BUCKETS, bucket_start
from webapp.insights import audience, charts

PANEL_AUTHORS = 10
REACH_COLOR = "#b7791f"


def span_window(start: datetime, end: datetime) -> audience.Window:
    """The rollup window that covers [start, end): days when both fall on midnight, else hours
    (a range that starts inside an hour takes that whole hour)."""
    bucket = "1d" if bucket_start(start, "1d") == start and bucket_start(end, "1d") == end else "1h"
    last = bucket_start(end, bucket)
    return audience.Window(bucket, bucket_start(start, bucket), last if last == end else last + BUCKETS[bucket])


def languages_figure(rows: list[dict]) -> dict:
    """Horizontal stacked bars per language: scored mentions and volume-only (unscored) ones."""
    langs = [r["lang"] for r in rows][::-1]
    scored = [r["scored"] for r in rows][::-1]
    unscored = [r["count"] - r["scored"] for r in rows][::-1]
    traces = [{"type": "bar", "orientation": "h", "name": "scored", "y": langs, "x": scored,
               "marker": {"color": charts.COLORS["volume"]}},
              {"type": "bar", "orientation": "h", "name": "volume only (no scorer reads it)", "y": langs,
               "x": unscored, "marker": {"color": charts.COLORS["neutral"]}}]
    return charts.figure(traces, {"barmode": "stack", "hovermode": "closest",
                                  "height": max(160, 40 + 28 * len(rows))})


def audience_panels(session, monitor_id: int, start: datetime, end: datetime) -> dict:
    """Top authors, the language breakdown (rows and figure) and the mixed count over [start, end)."""
    w = span_window(start, end)
    langs = audience.languages(session, monitor_id, w)
    return {"authors": audience.top_authors(session, monitor_id, w, PANEL_AUTHORS), "languages": langs,
            "languages_figure": languages_figure(langs), "mixed": sum(r["mixed"] for r in langs),
            "start": w.start, "end": w.end}


def reach_values(session, monitor_id: int, buckets: list[dict], bucket: str) -> tuple | None:
    """The summed reach of each of `buckets` (1h and 1d buckets), or None when there is no line
    to draw (15-minute buckets, no buckets, or no reach in range)."""
    if bucket not in ("1h", "1d") or not buckets:
        return None
    starts = [datetime.fromisoformat(b["start"]) for b in buckets]
    reach = audience.reach_series(session, monitor_id, bucket, starts[0], starts[-1] + BUCKETS[bucket])
    if not any(reach.values()):
        return None
    return tuple(reach.get(s, 0) for s in starts)


def add_reach(figure: dict, buckets: list[dict], reach: tuple | None) -> dict:
    """The volume `figure` with reach-weighted volume (the sum of the mentions' reach per bucket,
    from `reach_values`) as a line on a second axis; unchanged when `reach` is None (pure)."""
    if reach is None:
        return figure
    line = {"type": "scatter", "mode": "lines", "name": "reach-weighted volume", "yaxis": "y2",
            "x": [b["start"] for b in buckets], "y": list(reach),
            "line": {"color": REACH_COLOR, "width": 2}}
    layout = {**figure["layout"], "yaxis2": {"overlaying": "y", "side": "right", "title": {"text": "reach"},
                                             "showgrid": False, "rangemode": "tozero"}}
    return {"data": [*figure["data"], line], "layout": layout}


def add_reach_shares(session, rows: list[dict], start: datetime, end: datetime) -> list[dict]:
    """The compare page's rows (one per monitor, with "id") with `reach` (the summed reach of their
    mentions over [start, end)) and `share_of_reach` (%, None when no mention has a reach)."""
    w = span_window(start, end)
    for row in rows:
        row["reach"] = sum(lang["reach"] for lang in audience.languages(session, row["id"], w))
    grand = sum(row["reach"] for row in rows)
    for row in rows:
        row["share_of_reach"] = round(100 * row["reach"] / grand, 1) if grand else None
    return rows
