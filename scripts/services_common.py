"""Shared helpers of scripts/services.py: folders, ports, processes, readiness, installs.

Standard library only, so that the system python3 can run it before any virtualenv exists.
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"


def port_offset() -> int:
    """$SENTIMON_PORT_OFFSET (default 0), added to every port below: with a services folder of its
    own ($SENTIMON_SERVICES) it makes a second, independent set of servers, e.g. the one that the
    fault tests stop and restart while the other tests keep using the first set."""
    raw = os.environ.get("SENTIMON_PORT_OFFSET", "").strip() or "0"
    if not raw.isdigit() or int(raw) > 5000:
        raise SystemExit(f"services: SENTIMON_PORT_OFFSET must be a whole number from 0 to 5000, got {raw!r}")
    return int(raw)


OFFSET = port_offset()
PG_PORT = 55432 + OFFSET
REDIS_PORT = 56379 + OFFSET
# Kafka ports per variant, then per node. The variants have ports (and folders) of their own, so
# the 3-node cluster of the fault tests runs beside the 1-node broker everything else uses.
KAFKA_CLIENT_PORTS = {1: {1: 59092 + OFFSET}, 3: {i: 59292 + 100 * i + OFFSET for i in (1, 2, 3)}}
KAFKA_CONTROLLER_PORTS = {n: {i: port + 1 for i, port in ports.items()} for n, ports in KAFKA_CLIENT_PORTS.items()}


class ServiceError(Exception):
    """Something cannot be installed, started or stopped; the message says what and why."""


def cache_dir() -> Path:
    """Downloads shared by all checkouts (Kafka jars): $SENTIMON_CACHE or ~/.cache/sentimon."""
    return Path(os.environ.get("SENTIMON_CACHE") or Path.home() / ".cache" / "sentimon")


def services_dir() -> Path:
    """Data, logs and pid files: $SENTIMON_SERVICES or ~/.cache/sentimon/services."""
    default = Path.home() / ".cache" / "sentimon" / "services"
    return Path(os.environ.get("SENTIMON_SERVICES") or default)


# --- processes -------------------------------------------------------------------------------

def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _state(stat_file: Path) -> str:
    """The state letter (R, S, D, Z, ...) in a /proc .../stat file; "" when it is gone."""
    try:
        return stat_file.read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return ""


def pid_alive(pid: int | None, marker: str = "") -> bool:
    """True while process `pid`, with `marker` in its command line, has a live thread.

    A process whose main thread has exited shows as a zombie with an empty command line while
    its other threads finish (a JVM after System.exit or kill -9 does, and keeps its ports
    meanwhile): that counts as alive. A zombie whose threads have all ended does not."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}")
    try:
        threads = [_state(task / "stat") for task in (proc / "task").iterdir()]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if all(state in ("", "Z", "X") for state in threads):
        return False
    if not cmdline:   # an exiting process (kernel threads, never zombies, have none either)
        return _state(proc / "stat") in ("Z", "X")
    return marker in cmdline


def spawn(argv: list[str], log_file: Path, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """Start a long-running process in its own session (it outlives this script and make),
    with stdout and stderr appended to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)


def terminate(pid: int | None, marker: str, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Send `sig` to the process, wait up to `timeout` seconds, then SIGKILL it."""
    try:
        if pid_alive(pid, marker):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while pid_alive(pid, marker):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.05)
    except ProcessLookupError:
        pass


