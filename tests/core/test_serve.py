"""`make run`'s web process (webapp/core/web/serve.py): one Waitress process when the machine is sized
for one (no gunicorn master beside it), gunicorn when several; the access log, a clean stop, and
bad requests or options answered plainly."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_for
from webapp.core.web import serve

ROOT = Path(__file__).resolve().parents[2]


def test_plan_sizes_the_web_from_the_environment():
    assert serve.plan({}) == ("waitress", 4)
    assert serve.plan({"WEB_CONCURRENCY": "1", "WEB_THREADS": "8"}) == ("waitress", 8)
    assert serve.plan({"WEB_CONCURRENCY": "3"}) == ("gunicorn", 3)
    for bad in ("0", "-2", "many", " ", "1.5"):   # not a positive number: the single-process default
        assert serve.plan({"WEB_CONCURRENCY": bad, "WEB_THREADS": bad}) == ("waitress", 4)


def test_access_log_setting_reads_as_gunicorn_conf_does():
    assert [serve.access_log_target(v) for v in (None, "", "0", "false", "No")] == [None] * 5
    assert [serve.access_log_target(v) for v in ("1", "true", "YES", "-")] == ["-"] * 4
    assert serve.access_log_target("/var/log/web.log") == "/var/log/web.log"


def test_access_log_lines_name_the_request_and_its_answer():
    lines: list[str] = []

    def app(environ, start_response):
        start_response("404 NOT FOUND", [("Content-Length", "9"), ("Content-Type", "text/plain")])
        return [b"not found"]

    seen = {}
    logged = serve.with_access_log(app, lines.append)
    body = logged({"REMOTE_ADDR": "10.0.0.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": "a=1",
                   "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": "t"}, lambda s, h: seen.update(status=s))
    assert body == [b"not found"] and seen["status"] == "404 NOT FOUND"
    assert len(lines) == 1 and lines[0].startswith("10.0.0.1 - - [")
    assert '"GET /x?a=1 HTTP/1.1" 404 9 "-" "t"' in lines[0]


def _env(tmp_path, **extra) -> dict:
    env = {**os.environ, "SENTIMON_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT),
           "LOG_LEVEL": "WARNING", **extra}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL", "GUNICORN_CMD_ARGS"):
        env.pop(key, None)
    return env


def _start(tmp_path, port: int, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "webapp.core.web.serve", "--bind", f"127.0.0.1:{port}"], cwd=ROOT,
                            env=_env(tmp_path, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except OSError:
        return None


@pytest.mark.system
def test_one_process_serves_logs_and_stops_cleanly(tmp_path):
    port = free_port()
    proc = _start(tmp_path, port, WEB_CONCURRENCY="1", WEB_THREADS="2", ACCESS_LOG="1")
    try:
        wait_for(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 200, 90, 0.2, "the web answering")
        for garbage in (b"\x00\xff not http\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(garbage)
                assert b" 400 Bad Request" in conn.recv(200).split(b"\r\n")[0]
        assert _status(f"http://127.0.0.1:{port}/healthz") == 200                # still serving
        assert "python" in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert '"GET /healthz HTTP/1.1" 200' in out and "Traceback" not in out


@pytest.mark.system
def test_several_processes_are_gunicorn(tmp_path):
    port = free_port()
    proc = _start(tmp_path, port, WEB_CONCURRENCY="2", WEB_THREADS="1")
    try:
        wait_for(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 200, 120, 0.2, "gunicorn answering")
        assert "gunicorn" in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()   # exec'd in place
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_gunicorn_options_for_one_process_are_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    with pytest.raises(SystemExit) as stopped:
        serve.main(["--bind", "127.0.0.1:1", "--workers", "3"])
    assert stopped.value.code == 2 and "WEB_CONCURRENCY > 1" in capsys.readouterr().err


def test_the_procfile_web_line_is_this_launcher():
    procfile = (ROOT / "Procfile").read_text()
    web = [line for line in procfile.splitlines() if line.startswith("web:")]
    assert web == ["web: python -m webapp.core.web.serve --bind 127.0.0.1:$PORT"]
