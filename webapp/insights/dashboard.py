"""What the monitor dashboard and the compare page show: the chosen time range, the alert firings
and source outages to mark on the time axis, and the figures. Plain functions: the views pass
`request.args` in; everything is read from rollups (never raw mentions), so a monitor with
millions of mentions opens as fast as an empty one.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from typing import Mapping

from cachetools import LRUCache
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy import bindparam, func, literal_column, null, select, union_all

from webapp.core import sql
from webapp.core.web import json_provider

from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.monitors.models import Monitor
from webapp.insights import charts, charts_compare, panels
from webapp.ingest import rollups
from webapp.core.times import EARLIEST, LATEST, read_time

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}
DEFAULT_BUCKET = {"24h": "15m", "7d": "1h", "30d": "1d", "90d": "1d"}
DEFAULT_RANGE = "7d"
CUSTOM = "custom"
MAX_CUSTOM = timedelta(days=731)
CLICKABLE = ("volume", "sentiment")   # charts whose buckets open the mentions list


@dataclass(frozen=True)
class RangeChoice:
    """The range a page shows: `span` is a RANGES key or "custom"; [start, end) is aligned to
    `bucket`. `custom_start`/`custom_end` are the date inputs as typed (given back to the form)."""

    span: str
    bucket: str
    start: datetime
    end: datetime
    custom_start: str = ""
    custom_end: str = ""
    error: str | None = None

    @property
    def previous(self) -> tuple[datetime, datetime]:
        """The period of the same length just before this one."""
        return self.start - (self.end - self.start), self.start

    @property
    def label(self) -> str:
        if self.span == CUSTOM:
            return f"{self.start:%Y-%m-%d} to {(self.end - timedelta(seconds=1)):%Y-%m-%d} (UTC)"
        return f"last {self.span}"

    def query(self) -> dict[str, str]:
        """The URL parameters that show this range again."""
        extra = {"start": self.custom_start, "end": self.custom_end} if self.span == CUSTOM else {}
        return {"range": self.span, "bucket": self.bucket, **extra}


def auto_bucket(length: timedelta) -> str:
    """The bucket a range of `length` gets when none is chosen (about 24 to 720 points)."""
    if length <= timedelta(days=1):
        return "15m"
    return "1h" if length <= timedelta(days=7) else "1d"


def parse_custom(start_text: str, end_text: str, today: date) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) in UTC from two YYYY-MM-DD inputs (end inclusive).

    ValueError with a message for people when the inputs cannot make a range.
    """
    if not start_text or not end_text:
        raise ValueError("A custom range needs both a start and an end date.")
    try:
        first, last = date.fromisoformat(start_text), date.fromisoformat(end_text)
    except ValueError:
        raise ValueError("Dates must look like 2024-05-31.") from None
    try:   # the one time reader's range (core.times), so the previous period cannot overflow
        read_time(start_text), read_time(end_text, end_of_day=True)
    except ValueError:
        raise ValueError(f"Dates must be from {EARLIEST:%Y} to {LATEST.year - 1}.") from None
    if last < first:
        raise ValueError("The end date must be on or after the start date.")
    if first > today:
        raise ValueError("The start date is in the future.")
    start = datetime.combine(first, time(), tzinfo=timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=timezone.utc)
    if end - start > MAX_CUSTOM:
        raise ValueError(f"A custom range can cover at most {MAX_CUSTOM.days} days.")
    return start, end


def choose_range(args: Mapping[str, str], now: datetime) -> RangeChoice:
    """The range and bucket asked for in the URL (`range`, `bucket`, and `start`/`end` dates for
    `range=custom`); anything unusable falls back to the defaults, with `error` saying why for
    custom ranges and too-fine buckets."""
    span = args.get("range") or DEFAULT_RANGE
    asked = args.get("bucket") or ""
    start_text, end_text = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    error = None
    if span == CUSTOM:
        try:
            start, end = parse_custom(start_text, end_text, now.date())
        except ValueError as exc:
            error, span = f"{exc} Showing the last {DEFAULT_RANGE} instead.", DEFAULT_RANGE
        else:
            return _aligned(CUSTOM, asked, start, end, now, start_text, end_text)
    span = span if span in RANGES else DEFAULT_RANGE
    choice = _aligned(span, asked, now - RANGES[span], now, now, start_text, end_text)
    if error:
        choice = replace(choice, error=error)
    return choice


def _aligned(span: str, asked: str, start: datetime, end: datetime, now: datetime,
             start_text: str, end_text: str) -> RangeChoice:
    fallback = DEFAULT_BUCKET.get(span) or auto_bucket(end - start)
    bucket = asked if asked in rollups.BUCKETS else fallback
    error = None
    try:
        first, last = rollups.resolve_range(bucket, start, end, now)
    except rollups.SeriesError as exc:
        error = f"{str(exc).capitalize()}. Showing {fallback} buckets instead."
        bucket = fallback
        first, last = rollups.resolve_range(bucket, start, end, now)
    return RangeChoice(span, bucket, first, last, start_text, end_text, error)