def wait_until(check, timeout: float, what: str, log_files=(), proc: subprocess.Popen | None = None,
               failed=None) -> float:
    """Poll `check()` until it is true; return the seconds it took. Raise ServiceError with the
    logs' last lines when the deadline passes, `proc` exits or `failed()` returns a reason."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        reason = failed() if failed else None
        if proc is not None and proc.poll() is not None:
            reason = f"the process exited with status {proc.returncode}"
        if reason is None and time.monotonic() - start > timeout:
            reason = f"not ready after {timeout:.0f} s"
        if reason:
            raise ServiceError(f"{what} did not start: {reason}.\n" + tails(log_files))
        time.sleep(0.1)


def tails(log_files, lines: int = 25) -> str:
    """The last lines of each existing log file, labelled, for error messages."""
    out = []
    for path in log_files:
        path = Path(path)
        if path.is_file():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- last lines of {path} ---\n" + "\n".join(text))
    return "\n".join(out) or "(no log output)"


# --- ports -----------------------------------------------------------------------------------
#
# All our ports lie inside Linux's ephemeral range (32768-60999). A client connecting to one
# while nothing listens there can be given that very port as its own source port and connect to
# itself; the socket then sits in TIME_WAIT on the port for 60 s and the server cannot bind it.
# Hence: `up` reserves the ports (net.ipv4.ip_local_reserved_ports, as root), and our own probes
# connect only to a port with a listener and drop a self-connection with a reset.

ALL_PORTS = sorted({PG_PORT, REDIS_PORT,
                    *(port for ports in KAFKA_CLIENT_PORTS.values() for port in ports.values()),
                    *(port for ports in KAFKA_CONTROLLER_PORTS.values() for port in ports.values())})
RESERVED = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def reserve_ports() -> None:
    """Keep the kernel from handing our ports out as clients' source ports (root only)."""
    try:
        current = RESERVED.read_text().strip()
    except OSError:
        return
    taken = set()
    for part in filter(None, current.split(",")):
        low, _, high = part.partition("-")
        taken.update(range(int(low), int(high or low) + 1))
    missing = [str(port) for port in ALL_PORTS if port not in taken]
    if missing and os.geteuid() == 0:
        try:
            RESERVED.write_text(",".join(filter(None, [current, *missing])))
        except OSError:
            pass


def _listen_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP `port` (any address), from /proc/net/tcp and tcp6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def listening(port: int) -> bool:
    return bool(_listen_inodes(port))


def connect(port: int, timeout: float = 1.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:`port`; OSError when nothing listens there."""
    if not listening(port):
        raise ConnectionRefusedError(f"nothing listens on {port}")
    sock = socket.create_connection((HOST, port), timeout=timeout)
    if sock.getsockname() == sock.getpeername():   # connected to itself: reset, no TIME_WAIT
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        raise ConnectionRefusedError(f"self-connection on {port}")
    return sock


def port_taken(port: int) -> bool:
    """True when the port cannot be bound (a bind with SO_REUSEADDR fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def listener(port: int) -> str:
    """'pid N (command)' of the process listening on `port`, best effort, from /proc."""
    inodes = _listen_inodes(port)
    for proc in Path("/proc").iterdir():
        if not inodes or not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                cmd = " ".join((proc / "cmdline").read_bytes().decode(errors="replace").split())
                return f"pid {proc.name} ({cmd[:120]})"
        except OSError:
            continue
    return "another process"


def check_ports_free(service: str, ports) -> None:
    """Refuse to start `service` when something listens on one of its ports; wait (up to 65 s)
    while a port is only held by a closing connection (TIME_WAIT)."""
    deadline = time.monotonic() + 65
    for port in ports:
        if port_taken(port) and not listening(port):
            print(f"services: {service}: waiting for port {port} to be released", flush=True)
        while port_taken(port):
            if listening(port):
                raise ServiceError(f"{service} cannot start: port {HOST}:{port} is already in use "
                                   f"by {listener(port)}. Stop that process or free the port.")
            if time.monotonic() > deadline:
                raise ServiceError(f"{service} cannot start: port {HOST}:{port} is held by a "
                                   f"closing connection (see: ss -tan 'sport = :{port}').")
            time.sleep(0.5)


# --- installs --------------------------------------------------------------------------------

_apt_updated = False


def apt_install(packages: list[str]) -> None:
    """apt-get install the Debian packages (apt-get update once per run); root or sudo -n."""
    global _apt_updated
    if not shutil.which("apt-get"):
        raise ServiceError(f"{' '.join(packages)} missing and apt-get not found: install them "
                           "with your system's package manager.")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and not shutil.which("sudo"):
        raise ServiceError(f"run as root: apt-get install -y {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = [] if _apt_updated else [sudo + ["apt-get", "update", "-q"]]
    steps.append(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages])
    for argv in steps:
        print("services: " + " ".join(argv), flush=True)
        result = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        if result.returncode:
            raise ServiceError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                               + "\n".join(result.stdout.splitlines()[-20:]))
    _apt_updated = True
