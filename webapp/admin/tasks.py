"""Housekeeping tasks."""
from __future__ import annotations

from datetime import datetime, timezone

from celery import shared_task

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.services import health
from webapp.core import leases
from webapp.ingest.bus import MENTIONS_TOPIC


@shared_task(name="maintenance.prune", time_limit=600, soft_time_limit=540)
def prune() -> dict:
    """Drop consumed SQL-log records (Kafka keeps its own retention), old delivery counts and
    source fetch records older than 30 days."""
    bus = runtime.bus()
    prune_bus = getattr(bus, "prune", None)
    fetches = health.prune(db.session, datetime.now(timezone.utc))
    db.session.commit()
    return {
        "bus_records": prune_bus(MENTIONS_TOPIC) if prune_bus else 0,
        "task_deliveries": leases.prune_deliveries(db.engine),
        "source_fetches": fetches,
    }
