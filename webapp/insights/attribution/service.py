"""Spike attribution for one time bucket of a monitor: reads that bucket's raw mentions (at most
MAX_READ of them, a sample beyond), the rule's baseline from rollups, and the term rollups of the
week before; the decisions are in decompose.py and minhash.py.

Used when a volume_spike rule fires (webapp/alerting/evaluation.py puts the result in the alert's
details and payload) and on demand (`GET /api/v1/monitors/<id>/attribution`).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.alerting import baseline as baselines
from webapp.alerting.windows import load_series
from webapp.ingest import term_rollups
from webapp.ingest.models import Mention
from webapp.ingest.rollups import bucket_start
from webapp.insights.attribution import decompose
from webapp.insights.terms import rising
from webapp.insights.terms.extract import extract
from webapp.monitors.models import Source

MAX_READ = 5_000
TERM_HISTORY = timedelta(days=7)


def baseline(session, monitor_id: int, start: datetime, end: datetime) -> baselines.Baseline | None:
    """The volume_spike rule's baseline for the window [start, end) (None: too little history)."""
    length = end - start
    series = load_series(session, monitor_id, end - length - baselines.SPAN, end)
    return baselines.baseline_for(series, end, length)


def rising_terms(session, monitor_id: int, items: list[decompose.Item], start: datetime, scale: float) -> list[dict]:
    """The bucket's terms that rose most against the term rollups of the TERM_HISTORY before it."""
    current = Counter(t for item in items for t in extract(item.text))
    if not current:
        return []
    history_end = bucket_start(start, "1d")
    previous, n_prev = term_rollups.window_totals(session, monitor_id, "1d", history_end - TERM_HISTORY,
                                                  history_end, [t for t, n in current.items() if n >= 2])
    counts = {t: (round(n * scale), previous.get(t, 0)) for t, n in current.items()}
    n_cur = sum(c for c, _ in counts.values())
    return [{"term": t, "count": counts[t][0], "previous": counts[t][1], "rising": round(z, 2)}
            for t, z in rising.top_rising(counts, n_cur, n_prev, decompose.TOP)]


def explain(session, monitor_id: int, start: datetime, end: datetime,
            expected: float | None = None, method: str | None = None) -> dict:
    """The attribution of [start, end); `expected` is the baseline count when the caller has it
    (a firing rule), else it is computed as the volume_spike rule would."""
    if expected is None:
        found = baseline(session, monitor_id, start, end)
        expected, method = (found.median, found.method) if found else (None, None)
    window = (Mention.monitor_id == monitor_id, Mention.muted.is_(False),
              Mention.published_at >= start, Mention.published_at < end)
    count = session.execute(select(func.count()).select_from(Mention).where(*window)).scalar() or 0
    names = {sid: s.display_name for sid, s in ((s.id, s) for s in session.execute(
        select(Source).where(Source.monitor_id == monitor_id)).scalars())}
    rows = session.execute(select(Mention.text, Mention.source_id, Mention.author, Mention.url)
                           .where(*window).order_by(Mention.id).limit(MAX_READ)).all()
    items = [decompose.Item(text, names.get(sid, f"source {sid}"), author, url) for text, sid, author, url in rows]
    scale = count / len(items) if items else 1.0
    from webapp.insights.attribution import minhash  # NumPy (~10 MB) only in a process that attributes

    result = decompose.attribute(items, count, expected, minhash.clusters([i.text for i in items]),
                                 rising_terms(session, monitor_id, items, start, scale))
    return {"start": start.isoformat(), "end": end.isoformat(), "baseline_method": method, **result}
