"""`terms.fold_deltas` (beat, every TERMS_DELTAS_FOLD_EVERY seconds): ingest's pending term deltas
are folded into the term rollups (ingest/term_deltas.py).
`terms.fold_due` (beat, every TERMS_FOLD_EVERY seconds): closed days of the hourly term rollups
are folded into 1d and 1w rows (ingest/term_fold.py); claimed per monitor, re-running is a no-op.
The same job builds the author totals of monitors without today's (insights/author_totals.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from celery import shared_task

from webapp.core.extensions import db


@shared_task(name="terms.fold_deltas", time_limit=300, soft_time_limit=280)
def fold_deltas() -> int:
    """Fold the pending term deltas into the term rollups (ingest/term_deltas.py)."""
    from webapp.ingest.term_deltas import fold_due as fold

    return fold(db.session)


@shared_task(name="terms.fold_due", time_limit=900, soft_time_limit=840)
def fold_due() -> dict:
    from webapp.ingest.term_fold import fold_due as fold

    from webapp.insights.author_totals import refresh_due

    now = datetime.now(timezone.utc)
    counts = fold(db.session, now)
    refresh_due(db.session, now)
    return {str(mid): n for mid, n in counts.items() if n}
