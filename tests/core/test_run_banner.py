"""`make run`'s last words: scripts/run.py prints the URL and the sign-in once the web answers
/healthz (not before), so they stay on screen; LOG_LEVEL defaults to WARNING for the processes."""
from __future__ import annotations

import importlib.util
import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_run():
    spec = importlib.util.spec_from_file_location("run_supervisor", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Health(BaseHTTPRequestHandler):
    answers: list[int] = []

    def do_GET(self):
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_banner_waits_for_the_web_then_prints_once(monkeypatch):
    run = load_run()
    Health.answers = [503, 503]                  # not ready twice, then ready
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    try:
        ok = run.announce(f"http://127.0.0.1:{server.server_port}/healthz",
                          "Sentimon is ready: http://x\nSign in as a@example.com / pw", run.Output(["web"]),
                          threading.Event(), timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    text = out.getvalue()
    assert ok and not Health.answers
    assert "Sentimon is ready: http://x\nSign in as a@example.com / pw\n" in text
    assert text.strip().startswith("=") and text.strip().endswith("=")


def test_banner_gives_up_when_stopped_and_log_level_defaults():
    run = load_run()
    stop = threading.Event()
    stop.set()
    assert run.announce("http://127.0.0.1:9/healthz", "x", run.Output(["web"]), stop, timeout=5) is False
    procfile = (ROOT / "Procfile").read_text()
    worker = [line for line in procfile.splitlines() if line.startswith("worker:")]
    assert "--access-logfile" not in procfile and len(worker) == 1 and "--loglevel $LOG_LEVEL" in worker[0]
    assert 'os.environ.setdefault("LOG_LEVEL", "WARNING")' in (ROOT / "scripts" / "run.py").read_text()
