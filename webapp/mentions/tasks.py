"""`mentions.prune_retention` (beat, daily): raw mentions past their monitor's retention go."""
from __future__ import annotations

from datetime import datetime, timezone

from celery import shared_task

from webapp.core.extensions import db


@shared_task(name="mentions.prune_retention", time_limit=900, soft_time_limit=840)
def prune_retention() -> dict:
    from webapp.mentions.retention import prune_all

    counts = prune_all(db.session, datetime.now(timezone.utc))
    return {str(mid): n for mid, n in counts.items()}
