"""The `make run` supervisor (scripts/run.py): backoff, crash loops, orphans, a bad Procfile. `make run`
itself, healing a killed worker, runs in tests/core/test_end_to_end.py."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

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