def coarsest_bucket(start: datetime, end: datetime) -> str:
    """The largest bucket whose boundaries [start, end) falls on: totals over the range read
    the fewest rollup rows from it and still count exactly the same mentions."""
    for bucket in sorted(rollups.BUCKETS, key=rollups.BUCKETS.get, reverse=True):
        if rollups.bucket_start(start, bucket) == start and rollups.bucket_start(end, bucket) == end:
            return bucket
    return "15m"


@lru_cache(maxsize=2)
def _totals_statement(listed: bool):
    """Per-source sums over a range of one bucket size, of the `source_ids` given (`listed`) or of
    every source: built once (constructing a select and its cache key costs more CPU than running
    it), the values are parameters."""
    sources = Rollup.source_id.in_(bindparam("source_ids", expanding=True)) if listed else Rollup.source_id != ALL_SOURCES
    return (select(Rollup.source_id, func.sum(Rollup.count), func.sum(Rollup.sum_compound),
                   func.sum(Rollup.positive), func.sum(Rollup.neutral), func.sum(Rollup.negative))
            .where(Rollup.monitor_id == bindparam("monitor_id"), sources,
                   Rollup.bucket == bindparam("bucket"), Rollup.start >= bindparam("start"),
                   Rollup.start < bindparam("end"))
            .group_by(Rollup.source_id))


def source_totals(session, monitor_id: int, start: datetime, end: datetime,
                  source_ids: list[int] | None = None) -> dict[int, dict]:
    """Per source over [start, end): count, average and label counts (the shape of
    `rollups.sources_breakdown`), summed in SQL from the coarsest bucket that fits the range, so
    a 90-day range reads a few hundred rows whatever the mention count. `source_ids`: the
    monitor's sources (all of them: removing a source removes its rollups), so the read seeks each
    source's rows in the unique index instead of walking every row of the monitor."""
    return totals_of(source_total_rows(session, monitor_id, start, end, source_ids))


def source_total_rows(session, monitor_id: int, start: datetime, end: datetime,
                      source_ids: list[int] | None = None, raw: bool = False) -> tuple:
    """The rows behind `source_totals` as plain tuples (source id, count, sum, +, =, -; `raw`:
    core.sql.rows)."""
    params = {"monitor_id": monitor_id, "bucket": coarsest_bucket(start, end), "start": start, "end": end}
    if source_ids is not None:
        params["source_ids"] = sorted(source_ids)
    return sql.rows(session, _totals_statement(source_ids is not None), params, raw)


def totals_of(rows) -> dict[int, dict]:
    """`source_totals` from its rows (pure)."""
    return {sid: {"count": int(n), "avg_compound": rollups.average(total, p, u, m),
                  "positive": int(p), "neutral": int(u), "negative": int(m)}
            for sid, n, total, p, u, m in rows if n}


def firing_spans(events: list[tuple], firing_before: dict[int, str], start: datetime,
                 end: datetime) -> list[tuple[str, str, str]]:
    """(start ISO, end ISO, "alert: <rule>") for every period a rule was firing within [start, end).

    `events` are (rule id, rule name, at, from_state, to_state) state changes inside the range;
    `firing_before` names the rules (id -> name) that were already firing at `start` and have no
    event in the range. A rule whose first event in the range leaves "firing" was firing at `start`.
    """
    open_since: dict[int, tuple[datetime, str]] = {rid: (start, name) for rid, name in firing_before.items()}
    seen: set[int] = set(firing_before)
    spans: list[tuple[datetime, datetime, str]] = []
    for rule_id, name, at, from_state, to_state in sorted(events, key=lambda e: (e[2], e[0])):
        if rule_id not in seen and from_state == "firing":
            open_since[rule_id] = (start, name)
        seen.add(rule_id)
        if to_state == "firing":
            open_since.setdefault(rule_id, (at, name))
        elif rule_id in open_since:
            began, rule_name = open_since.pop(rule_id)
            spans.append((began, at, rule_name))
    spans += [(began, end, name) for began, name in open_since.values()]
    return [(max(a, start).isoformat(), min(b, end).isoformat(), f"alert: {charts.shorten(name, 60)}")
            for a, b, name in sorted(spans) if b >= start and a < end]


@cache
def _alert_statement():
    """The state changes of a monitor's rules in a range (part 0: rule id, name, at, from, to;
    oldest first), then the rules firing since before it (part 1: rule id, name), in one
    statement, built once."""
    events = (select(literal_column("0").label("part"), AlertEvent.rule_id, Rule.name, AlertEvent.at, AlertEvent.from_state,
                     AlertEvent.to_state)
              .join(Rule, Rule.id == AlertEvent.rule_id)
              .where(AlertEvent.monitor_id == bindparam("monitor_id"), AlertEvent.at >= bindparam("start"),
                     AlertEvent.at < bindparam("end")))
    firing = (select(literal_column("1"), Rule.id, Rule.name, null(), null(), null())
              .join(AlertState, AlertState.rule_id == Rule.id)
              .where(Rule.monitor_id == bindparam("monitor_id"), AlertState.state == "firing",
                     AlertState.since < bindparam("start")))
    both = union_all(events, firing).subquery()
    return select(both).order_by(both.c.part, both.c.at)


