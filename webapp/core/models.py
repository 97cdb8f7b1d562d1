"""Leases: a named role (such as "the scheduler") held by one process at a time."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime


class Lease(db.Model):
    __tablename__ = "leases"

    name = db.Column(db.String(64), primary_key=True)
    owner = db.Column(db.String(128), nullable=False)
    expires_at = db.Column(UTCDateTime(), nullable=False)


class TaskDelivery(db.Model):
    """How often one delivery of a task (task id and retry number) has started.

    A task that kills its worker is redelivered (acks_late + reject_on_worker_lost); counting
    starts lets the worker drop it after a cap instead of crashing forever.
    """

    __tablename__ = "task_deliveries"

    key = db.Column(db.String(200), primary_key=True)
    task_name = db.Column(db.String(200), nullable=False)
    starts = db.Column(db.Integer, nullable=False, default=1)
    first_at = db.Column(UTCDateTime(), nullable=False)
