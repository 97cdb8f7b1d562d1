"""A report (what to send, when, to whom) and its runs (one row per report and period).

A run row is inserted before anything is sent; the unique (report_id, slot) makes the insert
the claim, so a beat task that runs twice, or two workers that race, send a period once.
Scheduled runs have the period end as their slot; *Send now* runs a slot of their own. A run
that failed for some notifiers is tried again for those only (MAX_ATTEMPTS in all).
"""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow

EVERY = ("daily", "weekly")
FORMATS = ("html", "pdf")


class Report(db.Model):
    __tablename__ = "reports"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    every = db.Column(db.String(8), nullable=False, default="daily")      # daily | weekly
    format = db.Column(db.String(8), nullable=False, default="html")      # html | pdf
    hour = db.Column(db.Integer, nullable=False, default=8)               # 0-23, team's time zone
    weekday = db.Column(db.Integer, nullable=False, default=0)            # 0 Monday - 6 Sunday (weekly)
    notifier_ids = db.Column(db.JSON, nullable=False, default=list)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    monitor = db.relationship("Monitor")


class ReportRun(db.Model):
    __tablename__ = "report_runs"
    __table_args__ = (db.UniqueConstraint("report_id", "slot"),)

    id = db.Column(db.Integer, primary_key=True)
    report_id = db.Column(db.Integer, db.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    slot = db.Column(db.String(48), nullable=False)
    period_start = db.Column(UTCDateTime(), nullable=False)
    period_end = db.Column(UTCDateTime(), nullable=False)
    manual = db.Column(db.Boolean, nullable=False, default=False)
    status = db.Column(db.String(16), nullable=False, default="queued")  # queued | sending | retry | sent | failed
    attempts = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    sent_to = db.Column(db.JSON, nullable=False, default=list)   # notifier ids done: a retry skips them
    next_attempt_at = db.Column(UTCDateTime())                  # status retry: not before this
    error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    claimed_at = db.Column(UTCDateTime())     # when a worker took it (sending)
    sent_at = db.Column(UTCDateTime())
