"""Small helpers shared by tests."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.monitors.services.manage import create_monitor, system_source


def new_monitor(app, name="Test", query="", sources=None) -> tuple[int, int]:
    """Create a monitor; returns (monitor id, its push source id)."""
    with app.app_context():
        monitor = create_monitor(db.session, name, query, sources or [])
        return monitor.id, system_source(monitor, "push").id


def mention(i: int, text: str | None = None, **extra) -> dict:
    return {"external_id": f"m{i}", "text": text or f"mention number {i} is great", **extra}


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value (returned) or `timeout` passes (AssertionError)."""
    import time

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {last!r})")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, log_path, sig=None, timeout: float = 30) -> None:
    """Stop a process group started with start_new_session=True, then print its log's tail."""
    import os
    import signal
    import subprocess

    os.killpg(proc.pid, sig or signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(log_path.read_text(errors="replace")[-6000:])
