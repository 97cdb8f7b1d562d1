"""`make run` as a new user starts it: web + worker + beat; pushed mentions appear scored in the series.
Then it heals itself: a worker killed with SIGKILL is started again (scripts/run.py) while the web keeps
answering, pushed mentions are then stored, and Ctrl-C ends every process it started.

The single-machine layout: two Procfile processes, the web and the worker, whose threads run the bus
consumer and the beat scheduler (`--beat-thread`): the demo is fetched on beat's schedule. One `make
run` serves the module's tests, in order (the last one ends it with Ctrl-C); the xdist group keeps
them on one pytest worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webapp.scoring import sentiment

from tests.core.test_run_supervisor import group_alive, healthz, started
from tests.helpers import free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("make-run")


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet, or slow to answer
        return None, None


def start_make_run(tmp_path, log):
    """`make run` on a free port and a fresh instance folder, as a new user starts it (own session)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SENTIMON_INSTANCE": str(tmp_path / "instance"),
           "FETCH_DISPATCH_EVERY": "2"}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL", "SECRET_KEY"):
        env.pop(key, None)
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", env


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """One `make run` for the module's tests: (base URL, environment, make's process, its log)."""
    tmp_path = tmp_path_factory.mktemp("make-run")
    log_path = tmp_path / "run.log"
    log = open(log_path, "w")
    proc, base, env = start_make_run(tmp_path, log)

    def up():
        assert proc.poll() is None, f"make run exited with {proc.returncode}"
        return healthz(base) == 200

    try:
        wait_for(up, 120, 0.5, "the web process")
        yield base, env, proc, log_path
    finally:
        if proc.poll() is None:
            stop_process(proc, log_path, signal.SIGINT)
        for pids in started(log_path).values():
            for pid in pids:
                if group_alive(pid):
                    os.killpg(pid, signal.SIGKILL)
        log.close()
        print(log_path.read_text(errors="replace")[-6000:])


def flask(env, *args, input=None) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, input=input,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def total(base, token, monitor_id):
    status, body = call(base, "GET", f"/api/v1/monitors/{monitor_id}/series?bucket=1d", token)
    return sum(b["count"] for b in body["buckets"]) if status == 200 else None


def test_make_run_end_to_end(make_run):
    base, env, _proc, _log = make_run
    flask(env, "create-user", "e2e@example.com", "--password", "e2e password")
    token = flask(env, "create-token", "e2e@example.com").strip().splitlines()[-1]

    # The demo monitor fills itself from the bundled sample set (beat -> fetch -> bus -> worker).
    status, monitors = call(base, "GET", "/api/v1/monitors", token)
    assert status == 200 and monitors[0]["name"].endswith("(demo)")
    wait_for(lambda: (total(base, token, monitors[0]["id"]) or 0) > 0, 90, 0.5, "demo mentions")

    status, monitor = call(base, "POST", "/api/v1/monitors", token, {"name": "Pushed", "query": ""})
    assert status == 201
    mid = monitor["id"]
    items = [{"external_id": f"e{i}", "text": f"Item {i}: {'love it' if i % 3 else 'hate it'}"} for i in range(300)]
    assert call(base, "POST", f"/api/v1/monitors/{mid}/mentions", token, items) == (202, {"accepted": 300})
    wait_for(lambda: total(base, token, mid) == 300, 30, 0.25, "300 mentions in the series")
    status, listed = call(base, "GET", f"/api/v1/monitors/{mid}/mentions?limit=1000", token)
    assert listed["total"] == 300
    texts = {i["external_id"]: i["text"] for i in items}
    for got in listed["items"]:  # scored as VADER scores it ("187" is in VADER's lexicon, negative)
        assert got["compound"] == sentiment.score_text(texts[got["external_id"]]).compound

    # Again: nothing new. A later sentinel proves the repeat was consumed (one ordered log).
    call(base, "POST", f"/api/v1/monitors/{mid}/mentions", token, items)
    call(base, "POST", f"/api/v1/monitors/{mid}/mentions", token, [{"external_id": "sentinel", "text": "ok"}])
    wait_for(lambda: total(base, token, mid) == 301, 30, 0.25, "the sentinel")
    assert call(base, "GET", f"/api/v1/monitors/{mid}/mentions", token)[1]["total"] == 301


def test_make_run_restarts_a_killed_worker_while_the_web_serves(make_run):
    base, env, proc, log = make_run
    text = log.read_text()
    assert f"Sentimon on {base}" in text and "sentimon-demo" in text  # the URL and demo credentials
    flask(env, "create-user", "heal@example.com", "--password", "heal password")
    token = flask(env, "create-token", "heal@example.com").strip().splitlines()[-1]
    status, monitor = call(base, "POST", "/api/v1/monitors", token, {"name": "Healing", "query": ""})
    assert status == 201
    mid = monitor["id"]
    assert call(base, "POST", f"/api/v1/monitors/{mid}/mentions", token,
                [{"external_id": "before", "text": "fine"}])[0] == 202
    wait_for(lambda: total(base, token, mid) == 1, 60, 0.25, "the first mention stored")

    # The web is asked every 0.2 s for the whole time the worker is dead and restarting.
    answers: list[int | None] = []
    done = threading.Event()

    def probe():
        while not done.is_set():
            answers.append(healthz(base))
            done.wait(0.2)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        assert set(started(log)) == {"web", "worker"}  # beat and the consumer are threads of the worker
        worker = started(log)["worker"][-1]
        web = started(log)["web"][-1]
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: len(started(log).get("worker", [])) == 2, 30, 0.2, "a new worker")
        assert "killed by signal 9" in log.read_text()
        # Pushed while the new worker starts: stored once it consumes.
        assert call(base, "POST", f"/api/v1/monitors/{mid}/mentions", token,
                    [{"external_id": "after", "text": "still fine"}])[0] == 202
        wait_for(lambda: total(base, token, mid) == 2, 90, 0.25, "the mention pushed after the kill")
    finally:
        done.set()
        prober.join(5)
    assert answers and set(answers) == {200}, f"the web did not answer every probe: {answers}"
    assert started(log)["web"] == [web]
    # The worker's beat thread schedules: the demo's source is fetched (beat -> fetch -> bus -> consumer).
    status, monitors = call(base, "GET", "/api/v1/monitors", token)
    demo = next(m for m in monitors if m["name"].endswith("(demo)"))
    wait_for(lambda: (total(base, token, demo["id"]) or 0) > 0, 120, 0.5, "the demo fetched on beat's schedule")

    # Ctrl-C (SIGINT to make's process group, as a terminal does): every process group ends.
    started_at = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)
    assert time.monotonic() - started_at < 30
    groups = [pid for pids in started(log).values() for pid in pids]
    wait_for(lambda: not any(group_alive(pid) for pid in groups), 15, 0.2, "every child process gone")
    assert "all stopped" in log.read_text()
