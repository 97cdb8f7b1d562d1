"""Where a backfill stands: slice counts, mentions fetched and published, recent errors.

The status shown is derived from the slices at read time (services.backfill.overall_status),
so a page or the CLI always shows the truth even while slices finish concurrently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from webapp.monitors.backfill.models import Backfill, BackfillSlice
from webapp.monitors.backfill.service import TERMINAL, overall_status, status_counts


@dataclass
class Progress:
    id: int
    monitor_id: int
    status: str
    since: datetime
    until: datetime
    created_at: datetime
    finished_at: datetime | None
    total: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    pending: int = 0
    fetched: int = 0
    published: int = 0
    skipped: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def as_dict(self) -> dict:
        return {
            "id": self.id, "monitor_id": self.monitor_id, "status": self.status,
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "slices": {"total": self.total, "done": self.done, "failed": self.failed,
                       "running": self.running, "pending": self.pending},
            "percent": round(100.0 * self.done / self.total, 1) if self.total else 0.0,
            "fetched": self.fetched, "published": self.published,
            "skipped": self.skipped, "errors": self.errors, "finished": self.finished,
        }


def progress(session, backfill_id: int) -> Progress | None:
    """Where a backfill stands (status derived from its slices, so always current), or None."""
    backfill = session.get(Backfill, backfill_id)
    if backfill is None:
        return None
    session.refresh(backfill)
    counts = status_counts(session, backfill_id)
    fetched, published = session.execute(
        select(func.coalesce(func.sum(BackfillSlice.fetched), 0), func.coalesce(func.sum(BackfillSlice.published), 0))
        .where(BackfillSlice.backfill_id == backfill_id)).one()
    errors = session.execute(
        select(BackfillSlice.source_id, BackfillSlice.since, BackfillSlice.error)
        .where(BackfillSlice.backfill_id == backfill_id, BackfillSlice.error.is_not(None))
        .order_by(BackfillSlice.updated_at.desc()).limit(5)).all()
    return Progress(
        id=backfill.id, monitor_id=backfill.monitor_id, status=overall_status(counts, backfill.status),
        since=backfill.since, until=backfill.until, created_at=backfill.created_at,
        finished_at=backfill.finished_at, total=sum(counts.values()), done=counts.get("done", 0),
        failed=counts.get("failed", 0), running=counts.get("running", 0), pending=counts.get("pending", 0),
        fetched=int(fetched), published=int(published), skipped=list(backfill.skipped or []),
        errors=[{"source_id": s, "day": since.date().isoformat(), "error": e} for s, since, e in errors],
    )


def recent(session, monitor_id: int, limit: int = 20) -> list[Progress]:
    """The monitor's latest backfills, newest first, with their progress."""
    ids = session.execute(select(Backfill.id).where(Backfill.monitor_id == monitor_id)
                          .order_by(Backfill.id.desc()).limit(limit)).scalars().all()
    return [p for p in (progress(session, i) for i in ids) if p is not None]
