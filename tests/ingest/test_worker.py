"""A real Celery worker on the embedded broker: fetch tasks run, and its bootstep consumes the bus."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.monitors.models import Source

from tests.helpers import app_config
from tests.helpers import free_port, new_monitor, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def service_env(cfg: dict) -> dict:
    env = {**os.environ, "SENTIMON_INSTANCE": cfg["INSTANCE_PATH"], "SECRET_KEY": cfg["SECRET_KEY"]}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL", "EGRESS_ALLOW"):
        env[key] = cfg[key]
    return env


@pytest.fixture
def worker(app, tmp_path):
    cfg = app_config(tmp_path)
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--pool", "threads", "--concurrency", "2",
         "-Q", "celery,fetch,alerts,notify", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=service_env(cfg), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    yield proc
    stop_process(proc, tmp_path / "worker.log")
    log.close()


def test_fetch_task_runs_in_a_real_worker_and_its_consumer_stores(app, worker):
    monitor_id, _ = new_monitor(app, sources=[{"kind": "demo", "every": 60}])
    celery_app = app.extensions["celery"]
    with app.app_context():
        source_id = db.session.execute(select(Source.id).where(Source.kind == "demo")).scalar_one()
    result = celery_app.send_task("fetch.run", args=[source_id, 42])
    report = result.get(timeout=60)
    assert report["status"] == "ok" and report["published"] > 0

    def stored():
        with app.app_context():
            count = db.session.execute(select(func.count()).select_from(Mention)).scalar()
            db.session.remove()
            return count == report["published"] and count

    wait_for(stored, 60, message="the worker's consumer to store the fetched mentions")


def test_dispatch_due_fans_out_fetches(app, worker):
    # Hours apart, so that neither is due again by the second tick however slow the fetches are.
    new_monitor(app, sources=[{"kind": "demo", "every": 3600}, {"kind": "demo", "every": 7200}])
    celery_app = app.extensions["celery"]
    assert celery_app.send_task("fetch.dispatch_due").get(timeout=60) == 2

    def fetched():
        with app.app_context():
            statuses = db.session.execute(select(Source.last_status).where(Source.kind == "demo")).scalars().all()
            db.session.remove()
            return statuses == ["ok", "ok"]

    wait_for(fetched, 60, message="both demo sources to be fetched")
    assert celery_app.send_task("fetch.dispatch_due").get(timeout=60) == 0


def test_a_task_that_kills_its_worker_is_dropped_after_the_delivery_cap(app, tmp_path):
    env = {**service_env(app_config(tmp_path)), "CELERY_EXTRA_IMPORTS": "tests.crashing_tasks",
           "CELERY_MAX_DELIVERIES": "3", "BUS_CONSUMER_IN_WORKER": "0"}
    log = tmp_path / "prefork.log"
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--pool", "prefork", "--concurrency", "1",
         "-Q", "celery", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        marker = tmp_path / "starts.txt"
        result = app.extensions["celery"].send_task("testing.crash", args=[str(marker)])
        assert result.get(timeout=120) is None  # the fourth delivery was dropped, not run
        assert marker.read_text().count("started") == 3
        assert "dropping task testing.crash" in log.read_text()
    finally:
        stop_process(proc, log)


def test_a_worker_with_worker_metrics_port_serves_its_machines_samples(app, tmp_path):
    """A host without a web process: its worker answers /metrics (loopback or METRICS_TOKEN)."""
    import urllib.error
    import urllib.request

    port = free_port()
    env = {**service_env(app_config(tmp_path)), "WORKER_METRICS_PORT": str(port), "METRICS_TOKEN": "w-token"}
    log = open(tmp_path / "metrics-worker.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--pool", "threads", "--concurrency", "1",
         "-Q", "celery", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def scrape(token):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                             headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return answer.status, answer.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, ""
            except OSError:
                return None, ""

        status, body = wait_for(lambda: (lambda r: r if r[0] else None)(scrape("w-token")), 60,
                                message="the worker's /metrics")
        assert status == 200 and "sentimon_bus_consumers" in body   # its consumer's live gauge
        assert scrape("wrong")[0] == 403
    finally:
        stop_process(proc, tmp_path / "metrics-worker.log")
        log.close()
