"""Housekeeping tasks."""
from __future__ import annotations

from celery import shared_task

from webapp import runtime
from webapp.services.bus import MENTIONS_TOPIC


@shared_task(name="bus.prune", ignore_result=True)
def prune_bus() -> int:
    """Drop consumed records from the SQL-log bus (Kafka keeps its own retention)."""
    bus = runtime.bus()
    prune = getattr(bus, "prune", None)
    return prune(MENTIONS_TOPIC) if prune else 0
