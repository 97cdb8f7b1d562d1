"""Alert tasks in a real Celery worker on the embedded broker: beat's evaluate_due fans out,
the rule fires, notify.deliver signs and sends the webhook; a second evaluate_due finds nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.alerting.models import Delivery
from webapp.alerting.windows import slot_end, window_slot

from tests.alert_fixtures import push, webhook_server  # noqa: F401  (fixture)
from tests.helpers import app_config
from tests.helpers import new_monitor, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def alert_worker(app, tmp_path):
    cfg = app_config(tmp_path)
    env = {**os.environ, "SENTIMON_INSTANCE": cfg["INSTANCE_PATH"], "SECRET_KEY": cfg["SECRET_KEY"],
           "BUS_CONSUMER_IN_WORKER": "0", "PUBLIC_URL": "http://sentimon.test"}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL", "EGRESS_ALLOW"):
        env[key] = cfg[key]
    log = open(tmp_path / "alert-worker.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--pool", "threads", "--concurrency", "2",
         "-Q", "alerts,notify", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    stop_process(proc, tmp_path / "alert-worker.log")
    log.close()


def test_beat_task_to_signed_webhook_in_a_real_worker(app, client, auth, drain, webhook_server, alert_worker):
    monitor_id, _ = new_monitor(app, name="Worker")
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url}, headers=auth).json
    client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "avg_sentiment", "window": "1h", "threshold": -0.3, "min_mentions": 2, "notifiers": [hook["id"]]})
    closed = slot_end(window_slot(datetime.now(timezone.utc), 120))
    push(client, auth, drain, monitor_id, [
        {"external_id": f"w{i}", "text": "awful, broken and terrible", "published_at":
         (closed - timedelta(minutes=10)).isoformat()} for i in range(3)])

    celery_app = app.extensions["celery"]
    assert celery_app.send_task("alerts.evaluate_due").get(timeout=60) == 1
    wait_for(lambda: webhook_server.requests, 60, message="the firing webhook")
    body = json.loads(webhook_server.requests[0].body)
    assert body["type"] == "alert.firing" and body["data"]["link"].startswith("http://sentimon.test/")
    assert webhook_server.requests[0].headers["webhook-signature"].startswith("v1,")

    assert celery_app.send_task("alerts.evaluate_due").get(timeout=60) == 0   # the slot is done

    def delivered():
        with app.app_context():
            done = db.session.execute(select(func.count()).select_from(Delivery)
                                      .where(Delivery.status == "sent")).scalar()
            db.session.remove()
            return done == 1
    wait_for(delivered, 30, message="the delivery to be recorded as sent")
    assert len(webhook_server.requests) == 1
