"""What a report says: headline figures with their change, chart series, the most positive and
most negative mentions, the alerts of the period, and sections other features register.

Figures and series come from rollups (so they survive retention and agree with the charts and
the series API); mentions and alerts from their tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select

from webapp.alerting.models import AlertEvent, Rule
from webapp.ingest import rollups
from webapp.ingest.models import ALL_SOURCES, Mention, Rollup
from webapp.reports.services.schedule import Period

TOP_MENTIONS = 3
MAX_ALERTS = 20
TEXT_CHARS = 280

TOP_TERMS = 10


def rising_terms(session, monitor_id: int, period: Period) -> dict | None:
    """Top rising terms of the period against the one before (webapp/insights/terms), when that
    feature is installed; None (no section) without it or without a rising term."""
    try:
        from webapp.insights.terms import service as terms
    except ImportError:
        return None
    rows = terms.term_table(session, monitor_id, period.start, period.end).rows("rising", TOP_TERMS)
    if not rows:
        return None
    return {"title": "Top rising terms", "columns": ["Term", "Mentions", "Previous period"],
            "rows": [[r["term"], r["count"], r["previous"]] for r in rows]}


# Extra sections: a function (session, monitor_id, period) -> {"title", "rows": [[cell, ...]],
# "columns": [...]} or None (None or an exception leaves the section out). Top rising terms are
# read when the terms feature is installed; others (top authors) are added by their feature with
# register_section.
SECTIONS: dict[str, Callable] = {"rising_terms": rising_terms}


def register_section(name: str, build: Callable) -> None:
    SECTIONS[name] = build


@dataclass
class Figures:
    volume: int = 0
    avg_compound: float | None = None
    positive: int = 0
    neutral: int = 0
    negative: int = 0

    def share(self, label: str) -> float | None:
        return getattr(self, label) / self.volume if self.volume else None


@dataclass
class Content:
    monitor_id: int
    monitor_name: str
    every: str
    period: Period
    now: Figures
    before: Figures
    series: list[dict]
    positive: list[dict]
    negative: list[dict]
    alerts: list[dict]
    sections: list[dict] = field(default_factory=list)

    def headline(self) -> list[dict]:
        """[{"name", "value", "change", "unit"}]: figures of the period and their change."""
        rows = [("Mentions", self.now.volume, self.before.volume, "count"),
                ("Average sentiment", self.now.avg_compound, self.before.avg_compound, "score"),
                ("Positive share", self.now.share("positive"), self.before.share("positive"), "share"),
                ("Negative share", self.now.share("negative"), self.before.share("negative"), "share"),
                ("Neutral share", self.now.share("neutral"), self.before.share("neutral"), "share")]
        return [{"name": name, "value": value, "previous": previous, "unit": unit,
                 "change": change(value, previous, unit)} for name, value, previous, unit in rows]


def change(value, previous, unit: str) -> str:
    """The change against the previous period, as text: "+12 %", "-0.08", "+3.5 pts", "new", "–"."""
    if value is None or previous is None:
        return "–"
    if unit == "count":
        if previous == 0:
            return "new" if value else "±0"
        return f"{(value - previous) / previous * 100:+.0f} %"
    if unit == "share":
        return f"{(value - previous) * 100:+.1f} pts"
    return f"{value - previous:+.2f}"


def figures(session, monitor_id: int, period: Period) -> Figures:
    """Totals of the 15-minute rollups in the period (exact for any quarter-hour time zone)."""
    row = session.execute(
        select(func.coalesce(func.sum(Rollup.count), 0), func.sum(Rollup.sum_compound),
               func.coalesce(func.sum(Rollup.positive), 0), func.coalesce(func.sum(Rollup.neutral), 0),
               func.coalesce(func.sum(Rollup.negative), 0))
        .where(Rollup.monitor_id == monitor_id, Rollup.source_id == ALL_SOURCES, Rollup.bucket == "15m",
               Rollup.start >= period.start, Rollup.start < period.end)).one()
    volume = int(row[0])
    return Figures(volume, round(row[1] / volume, 4) if volume else None, int(row[2]), int(row[3]), int(row[4]))


def _mention(m: Mention) -> dict:
    text = " ".join((m.text or "").split())
    return {"text": text[:TEXT_CHARS] + ("…" if len(text) > TEXT_CHARS else ""), "author": m.author,
            "url": m.url if (m.url or "").startswith(("http://", "https://")) else None,
            "compound": round(m.compound, 3), "label": m.label,
            "published_at": m.published_at.strftime("%Y-%m-%d %H:%M UTC")}


def top_mentions(session, monitor_id: int, period: Period, label: str) -> list[dict]:
    order = Mention.compound.desc() if label == "positive" else Mention.compound.asc()
    rows = session.execute(
        select(Mention).where(Mention.monitor_id == monitor_id, Mention.muted.is_(False),
                              Mention.label == label, Mention.published_at >= period.start,
                              Mention.published_at < period.end)
        .order_by(order, Mention.id).limit(TOP_MENTIONS)).scalars()
    return [_mention(m) for m in rows]


def alerts(session, monitor_id: int, period: Period) -> list[dict]:
    rows = session.execute(
        select(AlertEvent, Rule.name).join(Rule, Rule.id == AlertEvent.rule_id)
        .where(AlertEvent.monitor_id == monitor_id, AlertEvent.at >= period.start, AlertEvent.at < period.end,
               AlertEvent.notification.is_not(None))
        .order_by(AlertEvent.at).limit(MAX_ALERTS)).all()
    return [{"rule": name, "status": e.notification, "value": e.value, "threshold": e.threshold,
             "at": e.at.strftime("%Y-%m-%d %H:%M UTC")} for e, name in rows]


def extra_sections(session, monitor_id: int, period: Period) -> list[dict]:
    found = []
    for name, build in SECTIONS.items():
        try:
            section = build(session, monitor_id, period)
        except Exception:   # a feature's section must never stop the report
            session.rollback()
            continue
        if section:
            found.append({"name": name, **section})
    return found


def gather(session, monitor, every: str, period: Period) -> Content:
    """Everything a report of `monitor` for `period` shows (reads only)."""
    start, end = rollups.resolve_range("1h", period.start, period.end, period.end)
    return Content(
        monitor_id=monitor.id, monitor_name=monitor.name, every=every, period=period,
        now=figures(session, monitor.id, period), before=figures(session, monitor.id, period.previous()),
        series=rollups.series(session, monitor.id, "1h", start, end),
        positive=top_mentions(session, monitor.id, period, "positive"),
        negative=top_mentions(session, monitor.id, period, "negative"),
        alerts=alerts(session, monitor.id, period),
        sections=extra_sections(session, monitor.id, period))
