"""Prometheus /metrics: samples of several real processes add up; ingest counts what it stores."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import ROOT
from tests.helpers import free_port, mention, new_monitor, stop_process, wait_for
from webapp.core import metrics
from webapp.core.metrics import allowed


def sample(text: str, name: str, **labels) -> float | None:
    """The value of sample `name` with exactly these labels in an exposition, else None."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def process_env(app, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (metrics.ENV, metrics.AUTO_ENV)}
    env.update(SENTIMON_INSTANCE=app.instance_path, DATABASE_URL=app.config["DATABASE_URL"],
               CELERY_BROKER_URL=app.config["CELERY_BROKER_URL"],
               CELERY_RESULT_BACKEND=app.config["CELERY_RESULT_BACKEND"], BUS_URL="sql://",
               SECRET_KEY="test-secret", BUS_CONSUMER_IN_WORKER="0", PYTHONPATH=str(ROOT))
    return env


def test_metrics_add_up_every_process_and_forget_dead_ones_live_gauges(app, tmp_path):
    folder = app.config["PROMETHEUS_MULTIPROC_DIR"]
    assert folder == os.path.join(app.instance_path, "prometheus") and os.path.isdir(folder)
    env = process_env(app, tmp_path)
    worker_log, web_log = tmp_path / "worker.log", tmp_path / "web.log"
    worker = subprocess.Popen([sys.executable, str(ROOT / "tests" / "metrics_worker.py")], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    port = free_port()
    web = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                            "--workers", "2", "wsgi:app"], cwd=ROOT, env=env, stdout=web_log.open("w"),
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "READY" in worker_log.read_text(), 60, message="the worker-like process")
        assert folder in worker_log.read_text()  # the same installation folder, found on its own
        with app.app_context():
            metrics.mentions_fetched("rss", 3)   # this (pytest) process records too

        def fetch_metrics():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                    return r.read().decode()
            except OSError:
                return None

        text = wait_for(fetch_metrics, 60, message="gunicorn serving /metrics")
        assert sample(text, "sentimon_mentions_fetched_total", kind="rss") == 10
        assert sample(text, "sentimon_mentions_stored_total", kind="push") == 2
        assert sample(text, "sentimon_task_failures_total", task="fetch.run") == 1
        assert sample(text, "sentimon_bus_consumers") == 1
        assert sample(text, "sentimon_consumer_lag", topic="mentions", group="sentimon-ingest", partition="0") == 0

        os.killpg(worker.pid, signal.SIGKILL)  # no exit hook runs: the scrape drops its live gauge
        worker.wait(timeout=30)
        text = fetch_metrics()
        assert sample(text, "sentimon_bus_consumers") == 0
        assert sample(text, "sentimon_mentions_fetched_total", kind="rss") == 10  # counters stay
    finally:
        if worker.poll() is None:
            stop_process(worker, worker_log)
        stop_process(web, web_log)


def test_a_pushed_batch_counts_scored_and_stored_mentions(app, client, auth, drain):
    monitor_id, _ = new_monitor(app, "Metrics")
    batch = [mention(i) for i in range(5)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=batch, headers=auth).status_code == 202
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=[{"external_id": "bad", "text": ""}],
                       headers=auth).status_code in (202, 422)
    drain()
    text = scrape(client)
    assert sample(text, "sentimon_mentions_scored_total", kind="push") == 5
    assert sample(text, "sentimon_mentions_stored_total", kind="push") == 5
    batches = sample(text, "sentimon_batch_seconds_count")
    assert batches >= 1 and sample(text, "sentimon_scoring_seconds_count") >= 1

    again = batch[:3] + [mention(i) for i in range(5, 7)]  # 3 repeats, 2 new
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=again, headers=auth)
    assert sample(scrape(client), "sentimon_consumer_lag", topic="mentions", group="sentimon-ingest",
                  partition="0") == 5  # one bus record per mention
    drain()
    text = scrape(client)
    assert sample(text, "sentimon_mentions_scored_total", kind="push") == 10
    assert sample(text, "sentimon_mentions_stored_total", kind="push") == 7
    assert sample(text, "sentimon_batch_seconds_count") == batches + 1
    assert sample(text, "sentimon_consumer_lag", topic="mentions", group="sentimon-ingest", partition="0") == 0


def test_access_is_loopback_or_the_bearer_token(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 403  # with a token, loopback is not enough
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                    environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert ok.status_code == 200 and b"sentimon_consumer_lag" in ok.data
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_allowed_is_a_pure_decision():
    assert allowed("127.0.0.1", {}, "") and allowed("::1", {}, "")
    assert not allowed("10.1.2.3", {}, "") and not allowed(None, {}, "") and not allowed("bogus", {}, "")
    assert not allowed("127.0.0.1", {"Forwarded": "for=192.0.2.60"}, "")
    assert allowed("203.0.113.9", {"Authorization": "bearer tok"}, "tok")
    assert not allowed("127.0.0.1", {"Authorization": "Basic tok"}, "tok")


def test_the_folder_setting_and_an_inherited_default(tmp_path):
    inst = str(tmp_path / "inst")
    assert metrics.directory_setting({}, inst) == (os.path.join(inst, "prometheus"), True)
    assert metrics.directory_setting({metrics.ENV: "/srv/prom"}, inst) == ("/srv/prom", False)
    inherited = {metrics.ENV: "/elsewhere/prometheus", metrics.AUTO_ENV: "/elsewhere/prometheus"}
    assert metrics.directory_setting(inherited, inst) == (os.path.join(inst, "prometheus"), True)


def test_celery_task_failures_and_retries_are_counted(app, client):
    from celery import shared_task

    @shared_task(name="tests.metrics_boom", bind=True, max_retries=1)
    def boom(self, retry: bool):
        if retry and not self.request.retries:
            raise self.retry(countdown=0)
        raise ValueError("boom")

    with app.app_context():
        assert boom.apply(args=(False,)).failed()
        boom.apply(args=(True,))
    text = scrape(client)
    assert sample(text, "sentimon_task_failures_total", task="tests.metrics_boom") == 2
    assert sample(text, "sentimon_task_retries_total", task="tests.metrics_boom") == 1
