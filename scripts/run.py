"""`make run`'s supervisor: web, worker and beat from the Procfile, kept running.

Why not honcho: when one process exits, honcho stops all the others, so a worker killed by the
OOM killer (or `kill -9`) took the web and beat down with it and nothing came back. Here:

- every Procfile line is started in a process group of its own; its output lines are printed with
  the process name in front (``12:00:01 worker | ...``), as honcho does;
- a process that exits (worker, beat or web) is started again, after what it left in its process
  group is killed, with a backoff of 1 s, 2 s, 4 s ...
  capped at 30 s; the backoff starts again at 1 s once the process has stayed up for 60 s;
- a crash loop (5 exits within 60 s) is reported plainly with the last lines of that process's
  output, and the supervisor KEEPS TRYING at the capped backoff: a worker that cannot reach its
  database comes back by itself once the database does, while the web keeps serving;
- Ctrl-C (SIGINT) or SIGTERM stops every process group (SIGTERM, then SIGKILL after 10 s) and
  exits; a process is told to die with its supervisor (PR_SET_PDEATHSIG) if the supervisor is killed.

Sized for one machine (`machine_defaults`, each only when the environment does not say otherwise):
WEB_CONCURRENCY web processes (one per two cores, at least one) of WEB_THREADS (4) threads each,
preloaded (`--preload`, shared pages) when there are several; MALLOC_ARENA_MAX=2 (glibc's malloc
otherwise keeps an arena per thread that allocated, each holding freed memory of its own).

Once the web answers /healthz, `--banner TEXT` is printed (the URL and how to sign in), so that the
last thing on screen is where to go; LOG_LEVEL (default WARNING) keeps the processes quiet.

Standard library only. Usage: python scripts/run.py [--procfile Procfile] [--port 5000] [--banner TEXT]
"""
from __future__ import annotations

import argparse
import collections
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

BACKOFF_START = 1.0
BACKOFF_CAP = 30.0
STEADY_AFTER = 60.0      # up this long: the next exit starts the backoff again from 1 s
LOOP_EXITS = 5           # this many exits ...
LOOP_WINDOW = 60.0       # ... within this many seconds is a crash loop
TAIL_LINES = 20
STOP_GRACE = 10.0


def read_procfile(path: Path) -> dict[str, str]:
    """`name: command` lines, in order; blank lines and `#` comments are skipped."""
    entries: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def next_backoff(previous: float | None, uptime: float) -> float:
    """Pure: the wait before the next start. Doubles from 1 s up to the cap; resets after a steady run."""
    if previous is None or uptime >= STEADY_AFTER:
        return BACKOFF_START
    return min(previous * 2, BACKOFF_CAP)


def crash_loop(exits: list[float], now: float) -> bool:
    """Pure: `LOOP_EXITS` or more exits within the last `LOOP_WINDOW` seconds."""
    return sum(1 for t in exits if now - t <= LOOP_WINDOW) >= LOOP_EXITS


SIZES = {"WEB_CONCURRENCY": "web processes", "WEB_THREADS": "threads a web process"}


def _count(text: str) -> int:
    """Pure: the count `text` writes in 1 to 4 ASCII digits, else 0 ("²" is a digit to `isdigit`
    but not to `int`). webapp.core.numbers.whole_number's rule, written here because this
    supervisor imports the standard library only (importing webapp would load Flask into it)."""
    text = text.strip()
    return int(text) if 0 < len(text) <= 4 and text.isascii() and text.isdigit() else 0


def sizing_errors(environ: dict[str, str]) -> list[str]:
    """Pure: a message for each sizing setting `environ` gives that is not a count of 1 to 9999
    (gunicorn itself stops with a traceback on WEB_CONCURRENCY=many)."""
    return [f"{name} must be a number of {what} from 1 to 9999, not {environ[name]!r}"
            for name, what in SIZES.items() if (environ.get(name) or "").strip() and not _count(environ[name])]