def alert_spans(session, monitor_id: int, start: datetime, end: datetime) -> list[tuple[str, str, str]]:
    """Alert firings of a monitor's rules that overlap [start, end), from the alert history."""
    return spans_of(alert_rows(session, monitor_id, start, end), start, end)


def alert_rows(session, monitor_id: int, start: datetime, end: datetime, raw: bool = False) -> tuple:
    """The rows behind `alert_spans` (see `_alert_statement`), as plain tuples (`raw`:
    core.sql.rows): one statement for both parts."""
    return sql.rows(session, _alert_statement(), {"monitor_id": monitor_id, "start": start, "end": end}, raw)


def spans_of(rows: tuple, start: datetime, end: datetime) -> list[tuple[str, str, str]]:
    """`alert_spans` from `alert_rows` (pure)."""
    if not rows:
        return []
    events = [r[1:] for r in rows if r[0] == 0]
    in_range = {e[0] for e in events}
    firing = {r[1]: r[2] for r in rows if r[0] == 1 and r[1] not in in_range}
    return firing_spans(events, firing, start, end)


_derived: LRUCache = LRUCache(maxsize=64)   # per process; a 24h page is about 60 kB of it
_derived_lock = threading.Lock()
# The time axis ends at "now", which moves with every request: the remembered figures carry these
# stand-ins in their axis range (JSON strings without anything to escape) and each request puts
# its own range in (`_with_axis`).
AXIS_TOKENS = ("@@axis-start@@", "@@axis-end@@")
TIME_CHARTS = ("volume", "sentiment")


def derived(buckets: list[dict], previous: list[dict], by_source: dict[int, dict], gaps: list, alerts: list,
            names: dict[int, str], bucket: str, axis: tuple[str, str], reach: tuple | None) -> tuple:
    """(headline, figures, figures as page-safe JSON, points per figure) of the dashboard: pure in
    its arguments, so remembered by them. The key is the data itself (every bucket, source total,
    marker, name and reach value), so a change to any of it is a new key: never a stale answer,
    and 50 viewers of unchanged data skip the statistics, the figures and their JSON. `gaps` and
    `alerts` must already be clipped to `axis` (charts.clip_markers)."""
    key = (bucket, _rows(previous), _rows(buckets), _rows(by_source.items()), tuple(gaps),
           tuple(alerts), tuple(sorted(names.items())), reach)
    with _derived_lock:
        found = _derived.get(key)
    if found is None:
        found = _derive(buckets, previous, by_source, gaps, alerts, names, bucket, reach)
        with _derived_lock:
            _derived[key] = found
    headline, figures, as_json, points = found
    return (headline, {name: _with_axis(fig, axis) if name in TIME_CHARTS else fig for name, fig in figures.items()},
            {name: _json_with_axis(text, axis) if name in TIME_CHARTS else Markup(text) for name, text in as_json.items()},
            points)


def _rows(items) -> tuple:
    """A hashable copy of buckets (dicts) or (source id, totals dict) pairs."""
    return tuple(tuple(i.values()) if isinstance(i, dict) else (i[0], tuple(i[1].values())) for i in items)


def _derive(buckets, previous, by_source, gaps, alerts, names, bucket, reach) -> tuple:
    headline = charts.headline(buckets, previous)
    figures = {} if headline["count"] == 0 else charts.dashboard(
        buckets, gaps, alerts, bucket=bucket, by_source=by_source, source_names=names, axis_range=AXIS_TOKENS,
        clipped=True)
    if "volume" in figures:
        figures["volume"] = panels.add_reach(figures["volume"], buckets, reach)
    bars = sum(1 for t in by_source.values() if t["count"])
    points = {name: bars if name == "sources" else len(buckets) for name in figures}
    as_json = {name: str(htmlsafe_json_dumps(fig, dumps=json_provider.dumps)) for name, fig in figures.items()}
    return headline, figures, as_json, points


def _with_axis(fig: dict, axis: tuple[str, str]) -> dict:
    layout = fig["layout"]
    return {**fig, "layout": {**layout, "xaxis": {**layout["xaxis"], "range": list(axis)}}}


def _json_with_axis(text: str, axis: tuple[str, str]) -> Markup:
    for token, value in zip(AXIS_TOKENS, axis):
        text = text.replace(f'"{token}"', json_provider.dumps(value))
    return Markup(text)


def compare_page(session, monitors: list[Monitor], choice: RangeChoice) -> dict:
    """The compare page's series, figures and totals for `monitors` over `choice`."""
    series = [(m.id, m.name, rollups.series(session, m.id, choice.bucket, choice.start, choice.end))
              for m in monitors]
    figures = charts_compare.compare(series) if series else {}
    points = len(series[0][2]) if series else 0
    rows = panels.add_reach_shares(session, charts_compare.totals_table(series), choice.start, choice.end)
    return {"figures": figures, "rows": rows, "points": points,
            "titles": charts_compare.TITLES}
