"""Exactly one report per period: two workers that run the due-reports task at the same moment
claim each (report, period) once, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from webapp.core.extensions import db
from webapp.reports.models import Report, ReportRun
from webapp.reports.services import runs
from webapp.alerting.notifiers.tasks import context

from tests.reports.conftest import END, NOW

pytestmark = pytest.mark.both_databases


def _race(app, work, n=2):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(10)
                results.append(work())
                db.session.remove()
        except Exception as exc:   # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_two_workers_racing_send_each_period_once(app, client, auth, reported, smtp_server):
    monitor_id, notifier_id = reported
    ids = []
    for hour_shift in range(3):   # three reports due at once
        body = {"every": "daily", "notifiers": [notifier_id], "hour": (END - timedelta(hours=hour_shift)).hour}
        answer = client.post(f"/api/v1/monitors/{monitor_id}/reports", json=body, headers=auth)
        assert answer.status_code == 201
        ids.append(answer.get_json()["id"])
    with app.app_context():
        for report_id in ids:
            db.session.get(Report, report_id).created_at = NOW - timedelta(days=2)
        db.session.commit()

    def run_due():
        ctx = context()
        return [runs.execute(db.session, run_id, ctx) for run_id in runs.send_due(db.session, NOW)]

    results = _race(app, run_due)
    assert sorted(status for result in results for status in result) == ["sent"] * 3
    assert len(smtp_server.messages) == 3
    with app.app_context():
        assert db.session.query(ReportRun).count() == 3
        assert {r.status for r in db.session.query(ReportRun)} == {"sent"}
    # The same run executed by two tasks at once (a redelivered task) is sent once too.
    answer = client.post(f"/api/v1/reports/{ids[0]}/send", headers=auth)
    run_id = answer.get_json()["run_id"]
    outcomes = _race(app, lambda: runs.execute(db.session, run_id, context()))
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(smtp_server.messages) == 4


def test_the_unique_row_is_the_claim(app, client, auth, reported):
    from webapp.reports.services import schedule

    monitor_id, notifier_id = reported
    body = {"every": "weekly", "notifiers": [notifier_id], "hour": 3, "weekday": 2}
    report_id = client.post(f"/api/v1/monitors/{monitor_id}/reports", json=body, headers=auth).get_json()["id"]
    period = schedule.latest("weekly", 3, 2, schedule.zone("UTC"), NOW)
    claimed = _race(app, lambda: runs.claim(db.session, db.session.get(Report, report_id), period, NOW), n=4)
    assert sorted(claimed, key=lambda x: x is None)[1:] == [None] * 3 and claimed.count(None) == 3