def machine_defaults(cpus: int | None, environ: dict[str, str]) -> dict[str, str]:
    """Pure: the single-machine sizing of `make run` on `cpus` cores, for what `environ` leaves unset."""
    web = environ.get("WEB_CONCURRENCY") or str(max(1, (cpus or 1) // 2))
    defaults = {"WEB_CONCURRENCY": web, "WEB_THREADS": "4", "MALLOC_ARENA_MAX": "2"}
    if _count(web) > 1:  # several web processes share one preloaded app (gunicorn.conf.py)
        defaults["GUNICORN_CMD_ARGS"] = "--preload"
    return {key: value for key, value in defaults.items() if not environ.get(key)}


def _die_with_parent() -> None:
    """Runs in the child before exec: its own process group, and SIGTERM if the supervisor dies."""
    os.setsid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class Output:
    """Serialises prefixed lines from all processes onto stdout."""

    def __init__(self, names):
        self.width = max(len(n) for n in names)
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            sys.stdout.write(f"{stamp} {name.ljust(self.width)} | {text}\n")
            sys.stdout.flush()


class Child:
    """One Procfile entry: its current process, its recent output, its exits and backoff."""

    def __init__(self, name: str, command: str, env: dict[str, str], out: Output):
        self.name, self.command, self.env, self.out = name, command, env, out
        self.proc: subprocess.Popen | None = None
        self.pump: threading.Thread | None = None
        self.started = 0.0
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.exits: list[float] = []
        self.backoff: float | None = None
        self.restart_at: float | None = None
        self.reported_loop = False

    def start(self) -> None:
        self.started = time.monotonic()
        self.restart_at = None
        try:
            argv = shlex.split(os.path.expandvars(self.command))
            self.proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:  # no such program, bad quoting
            self.proc = None
            self.tail.append(f"cannot start {self.command!r}: {exc}")
            self._exited(self.started, f"could not start ({exc})")
            return
        self.out.line("system", f"{self.name} started with pid {self.proc.pid}")
        self.pump = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        self.pump.start()

    def _pump(self, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(text)
            self.out.line(self.name, text)
        proc.stdout.close()

    def check(self, now: float) -> None:
        """If the process has exited, schedule its restart (and report a crash loop once per loop)."""
        if self.proc is None or self.restart_at is not None or self.proc.poll() is None:
            return
        try:  # what it left in its group (gunicorn's workers after a kill -9 of the master) goes too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.pump.join(1.0)  # its last lines (often the reason) are in the tail before any report
        code = self.proc.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self._exited(now, f"(pid {self.proc.pid}) {how}")

    def _exited(self, now: float, how: str) -> None:
        uptime = now - self.started
        self.exits = [t for t in self.exits if now - t <= LOOP_WINDOW] + [now]
        self.backoff = next_backoff(self.backoff, uptime)
        self.restart_at = now + self.backoff
        self.out.line("system", f"{self.name} {how} after {uptime:.1f} s; restarting in {self.backoff:.0f} s")
        if crash_loop(self.exits, now):
            if not self.reported_loop:
                self.reported_loop = True
                self.out.line("system", f"CRASH LOOP: {self.name} exited {len(self.exits)} times in "
                                        f"{LOOP_WINDOW:.0f} s; still retrying every {BACKOFF_CAP:.0f} s at most. "
                                        f"Last lines of its output:")
                for text in list(self.tail):
                    self.out.line("system", f"  {self.name} | {text}")
        else:
            self.reported_loop = False

    def due(self, now: float) -> bool:
        return self.restart_at is not None and now >= self.restart_at

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


def stop_all(children: list[Child], out: Output) -> None:
    """SIGTERM to every process group, SIGKILL to what is still there after the grace period."""
    out.line("system", "stopping " + ", ".join(c.name for c in children))
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and any(c.proc and c.proc.poll() is None for c in children):
        time.sleep(0.1)
    for child in children:
        child.signal(signal.SIGKILL)
        if child.proc is not None:
            child.proc.wait()
            try:  # the group may still hold grandchildren (gunicorn's workers)
                os.killpg(child.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    out.line("system", "all stopped")


def http_status(url: str, timeout: float) -> int | None:
    """The status of a plain-HTTP GET of `url` (a bare socket: urllib.request would cost this
    long-lived process about 4 MB more for one health check); None for an unreadable answer."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout) as conn:
        conn.sendall(f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
        words = conn.makefile("rb").readline(200).split()
    return int(words[1]) if len(words) > 1 and words[1].isdigit() else None


def announce(url: str, banner: str, out: Output, stopping: threading.Event, timeout: float = 300) -> bool:
    """Print `banner` once `url` answers 200 (polled every 0.5 s until `timeout` or a stop)."""
    deadline = time.monotonic() + timeout
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            if http_status(url, timeout=10) == 200:
                rule = "=" * max(len(line) for line in banner.splitlines())
                with out.lock:
                    sys.stdout.write(f"\n{rule}\n{banner}\n{rule}\n\n")
                    sys.stdout.flush()
                return True
        except OSError:
            pass
        stopping.wait(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procfile", default="Procfile")
    parser.add_argument("--port", default=os.environ.get("PORT", "5000"))
    parser.add_argument("--banner", default="", help="printed once the web answers /healthz")
    args = parser.parse_args(argv)

    os.environ["PORT"] = str(args.port)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for error in sizing_errors(dict(os.environ)):
        parser.error(error)
    os.environ.update(machine_defaults(os.cpu_count(), dict(os.environ)))
    try:
        entries = read_procfile(Path(args.procfile))
    except OSError as exc:
        parser.error(f"cannot read the Procfile: {exc}")
    if not entries:
        parser.error(f"{args.procfile} has no `name: command` line")
    out = Output(["system", *entries])
    children = [Child(name, command, dict(os.environ), out) for name, command in entries.items()]

    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for child in children:
        child.start()
    if args.banner:
        threading.Thread(target=announce, daemon=True, name="banner", args=(
            f"http://127.0.0.1:{args.port}/healthz", args.banner.replace("\\n", "\n"), out, stopping)).start()
    while not stopping.wait(0.2):
        now = time.monotonic()
        for child in children:
            child.check(now)
            if child.due(now) and not stopping.is_set():
                child.start()
    stop_all(children, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
