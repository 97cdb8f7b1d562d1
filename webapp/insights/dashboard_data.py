"""The dashboard in two steps: `read` runs the page's statements and keeps their rows as they came
(plain tuples, nothing derived), and `build` turns those rows into what the template shows (pure
in them). The rendered page body is remembered by the rows (`Bodies`): the key is every row the
request read, so a new, muted, re-scored or re-tagged mention, a firing, an outage or a renamed
source is a new key at once, and 50 viewers of unchanged data skip the statistics, the figures,
the terms' ranking and the template. Time alone never keys anything: the one thing that moves
with the clock, the end of the time axis (now), is put in per request (`Bodies.body`).
"""
from __future__ import annotations

import re
from collections import namedtuple
from datetime import datetime
from functools import cache
from typing import Callable

from markupsafe import Markup
from sqlalchemy import bindparam, select

from webapp.core import sql
from webapp.core.rows_lru import RowsLRU
from webapp.core.web import json_provider
from webapp.insights import charts, dashboard, feed, panels
from webapp.insights import audience
from webapp.insights.terms import service as terms
from webapp.ingest import rollups
from webapp.mentions.inbox import service as inbox
from webapp.monitors.models import SYSTEM_KINDS, Source
from webapp.monitors.services import health
from webapp.monitors.sources import can_backfill

TERMS_SHOWN = 10
# What the page shows of each source (its sources table, names in markers and charts).
SourceRow = namedtuple("SourceRow", "id kind enabled url last_status last_error")
Reads = namedtuple("Reads", "sources series totals fetches alerts reach feed tags terms languages authors")


class SourceView(SourceRow):
    """A source row with the template's names (`is_system`, `display_name`, `settings`)."""

    __slots__ = ()

    @property
    def is_system(self) -> bool:
        return self.kind in SYSTEM_KINDS

    @property
    def display_name(self) -> str:
        return f"{self.kind} {self.url or ''}".strip()

    @property
    def settings(self) -> dict:
        return {"url": self.url} if self.url else {}


@cache
def _sources_statement():
    return (select(Source.id, Source.kind, Source.enabled, Source.settings["url"].as_string(), Source.last_status,
                   Source.last_error).where(Source.monitor_id == bindparam("monitor_id")).order_by(Source.id))


def source_rows(session, monitor_id: int) -> sql.Rows:
    """The monitor's sources (id, kind, enabled, settings' url, last status, last error) as the
    driver gives them (no ORM objects: the page reads them on every request; `views` makes them
    SourceViews)."""
    return sql.raw_rows(session, _sources_statement(), {"monitor_id": monitor_id})


def views(rows: sql.Rows) -> list[SourceView]:
    """SourceViews of `source_rows`."""
    return [SourceView(i, kind, bool(enabled), url or "", status, error)
            for i, kind, enabled, url, status, error in rows.processed()]


def _items(rows: list[dict]) -> tuple:
    return tuple(tuple(r.items()) for r in rows)


def read(session, monitor_id: int, choice: dashboard.RangeChoice) -> Reads:
    """Every row the dashboard of `monitor_id` over `choice` is made of (one statement each)."""
    start, end = choice.start, choice.end
    sources = source_rows(session, monitor_id)
    # The previous period ends where this one starts and is as long: one query reads both.
    series = rollups.series_rows(session, monitor_id, choice.bucket, choice.previous[0], end, raw=True)
    reach = None   # (`build` draws it only when the current period has mentions)
    if choice.bucket in ("1h", "1d") and any(r[1] for r in series):
        reach = tuple(audience.reach_series(session, monitor_id, choice.bucket, start, end).items())
    table = terms.term_table(session, monitor_id, start, end)
    w = panels.span_window(start, end)
    return Reads(
        sources=sources, series=series,
        totals=dashboard.source_total_rows(session, monitor_id, start, end, [s[0] for s in sources], raw=True),
        fetches=health.fetch_rows(session, monitor_id, start, end, raw=True),
        alerts=dashboard.alert_rows(session, monitor_id, start, end, raw=True), reach=reach,
        feed=feed.feed_rows(session, monitor_id, start, end, raw=True),
        # read from mentions, not rollups: tags change after ingest (mentions/inbox.py)
        tags=tuple(inbox.tag_counts(session, monitor_id, start, end)),
        terms=(table.start, table.end, table.bucket, table.n_cur, table.n_prev, tuple(table.counts.items()),
               table.complete),
        languages=_items(audience.languages(session, monitor_id, w)),
        authors=_items(audience.top_authors(session, monitor_id, w, panels.PANEL_AUTHORS)))


