"""Redis for scripts/services.py: redis-server from the Debian package on 127.0.0.1:56379,
run in the foreground of its own session with a pid file, data and log in <services>/redis.
Persistence is Redis's default (RDB snapshots, saved on a clean shutdown)."""
from __future__ import annotations

import shutil
import signal

from services_common import (HOST, REDIS_PORT, ServiceError, apt_install, check_ports_free,
                             connect, pid_alive, read_pid, services_dir, spawn, terminate,
                             wait_until)

MARKER = str(REDIS_PORT)   # in the command line, and in the title redis-server sets later


def home():
    return services_dir() / "redis"


def pid() -> int | None:
    return read_pid(home() / "redis.pid")


def running() -> bool:
    return pid_alive(pid(), MARKER)


def ready() -> bool:
    """A TCP connect and a PING answered with +PONG (what `redis-cli ping` does)."""
    try:
        with connect(REDIS_PORT) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start() -> str:
    if running() and ready():
        return "already running"
    if not shutil.which("redis-server"):
        apt_install(["redis-server"])
    if not shutil.which("redis-server"):
        raise ServiceError("redis-server installed but not found on PATH.")
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "redis.log"
    if not running():
        check_ports_free("Redis", [REDIS_PORT])
        proc = spawn(["redis-server", "--bind", HOST, "--port", str(REDIS_PORT),
                      "--dir", str(folder), "--pidfile", str(folder / "redis.pid"),
                      "--daemonize", "no", "--logfile", ""], log, cwd=folder)
        (folder / "redis.pid").write_text(f"{proc.pid}\n")
        wait_until(ready, 20, "Redis", [log], proc=proc)
        return "started"
    wait_until(ready, 20, "Redis", [log])
    return "started"


def stop() -> str:
    """SIGTERM (Redis saves its snapshot and exits), SIGKILL after 20 s."""
    if not running():
        return "not running"
    terminate(pid(), MARKER, timeout=20, sig=signal.SIGTERM)
    (home() / "redis.pid").unlink(missing_ok=True)
    return "stopped"


def describe() -> str:
    if not running():
        return "down"
    state = "up" if ready() else "running, not answering"
    return f"{state}  {HOST}:{REDIS_PORT}  pid {pid()}  {home()}"
