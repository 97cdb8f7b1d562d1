"""`make run` heals itself: a worker killed with SIGKILL is started again (scripts/run.py) while the web
keeps answering, pushed mentions are then stored, and Ctrl-C ends every process it started.

The single-machine layout: two Procfile processes, the web and the worker, whose threads run the
bus consumer and the beat scheduler (`--beat-thread`): the demo is fetched on beat's schedule."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.core.test_end_to_end import call, flask, start_make_run, total
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import run as supervisor  # noqa: E402  (scripts/run.py: standard library only)

STARTED = re.compile(r"\| (\w+) started with pid (\d+)")


def started(log: Path) -> dict[str, list[int]]:
    """Pids of each process in the order the supervisor started them (from its output)."""
    pids: dict[str, list[int]] = {}
    for name, pid in STARTED.findall(log.read_text(errors="replace")):
        pids.setdefault(name, []).append(int(pid))
    return pids


def healthz(base: str, timeout: float = 30) -> int | str:
    """/healthz's status, or why there was none (a slow answer on a loaded machine is not a refusal)."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:  # refused, reset, timed out
        return f"{type(exc).__name__}: {exc}"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test_backoff_doubles_to_the_cap_and_resets_after_a_steady_run():
    waits, previous = [], None
    for _ in range(8):
        previous = supervisor.next_backoff(previous, uptime=0.5)
        waits.append(previous)
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]
    assert supervisor.next_backoff(30, uptime=supervisor.STEADY_AFTER) == 1


def test_crash_loop_counts_exits_in_the_window():
    assert not supervisor.crash_loop([0, 1, 2, 3], now=4)
    assert supervisor.crash_loop([0, 1, 2, 3, 4], now=4)
    assert not supervisor.crash_loop([0, 1, 2, 3, 4], now=4 + supervisor.LOOP_WINDOW + 1)


def test_a_crashing_process_is_restarted_with_backoff_and_reported(tmp_path):
    """A Procfile line that always fails (or cannot start): restarted after 1, 2, 4 ... s; the loop is
    named with its output; the steady process is left alone."""
    (tmp_path / "Procfile").write_text(f"# a comment line\n"
                                       f"crasher: {sys.executable} -c \"print('boom: no database'); raise SystemExit(3)\"\n"
                                       f"steady: {sys.executable} -c \"import time; time.sleep(600)\"\n"
                                       f"ghost: /nonexistent/program --flag\n")
    log = tmp_path / "out.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py"), "--procfile",
                                 str(tmp_path / "Procfile"), "--port", "0"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        # 1 + 2 + 4 + 8 s of backoff: the fifth exit is reported as a crash loop.
        wait_for(lambda: "CRASH LOOP: crasher" in log.read_text(), 40, 0.2, "the crash loop report")
        text = log.read_text()
        assert "crasher exited 5 times in 60 s" in text and "crasher | boom: no database" in text
        assert re.search(r"exited with code 3 after [\d.]+ s; restarting in 8 s", text)
        assert len(started(log)["steady"]) == 1  # the other process was never touched
        assert "ghost could not start" in text and "restarting in 4 s" in text  # a missing program: retried too
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0 and "all stopped" in log.read_text()
    for pid in started(log)["steady"]:
        assert not group_alive(pid)


def test_children_end_when_the_supervisor_itself_is_killed(tmp_path):
    """SIGKILL of the supervisor (no chance to clean up): its children get SIGTERM from the kernel."""
    (tmp_path / "Procfile").write_text(f"steady: {sys.executable} -c \"import time; time.sleep(600)\"\n")
    log = tmp_path / "out.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py"), "--procfile",
                                 str(tmp_path / "Procfile")], stdout=out, stderr=subprocess.STDOUT)
    try:
        child = wait_for(lambda: started(log).get("steady", [None])[0], 20, 0.1, "the child started")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    wait_for(lambda: not group_alive(child), 10, 0.1, "the orphaned child gone")


def test_an_empty_procfile_is_a_clear_error(tmp_path):
    (tmp_path / "Procfile").write_text("# nothing\n")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "run.py"), "--procfile", str(tmp_path / "Procfile")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "has no `name: command` line" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def make_run(tmp_path):
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
            os.killpg(proc.pid, signal.SIGKILL)
            for pids in started(log_path).values():
                for pid in pids:
                    if group_alive(pid):
                        os.killpg(pid, signal.SIGKILL)
        log.close()
        print(log_path.read_text(errors="replace")[-6000:])


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
