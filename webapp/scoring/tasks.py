"""Scoring tasks: re-score a monitor's stored mentions after its scorer changed."""
from __future__ import annotations

from celery import shared_task

from webapp.core.extensions import db
from webapp.scoring import rescoring


@shared_task(bind=True, name="scoring.rescore_monitor", time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def rescore_monitor(self, monitor_id: int) -> dict:
    """Re-score the monitor's mentions with its current scorer; progress is PROGRESS {done, total}."""
    def progress(done: int, total: int) -> None:
        if self.request.id:  # not when called in-process
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return rescoring.rescore_monitor(db.session, monitor_id, progress=progress)
