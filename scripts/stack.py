"""`make stack` / `make stack-down`: distributed mode on this machine.

Starts web (gunicorn), exactly one beat and WORKERS Celery workers (each consuming the Kafka
bus) against PostgreSQL, Redis and Kafka from `scripts/services.py`, in the background. The
settings go to instance/stack.env (KEY=VALUE lines), logs to instance/stack/logs, pid files to
instance/stack/pids.

Usage: python scripts/stack.py up [--workers N] [--port P] | down | status
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from run import SIZES, sizing_errors   # scripts/run.py: the sizes `make run` accepts, checked the same way

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INSTANCE = Path(os.environ.get("SENTIMON_INSTANCE") or ROOT / "instance")
STACK = INSTANCE / "stack"
ENV_FILE = INSTANCE / "stack.env"


def services_env() -> dict[str, str]:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "services.py"), "env"],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def secret_key() -> str:
    path = STACK / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def write_env(port: int) -> dict[str, str]:
    settings = {**services_env(), "SECRET_KEY": secret_key(), "PORT": str(port)}
    ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    return settings


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running() -> dict[str, int]:
    found = {}
    for pid_file in sorted((STACK / "pids").glob("*.pid")):
        pid = int(pid_file.read_text().strip() or 0)
        if pid and pid_alive(pid):
            found[pid_file.stem] = pid
        else:
            pid_file.unlink()
    return found


def spawn(name: str, argv: list[str], env: dict) -> None:
    log = (STACK / "logs" / f"{name}.log").open("a")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    (STACK / "pids" / f"{name}.pid").write_text(str(proc.pid))


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"web did not become healthy on port {port}; see {STACK / 'logs' / 'web.log'}")


def up(workers: int, port: int) -> None:
    for sub in ("logs", "pids"):
        (STACK / sub).mkdir(parents=True, exist_ok=True)
    if running():
        raise SystemExit(f"the stack is running already ({', '.join(running())}); `make stack-down` first")
    settings = write_env(port)
    env = {**os.environ, **settings, "SENTIMON_INSTANCE": str(INSTANCE)}
    for name in SIZES:   # blank: gunicorn.conf.py's default (gunicorn's own int() stops on "")
        if name in env and not env[name].strip():
            del env[name]
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    spawn("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "wsgi:app"], env)  # gunicorn.conf.py
    spawn("beat", [str(BIN / "celery"), "-A", "tasks", "beat", "--loglevel", "INFO",
                   "--schedule", str(STACK / "celerybeat-schedule")], env)
    for n in range(1, workers + 1):
        spawn(f"worker-{n}", [str(BIN / "celery"), "-A", "tasks", "worker", "-n", f"worker{n}@%h",
                              "-Q", "celery,fetch,alerts,notify", "--concurrency", "2",
                              "--loglevel", "INFO"], env)
    wait_healthy(port)
    print(f"stack up: web http://127.0.0.1:{port}, 1 beat, {workers} workers; "
          f"settings in {ENV_FILE}, logs in {STACK / 'logs'}")


def down() -> None:
    procs = running()
    for pid in procs.values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(pid_alive(p) for p in procs.values()):
        time.sleep(0.2)
    for pid in procs.values():
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    for pid_file in (STACK / "pids").glob("*.pid"):
        pid_file.unlink()
    print(f"stack down ({len(procs)} processes stopped)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up")
    start.add_argument("--workers", type=int, default=os.environ.get("WORKERS") or "2")
    start.add_argument("--port", type=int, default=os.environ.get("PORT") or "5000")
    sub.add_parser("down")
    sub.add_parser("status")
    args = parser.parse_args()
    if args.command == "up":
        for error in sizing_errors(dict(os.environ)):
            parser.error(error)
        up(args.workers, args.port)
    elif args.command == "down":
        down()
    else:
        for name, pid in running().items():
            print(f"{name}: running (pid {pid})")


if __name__ == "__main__":
    main()
