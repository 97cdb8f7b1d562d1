"""The beat entries of reports and retention name registered tasks, and the tasks do their work."""
from __future__ import annotations

import importlib
from datetime import timedelta

import celeryconfig

from webapp.core.extensions import db
from webapp.reports.models import Report, ReportRun

from tests.reports.conftest import NOW


def test_beat_schedules_registered_tasks(app):
    for module in celeryconfig.imports:
        importlib.import_module(module)
    celery = app.extensions["celery"]
    scheduled = {entry["task"] for entry in celeryconfig.beat_schedule.values()}
    assert {"reports.send_due", "mentions.prune_retention"} <= scheduled
    assert {"reports.send_due", "reports.send", "mentions.prune_retention"} <= set(celery.tasks)


def test_send_due_claims_and_queues_and_send_sends(app, client, auth, reported, smtp_server):
    from webapp.mentions.tasks import prune_retention
    from webapp.reports import tasks

    monitor_id, notifier_id = reported
    body = {"every": "daily", "notifiers": [notifier_id], "hour": NOW.hour}
    report_id = client.post(f"/api/v1/monitors/{monitor_id}/reports", json=body, headers=auth).get_json()["id"]
    with app.app_context():
        db.session.get(Report, report_id).created_at = NOW - timedelta(days=2)
        db.session.commit()
        assert tasks.send_due() == 1            # claimed and queued (the broker holds the task)
        assert tasks.send_due() == 0            # claimed already, not stale yet
        run_id = db.session.query(ReportRun.id).scalar()
        assert tasks.send(run_id) == "sent" and tasks.send(run_id) == "skipped"
        assert prune_retention() == {}          # no monitor has a retention
    assert len(smtp_server.messages) == 1
