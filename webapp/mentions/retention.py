"""Retention: raw mentions older than their monitor's `retention_days` are deleted, rollups stay.

Charts, series and alert baselines read rollups only, so they keep their counts after pruning.
Deletion goes in bounded batches (BATCH ids per transaction, oldest first) so that no lock is
held for long and ingest keeps going meanwhile. `Monitor.pruned_before` records the cutoff so
that the mentions page and exports can say from when raw mentions exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from webapp.ingest.models import Mention
from webapp.monitors.models import Monitor

BATCH = 5000
MIN_DAYS = 7
MAX_DAYS = 36500


class RetentionInvalid(ValueError):
    """A retention_days value that is neither null nor a whole number >= MIN_DAYS."""


def check_days(value) -> int | None:
    """None (keep forever) or a whole number of days from MIN_DAYS to MAX_DAYS; else RetentionInvalid."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise RetentionInvalid("retention_days must be null or a whole number of days")
    if not MIN_DAYS <= value <= MAX_DAYS:
        raise RetentionInvalid(f"retention_days must be from {MIN_DAYS} to {MAX_DAYS} (or null: keep forever)")
    return value


def cutoff(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def prune_monitor(session, monitor_id: int, now: datetime, batch: int = BATCH) -> int:
    """Delete the monitor's raw mentions older than its retention, `batch` per transaction
    (commits each); returns how many were deleted. Nothing happens without retention_days."""
    days = session.execute(select(Monitor.retention_days).where(Monitor.id == monitor_id)).scalar()
    session.rollback()
    if not days:
        return 0
    before = cutoff(days, now)
    session.execute(update(Monitor).where(Monitor.id == monitor_id)
                    .values(pruned_before=before).execution_options(synchronize_session=False))
    session.commit()
    deleted = 0
    while True:
        ids = list(session.execute(
            select(Mention.id).where(Mention.monitor_id == monitor_id, Mention.published_at < before)
            .order_by(Mention.published_at, Mention.id).limit(batch)).scalars())
        if not ids:
            break
        deleted += session.execute(delete(Mention).where(Mention.id.in_(ids))
                                   .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if len(ids) < batch:
            break
    session.commit()
    return deleted


def prune_all(session, now: datetime, monitor_id: int | None = None, batch: int = BATCH) -> dict[int, int]:
    """prune_monitor for every monitor with a retention (or only `monitor_id`): {monitor id: deleted}."""
    query = select(Monitor.id).where(Monitor.retention_days.is_not(None)).order_by(Monitor.id)
    if monitor_id is not None:
        query = query.where(Monitor.id == monitor_id)
    ids = list(session.execute(query).scalars())
    session.rollback()
    return {mid: prune_monitor(session, mid, now, batch) for mid in ids}


def pruned_note(monitor) -> str | None:
    """"mentions before <date> were pruned", or None while every raw mention is kept."""
    when = getattr(monitor, "pruned_before", None)
    if when is None:
        return None
    return f"mentions before {when.strftime('%Y-%m-%d %H:%M')} UTC were pruned"
