"""`make run`'s memory once the demo has settled: PSS summed over every process it started.

Starts `make run` as a new user does (its own free port, a fresh instance folder, so its own SQLite
database, broker and bus; a fresh cache folder, so the language model file is built by the run; no
server of `make services` is used), waits until the demo has
settled, signs in through the login form and opens the demo monitor's pages (so the web
processes have served what a user asks for), waits until the processes are idle again, then sums
PSS (`/proc/<pid>/smaps_rollup`: shared pages divided among the processes that share them) over
the whole process tree: make, the supervisor, the web, the worker and everything they started.

Settled: the demo source has fetched (mentions stored), the bus consumer has read to the end of
the SQL log, every stored mention is in the rollups, and the process tree used less than
IDLE_SHARE of one core over IDLE_SECONDS. Exits non-zero when the goal (250 MB) is missed.

    .venv/bin/python bench/bench_footprint.py [--goal-mb 250] [--settle-timeout 300] [--pages 12] [--user-cache]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import ROOT, descendants, figure, free_port, goal, note, wait_for, wait_http  # noqa: E402

DEMO_EMAIL, DEMO_PASSWORD = "admin@example.com", "sentimon-demo"
IDLE_SECONDS = 4.0
IDLE_SHARE = 0.10          # of one core, for the whole tree
TICK = os.sysconf("SC_CLK_TCK")


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def tree(root: int) -> list[int]:
    return [root, *descendants(root)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def idle(root: int) -> bool:
    before = cpu_seconds(tree(root))
    time.sleep(IDLE_SECONDS)
    return cpu_seconds(tree(root)) - before < IDLE_SHARE * IDLE_SECONDS


def demo_state(database: Path) -> dict | None:
    """What the demo has reached, read from the SQLite file (read-only); None before the schema."""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
            return {"mentions": one("SELECT count(*) FROM mentions"),
                    "in_rollups": one("SELECT coalesce(sum(count), 0) FROM rollups WHERE bucket = '1d'"),
                    "log_end": one("SELECT coalesce(max(id), 0) FROM bus_log"),
                    "consumed": one("SELECT coalesce(min(next_offset), 0) FROM bus_offsets"),
                    "fetched": one("SELECT count(*) FROM source_fetches WHERE status = 'ok' AND items > 0")}
    except sqlite3.Error:
        return None


def settled(database: Path) -> dict | None:
    state = demo_state(database)
    if (state and state["fetched"] and state["mentions"] and state["consumed"] > state["log_end"]
            and state["in_rollups"] >= state["mentions"]):
        return state
    return None


def browse(base: str, pages: int) -> int:
    """Sign in through the form and open the demo's pages `pages` times; how many answered 200."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(f"{base}/login", timeout=60).read().decode()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, **({"csrf_token": csrf.group(1)} if csrf else {})}
    home = opener.open(f"{base}/login", urllib.parse.urlencode(data).encode(), timeout=60)
    if "/login" in home.geturl():
        raise RuntimeError("signing in as the demo admin failed")
    ids = sorted(set(re.findall(r'href="/monitors/(\d+)"', home.read().decode()))) or ["1"]
    paths = [f"/monitors/{ids[0]}{page}" for page in ("", "/mentions", "/series.json", "/rules", "/alerts")] + ["/"]
    answered = 0
    for i in range(pages):
        with opener.open(base + paths[i % len(paths)], timeout=60) as response:
            response.read()
            answered += response.status == 200
    return answered


def stop_make_run(proc: subprocess.Popen, pids: list[int]) -> None:
    """Ctrl-C as a terminal sends it (SIGINT to make's group), then SIGKILL whatever is left."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=40)
    except (OSError, subprocess.TimeoutExpired):
        pass
    for pid in pids:
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                kill()
            except OSError:
                pass
    if proc.poll() is None:
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal-mb", type=float, default=250.0)
    parser.add_argument("--settle-timeout", type=float, default=300.0, help="seconds for the demo to settle")
    parser.add_argument("--pages", type=int, default=12, help="pages opened before measuring")
    parser.add_argument("--user-cache", action="store_true",
                        help="use SENTIMON_CACHE as set (else a fresh one: the run builds the language model file)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sentimon-footprint-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "SENTIMON_INSTANCE": str(tmp / "instance")}
    if not args.user_cache:  # a new user has no language model file yet: the run builds it
        env["SENTIMON_CACHE"] = str(tmp / "cache")
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL", "SECRET_KEY",
                "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "WEB_THREADS"):
        env.pop(key, None)
    log = tmp / "run.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    seen: set[int] = set()
    measured = False
    try:
        wait_http(f"{base}/healthz", timeout=args.settle_timeout)
        state = wait_for(lambda: settled(tmp / "instance" / "sentimon.sqlite"), args.settle_timeout, 1.0,
                         "the demo fetched, consumed and in the rollups")
        answered = browse(base, args.pages)
        seen.update(tree(proc.pid))
        wait_for(lambda: idle(proc.pid), args.settle_timeout, 0.1, "the processes idle")
        samples = []
        for _ in range(3):  # the largest of three readings a second apart
            pids = tree(proc.pid)
            seen.update(pids)
            samples.append({pid: pss_kb(pid) for pid in pids})
            time.sleep(1)
        worst = max(samples, key=lambda s: sum(s.values()))
        total_mb = sum(worst.values()) / 1024
        note(f"settled after {time.monotonic() - started:.0f} s: {state['mentions']} demo mentions stored, "
             f"consumed and in the rollups; {answered}/{args.pages} pages answered 200")
        for pid, kb in sorted(worst.items(), key=lambda item: -item[1]):
            note(f"{kb / 1024:6.1f} MB  pid {pid}  {command(pid)[:110]}")
        note(f"{len(worst)} processes; load (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
             f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} cores")
        figure("footprint.make_run_pss", total_mb, "MB", "goal", args.goal_mb)
        met = total_mb <= args.goal_mb
        measured = True
        goal(f"make run <= {args.goal_mb:.0f} MB PSS once the demo has settled", met)
        return 0 if met else 1
    except (TimeoutError, RuntimeError, OSError) as exc:
        note(f"FAILED: {exc}; the last lines of make run's output (all of it in {log}):")
        for line in log.read_text(errors="replace").splitlines()[-30:]:
            note(f"  {line}")
        return 1
    finally:
        stop_make_run(proc, sorted(seen | set(tree(proc.pid))))
        if measured:  # a failed run keeps its folder (instance and log) to look at
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
