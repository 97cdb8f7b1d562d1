"""Change a monitor's scorer and re-score its stored mentions, with its rollups following.

Re-scoring walks the monitor's mentions in id order (keyset pagination: no OFFSET, so the
cost per chunk stays flat), scores each chunk as one batch and updates compound, pos, neu,
neg and label by primary key (a mention whose label an editor overrode keeps that label; its
`scored_label` takes the new scorer's). The monitor's lexicon adjustments apply, as at ingest. Each chunk commits on its own (progress is visible and no
transaction grows with the monitor); the last chunk commits together with the rebuild of the
monitor's rollups from its mentions, so the charts switch to the new scorer at once.
Mentions that arrive meanwhile are scored by the new scorer at ingest (the monitor names it
before re-scoring starts). A run stops early when the monitor's scorer changes under it: the
run started by that change does the work.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import func, select, update

from webapp.ingest.models import Mention
from webapp.monitors.models import Monitor
from webapp.scoring import lexicon, scorers
from webapp.ingest import rollups, term_rollups

CHUNK = 500


def change_scorer(session, monitor: Monitor, name: str) -> str:
    """Set `monitor`'s scorer after checking that it exists (UnknownScorer otherwise); commits."""
    name = scorers.check_name(session, name)
    monitor.scorer = name
    session.commit()
    return name


def rescore_monitor(session, monitor_id: int, chunk: int = CHUNK,
                    progress: Callable[[int, int], None] | None = None) -> dict:
    """Re-score every stored mention of the monitor with its current scorer; rebuild its rollups.

    `progress(done, total)` is called after every committed chunk. Raises LookupError for an
    unknown monitor and UnknownScorer when its scorer cannot be loaded.
    """
    monitor = session.get(Monitor, monitor_id)
    if monitor is None:
        raise LookupError(f"no monitor with id {monitor_id}")
    name = monitor.scorer or scorers.DEFAULT
    scorers.get_scorer(session, name)  # UnknownScorer now rather than a silent VADER fallback
    scorer = scorers.layered(session, name, lexicon.adjustments(session, monitor_id))
    total = session.execute(select(func.count()).select_from(Mention).where(Mention.monitor_id == monitor_id)).scalar()
    report = {"monitor_id": monitor_id, "scorer": name, "done": 0, "total": total, "status": "done"}
    tell = progress or (lambda _done, _total: None)
    tell(0, total)
    last_id = 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.text, Mention.overridden_at).where(Mention.monitor_id == monitor_id, Mention.id > last_id)
            .order_by(Mention.id).limit(chunk)
        ).all()
        if rows:
            scores = scorer.score_batch([text for _, text, _ in rows])
            for kept in (False, True):  # an overridden label stays; its scored_label follows
                changes = [{"id": row_id, "compound": s.compound, "pos": s.pos, "neu": s.neu, "neg": s.neg,
                            ("scored_label" if kept else "label"): s.label}
                           for (row_id, _, overridden), s in zip(rows, scores) if bool(overridden) == kept]
                if changes:
                    session.execute(update(Mention), changes)
            last_id = rows[-1][0]
            report["done"] += len(rows)
            report["total"] = max(report["total"], report["done"])
        if len(rows) < chunk:
            break
        session.commit()
        tell(report["done"], report["total"])
        current = session.execute(select(Monitor.scorer).where(Monitor.id == monitor_id)).scalar()
        if current != name:
            report["status"] = "superseded"
            return report
    report["rollups"] = rollups.rebuild(session, monitor_id)
    term_rollups.rebuild(session, monitor_id)   # the terms' sentiment sums follow the new scores
    session.commit()
    tell(report["done"], report["total"])
    return report
