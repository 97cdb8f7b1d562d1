"""The monitor list's figures per monitor: a 7-day volume sparkline, average sentiment and its
change against the 7 days before, firing alerts and source health.

Read from rollups (one query for all listed monitors, hourly buckets grouped into SPARK_STEP),
alert states and the sources' last status: never from raw mentions, so the list opens as fast
with ten million mentions as with ten.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.alerting.models import AlertState, Rule
from webapp.ingest import rollups
from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.insights import intervals

WEEK = timedelta(days=7)
SPARK_STEP = timedelta(hours=6)          # 28 points over the week
SPARK_SIZE = (120, 28)                   # width, height of the inline SVG


def spark_path(values: list[int], width: int = SPARK_SIZE[0], height: int = SPARK_SIZE[1]) -> str:
    """An SVG path ("M x,y L x,y ...") of `values` scaled into width x height (y down, 1 px inset);
    an all-zero series is a flat line along the bottom."""
    if not values:
        return ""
    top = max(values) or 1
    step = (width - 2) / max(1, len(values) - 1)
    points = [(1 + i * step, height - 1 - (height - 2) * v / top) for i, v in enumerate(values)]
    return "M " + " L ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def spark_values(rows: list[tuple[datetime, int]], start: datetime, step: timedelta = SPARK_STEP,
                 points: int = int(WEEK / SPARK_STEP)) -> list[int]:
    """(bucket start, count) rows summed into `points` slots of `step` from `start`."""
    out = [0] * points
    for at, count in rows:
        slot = (at - start) // step
        if 0 <= slot < points:
            out[slot] += int(count)
    return out


def overview(session, monitors: list, now: datetime) -> dict[int, dict]:
    """Per monitor id: spark (path), week (mentions in the last 7 days), avg and avg_change (with
    `avg_significance`), firing (rules firing) and health (ok / failing / waiting source counts)."""
    ids = [m.id for m in monitors]
    if not ids:
        return {}
    end = rollups.bucket_start(now, "1h") + timedelta(hours=1)
    start = end - WEEK
    hourly: dict[int, list] = defaultdict(list)
    for mid, at, count, total in session.execute(
            select(Rollup.monitor_id, Rollup.start, Rollup.count, Rollup.sum_compound)
            .where(Rollup.monitor_id.in_(ids), Rollup.source_id == ALL_SOURCES, Rollup.bucket == "1h",
                   Rollup.start >= start - WEEK, Rollup.start < end)):
        hourly[mid].append((at, count, total))
    firing = dict(session.execute(
        select(Rule.monitor_id, func.count()).join(AlertState, AlertState.rule_id == Rule.id)
        .where(Rule.monitor_id.in_(ids), AlertState.state == "firing").group_by(Rule.monitor_id)).all())
    out = {}
    for m in monitors:
        rows = hourly.get(m.id, [])
        week = [(at, n, s) for at, n, s in rows if at >= start]
        before = [(at, n, s) for at, n, s in rows if at < start]
        values = spark_values([(at, n) for at, n, _ in week], start)
        now_b, before_b = _buckets(week), _buckets(before)
        avg, avg0 = _avg(week), _avg(before)
        comparable = intervals.count_change_comparable(sum(n for _, n, _ in before))
        out[m.id] = {
            "spark": spark_path(values), "spark_max": max(values), "week": sum(values),
            "avg": avg, "avg_change": round(avg - avg0, 3) if avg is not None and avg0 is not None and comparable else None,
            "avg_significance": intervals.verdict(intervals.welch_p(now_b, before_b)) if comparable else "unknown",
            "firing": firing.get(m.id, 0), "health": health_counts(m.fetched_sources)}
    return out


def _buckets(rows) -> list[dict]:
    return [{"count": n, "avg_compound": s / n} for _, n, s in rows if n]


def _avg(rows) -> float | None:
    n = sum(r[1] for r in rows)
    return round(sum(r[2] for r in rows) / n, 3) if n else None


def health_counts(sources) -> dict[str, int]:
    """How many of a monitor's fetched sources last fetched fine, failed, or have not run yet."""
    counts = {"ok": 0, "failing": 0, "waiting": 0}
    for s in sources:
        if not s.enabled:
            continue
        key = "waiting" if s.last_status is None else "ok" if s.last_status == "ok" else "failing"
        counts[key] += 1
    return counts
