"""Backfills: fetching a monitor's history over a time range, in slices that resume after a crash.

A backfill is split into slices (one source, one time window each). A slice's `page` is the
adapter's pagination state after the last page that was published: the checkpoint a resumed
slice continues from. `attempts` counts the claims of a slice and doubles as a fencing token:
only the runner holding the latest claim may write the slice's checkpoint.
"""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow

BACKFILL_STATUSES = ("queued", "running", "done", "failed", "cancelled")
SLICE_STATUSES = ("pending", "running", "done", "failed")


class Backfill(db.Model):
    __tablename__ = "backfills"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(
        db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    since = db.Column(UTCDateTime(), nullable=False)
    until = db.Column(UTCDateTime(), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="queued")
    # Sources of the monitor that were not backfilled, and why: [{"source_id", "kind", "reason"}].
    skipped = db.Column(db.JSON, nullable=False, default=list)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at = db.Column(UTCDateTime())
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))

    slices = db.relationship(
        "BackfillSlice", back_populates="backfill", cascade="all, delete-orphan",
        passive_deletes=True, order_by="BackfillSlice.id",
    )


class BackfillSlice(db.Model):
    __tablename__ = "backfill_slices"
    __table_args__ = (
        db.Index("ix_backfill_slices_backfill_status", "backfill_id", "status"),
        db.Index("ix_backfill_slices_status_updated", "status", "updated_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    backfill_id = db.Column(
        db.Integer, db.ForeignKey("backfills.id", ondelete="CASCADE"), nullable=False
    )
    source_id = db.Column(db.Integer, db.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    since = db.Column(UTCDateTime(), nullable=False)
    until = db.Column(UTCDateTime(), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="pending")
    page = db.Column(db.JSON, nullable=False, default=dict)  # the checkpoint
    fetched = db.Column(db.Integer, nullable=False, default=0)
    published = db.Column(db.Integer, nullable=False, default=0)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.Text)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    backfill = db.relationship(Backfill, back_populates="slices")
