"""Two beats started: only the lease holder sends; the other takes over when the leader dies."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import app_config
from tests.helpers import stop_process, wait_for
from tests.ingest.test_worker import service_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SENT = "Sending due task dispatch-due-fetches"


def start_beat(env, tmp_path, name):
    log = tmp_path / f"{name}.log"
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "beat", "--loglevel", "INFO",
         "--schedule", str(tmp_path / f"{name}-schedule")],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def sends(log: Path) -> int:
    return log.read_text(errors="replace").count(SENT)


def test_two_beats_one_sender_and_failover(app, tmp_path):
    env = {**service_env(app_config(tmp_path)), "FETCH_DISPATCH_EVERY": "1", "BEAT_LEASE_SECONDS": "6"}
    first, first_log = start_beat(env, tmp_path, "beat-a")
    second, second_log = start_beat(env, tmp_path, "beat-b")
    try:
        wait_for(lambda: sends(first_log) + sends(second_log) >= 5, 60, 0.5, "beats to send")
        counts = sorted([sends(first_log), sends(second_log)])
        assert counts[0] == 0, counts  # exactly one of them sends
        leader, leader_log = (first, first_log) if sends(first_log) else (second, second_log)
        standby_log = second_log if leader is first else first_log
        leader.send_signal(signal.SIGKILL)  # no clean release: the standby waits out the lease
        leader.wait(timeout=10)
        wait_for(lambda: sends(standby_log) >= 3, 60, 0.5, "the standby to take over")
    finally:
        for proc, log in ((first, first_log), (second, second_log)):
            if proc.poll() is None:
                stop_process(proc, log)