def markers(reads: Reads, choice: dashboard.RangeChoice, axis: tuple[str, str]) -> tuple[list, list]:
    """(outages, alert firings) of the range, cut to the axis (pure)."""
    names = {s.id: s.display_name for s in views(reads.sources)}
    gaps = [(max(g.start, choice.start).isoformat(), min(g.end, choice.end).isoformat(),
             f"{charts.shorten(names.get(g.source_id, f'source {g.source_id}'), 60)} failing")
            for g in health.gaps_of(reads.fetches.processed(), choice.start, choice.end)]
    alerts = dashboard.spans_of(reads.alerts.processed(), choice.start, choice.end)
    return charts.clip_markers(gaps, *axis), charts.clip_markers(alerts, *axis)


def build(reads: Reads, choice: dashboard.RangeChoice, gaps: list, alerts: list) -> dict:
    """Everything the dashboard body template needs (pure in its arguments); the figures' time
    axis holds dashboard.AXIS_TOKENS (put in per request)."""
    both = rollups.dense_points(reads.series.processed(), choice.bucket, choice.previous[0], choice.end)
    previous, buckets = both[:len(both) // 2], both[len(both) // 2:]
    sources = views(reads.sources)
    names = {s.id: s.display_name for s in sources}
    by_source = dashboard.totals_of(reads.totals.processed())
    reach = None
    if reads.reach is not None and any(b["count"] for b in buckets):
        found = dict(reads.reach)
        values = tuple(found.get(datetime.fromisoformat(b["start"]), 0) for b in buckets)
        reach = values if any(values) else None
    headline, figures, figures_json, points = dashboard.derived(
        buckets, previous, by_source, gaps, alerts, names, choice.bucket, dashboard.AXIS_TOKENS, reach)
    start, end, bucket, n_cur, n_prev, counts, complete = reads.terms
    table = terms.TermTable(start, end, bucket, dict(counts), n_cur, n_prev, complete)
    langs = [dict(r) for r in reads.languages]
    w = panels.span_window(choice.start, choice.end)
    return {"sources": sources, "buckets": buckets, "previous": previous, "by_source": by_source,
            "gaps": gaps, "alerts": alerts, "figures": figures, "figures_json": figures_json, "points": points,
            "empty": headline["count"] == 0, "previous_count": sum(b["count"] for b in previous),
            "headline": headline, "titles": charts.TITLES, "notes": charts.NOTES, "clickable": dashboard.CLICKABLE,
            "feed": feed.feed_of(*(r.processed() for r in reads.feed)),
            "can_backfill": any(s.enabled and can_backfill(s.kind) for s in sources),
            "tag_counts": list(reads.tags),
            "terms_panel": terms.panel(table, TERMS_SHOWN),
            "audience": {"authors": [dict(r) for r in reads.authors], "languages": langs,
                         "languages_figure": panels.languages_figure(langs), "mixed": sum(r["mixed"] for r in langs),
                         "start": w.start, "end": w.end}}


class Bodies:
    """Rendered dashboard bodies remembered by everything they are made of (per process)."""

    def __init__(self, size: int = 32):
        self._found = RowsLRU(size)   # the key is every row read: hashed once, compared once per request

    def body(self, reads: Reads, facts: tuple, choice: dashboard.RangeChoice, now: datetime,
             render: Callable[[dict], str]) -> Markup:
        """The page body of `reads` (`facts`: whatever else the template shows, e.g. the monitor's
        name and the viewer's role), rendered by `render(build(...))` once per key; the axis end
        (`now`, or the range's end) is put into the time charts of every answer."""
        axis_end = min(choice.end, now)
        axis = (choice.start.isoformat(), max(axis_end, choice.start).isoformat())
        gaps, alerts = markers(reads, choice, axis) if reads.fetches or reads.alerts else ([], [])
        key = (reads, facts, choice, tuple(gaps), tuple(alerts))
        pieces = self._found.get(key)
        if pieces is None:   # kept cut at the axis tokens: one join per request, no search of the text
            pieces = tuple(_TOKENS.split(render(build(reads, choice, gaps, alerts))))
            self._found.put(key, pieces)
        values = {f'"{token}"': json_provider.dumps(value) for token, value in zip(dashboard.AXIS_TOKENS, axis)}
        return Markup("".join([values.get(piece, piece) for piece in pieces]))


# the axis tokens as the figures' JSON holds them (quoted), kept as pieces of their own by split
_TOKENS = re.compile("(" + "|".join(re.escape(f'"{token}"') for token in dashboard.AXIS_TOKENS) + ")")
