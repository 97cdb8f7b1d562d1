"""`terms.fold_due` (beat, every TERMS_FOLD_EVERY seconds): closed days of the hourly term rollups
are folded into 1d and 1w rows (ingest/term_fold.py); claimed per monitor, re-running is a no-op."""
from __future__ import annotations

from datetime import datetime, timezone

from celery import shared_task

from webapp.core.extensions import db


@shared_task(name="terms.fold_due", time_limit=900, soft_time_limit=840)
def fold_due() -> dict:
    from webapp.ingest.term_fold import fold_due as fold

    counts = fold(db.session, datetime.now(timezone.utc))
    return {str(mid): n for mid, n in counts.items() if n}
