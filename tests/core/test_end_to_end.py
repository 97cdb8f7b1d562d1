"""`make run` as a new user starts it: web + worker + beat; pushed mentions appear scored in the series."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webapp.scoring import sentiment

from tests.helpers import free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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


@pytest.fixture
def running(tmp_path):
    log = open(tmp_path / "run.log", "w")
    proc, base, env = start_make_run(tmp_path, log)
    try:
        def up():
            if proc.poll() is not None:
                raise AssertionError(f"make run exited with {proc.returncode}")
            return call(base, "GET", "/healthz")[0] == 200

        wait_for(up, 120, 0.5, "the web process")
        yield base, env
    finally:
        stop_process(proc, tmp_path / "run.log", signal.SIGINT)
        log.close()


def flask(env, *args, input=None) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, input=input,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def total(base, token, monitor_id):
    status, body = call(base, "GET", f"/api/v1/monitors/{monitor_id}/series?bucket=1d", token)
    return sum(b["count"] for b in body["buckets"]) if status == 200 else None


def test_make_run_end_to_end(running):
    base, env = running
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
