"""What the benchmarks share: the figure line, the corpus, the servers, databases and processes.

Every figure is printed as one line a script can read:

    name: VALUE UNIT (REFERENCE VALUE, RATIOx)

REFERENCE names what the value is compared with (a reference measured in the same run, such as
`naive` or `raw_group_by`, or `goal` for an absolute goal); RATIO is VALUE / reference VALUE.
Lines starting with `#` are comments (goal verdicts, notes); `parse_line` reads figure lines.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LINE = re.compile(r"^(?P<name>[\w.\-]+): (?P<value>-?[\d.]+(?:e-?\d+)?) (?P<unit>\S+) "
                  r"\((?P<reference>\S+) (?P<ref_value>-?[\d.]+(?:e-?\d+)?), (?P<ratio>-?[\d.]+(?:e-?\d+)?)x\)$")


# -- figures ----------------------------------------------------------------------------------
def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def figure(name: str, value: float, unit: str, reference: str, ref_value: float) -> dict:
    """Print one figure line; returns it parsed."""
    ratio = value / ref_value if ref_value else float("inf")
    line = f"{name}: {_num(value)} {unit} ({reference} {_num(ref_value)}, {ratio:.3g}x)"
    print(line, flush=True)
    return {"name": name, "value": value, "unit": unit, "reference": reference,
            "ref_value": ref_value, "ratio": ratio}


GOALS: list[tuple[str, bool]] = []  # every goal this process recorded, in order


def goal(text: str, met: bool) -> bool:
    """Record a goal and print its comment line (`# goal TEXT: met|MISSED`); returns `met`.

    `run(main)` ends the script with a non-zero status when any recorded goal was missed."""
    met = bool(met)
    GOALS.append((text, met))
    print(f"# goal {text}: {'met' if met else 'MISSED'}", flush=True)
    return met


def missed_goals() -> list[str]:
    """The texts of the goals recorded so far that were missed."""
    return [text for text, met in GOALS if not met]


def run(main: Callable[[], object]) -> None:
    """Run a benchmark's `main()` and exit: 0 when every goal it recorded with `goal()` was met,
    1 when any was missed (an exception in `main` exits non-zero as usual). Every script's
    `if __name__ == "__main__":` calls this, so `make bench` fails on a missed goal. A `main` that
    returns a non-zero number (a failed check that is not a goal) fails the script too."""
    status = main()
    missed = missed_goals()
    note(f"goals: {len(GOALS) - len(missed)} met, {len(missed)} MISSED")
    sys.exit(1 if missed or (isinstance(status, int) and status) else 0)


def note(text: str) -> None:
    print(f"# {text}", flush=True)


def parse_line(line: str) -> dict | None:
    """The parts of a figure line (numbers as floats), or None for any other line."""
    m = LINE.match(line.strip())
    if not m:
        return None
    out = m.groupdict()
    for key in ("value", "ref_value", "ratio"):
        out[key] = float(out[key])
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


# -- corpus -----------------------------------------------------------------------------------
EMOJI = ["😀", "😍", "🔥", "👍", "👎", "😡", "😭", "🚀", "❤️", "🤔", "😂", "🙄", "✨", "💯", "😬"]
OPENERS = ["", "", "", "Honestly ", "Ugh, ", "Wow! ", "So ", "Just tried it: ", "PSA: ", "lol "]
FILLER = ("the new release of acme rocket came out today and people are talking about the price the "
          "battery the support team the delivery times the app update and the launch event in berlin "
          "while others compare it with last year's model and ask whether the warranty covers it").split()
AUTHORS = [f"user{i}" for i in range(500)]


def alternating(rounds: int, run: Callable[[int, bool], float]) -> dict[bool, list[float]]:
    """{side: rates} of `run(round, side)` for both sides of a change (False: without, True: with),
    `rounds` times each, back to back in alternating order (without first in even rounds), so
    both sides of a round see the same machine."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds):
        for side in ((False, True) if r % 2 == 0 else (True, False)):
            rates[side].append(run(r, side))
    return rates


def paired_median(name: str, rates: dict[bool, list[float]], goal_ratio: float) -> float:
    """The median of each round's ratio of its two sides' rates (`alternating`), printed with the
    rounds' ratios as `<name>_paired`: the two sides of a round ran back to back, so the
    machine's drift between rounds (which moves each side's own median) cancels out."""
    import statistics

    paired = [w / o for w, o in zip(rates[True], rates[False])]
    note(f"{name} each round, with / without: " + " ".join(f"{r:.3f}" for r in paired))
    median = statistics.median(paired)
    low, high = median_interval(paired)
    note(f"{name}_paired: 95 % interval of the median {low:.3f}-{high:.3f} (bootstrap of the {len(paired)} rounds)")
    figure(f"{name}_paired", median, "x", "goal", goal_ratio)
    return median


def median_interval(values: list[float], resamples: int = 4000, seed: int = 19) -> tuple[float, float]:
    """Pure: the 95 % percentile-bootstrap interval of the median of `values` (resampled with a
    fixed seed, so the same rounds give the same interval): how far the rounds' noise could
    move the goal's figure."""
    import random
    import statistics

    draw = random.Random(seed)
    medians = sorted(statistics.median(draw.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def demo_texts() -> list[str]:
    """The texts of the bundled demo mentions (real-looking social posts)."""
    texts = []
    with open(ROOT / "webapp" / "data" / "demo_mentions.jsonl", encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line).get("text")
            if text:
                texts.append(text)
    return texts


def corpus(n: int, seed: int = 8, duplicate_share: float = 0.08) -> list[dict]:
    """`n` realistic mentions: short posts to long paragraphs, emoji, URLs, hashtags, and about
    `duplicate_share` exact repeats of earlier texts (retweets) under their own ids.

    Deterministic for a seed; each item has external_id, text, author, url.
    """
    rng = random.Random(seed)
    base = demo_texts()
    items: list[dict] = []
    for i in range(n):
        if items and rng.random() < duplicate_share:
            text = rng.choice(items[-5000:])["text"]  # an exact repeat, as a retweet carries
        else:
            shape = rng.random()
            parts = [rng.choice(OPENERS) + rng.choice(base)]
            if shape > 0.55:  # medium: a second sentence
                parts.append(" ".join(rng.choices(FILLER, k=rng.randint(6, 20))) + ".")
            if shape > 0.9:  # long: a paragraph
                parts.extend(rng.choice(base) for _ in range(rng.randint(2, 5)))
                parts.append(" ".join(rng.choices(FILLER, k=rng.randint(30, 80))) + ".")
            if rng.random() < 0.35:
                parts.append(" ".join(rng.choices(EMOJI, k=rng.randint(1, 4))))
            if rng.random() < 0.3:
                parts.append(f"https://example.com/p/{rng.randrange(10**6)}?utm_source=x")
            if rng.random() < 0.25:
                parts.append(f"#acme{rng.choice(['', 'rocket', 'fail', 'love'])} @{rng.choice(AUTHORS)}")
            text = " ".join(parts)
        items.append({"external_id": f"b{seed}-{i}", "text": text, "author": rng.choice(AUTHORS),
                      "url": f"https://social.example/{rng.choice(AUTHORS)}/{i}"})
    return items


# -- servers and databases --------------------------------------------------------------------
def service_urls() -> dict[str, str]:
    """URLs of `make services` (PostgreSQL, Redis, Kafka); fails if they are not running."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "services.py"), "env"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _pg_admin(urls: dict, superuser: bool = False) -> str:
    from sqlalchemy.engine import make_url

    base = make_url(urls["DATABASE_URL"])
    user = "postgres" if superuser else base.username
    dbname = "postgres" if superuser else base.database
    return f"host={base.host} port={base.port} user={user} dbname={dbname}"


def database_url(urls: dict, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(urls["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)


def database_exists(urls: dict, name: str) -> bool:
    import psycopg

    with psycopg.connect(_pg_admin(urls), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(urls: dict, name: str) -> str:
    import psycopg

    with psycopg.connect(_pg_admin(urls), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(urls, name)


def drop_database(urls: dict, name: str) -> None:
    """Drop `name`, ending its sessions (the superuser may end autovacuum's too)."""
    import psycopg

    with psycopg.connect(_pg_admin(urls, superuser=True), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(urls: dict, prefix: str = "sentimon_bench") -> Iterator[str]:
    """A new empty PostgreSQL database for one benchmark, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(urls, name)
    try:
        yield url
    finally:
        drop_database(urls, name)


def unique_prefix(tag: str) -> str:
    """A Kafka topic/group prefix and Redis-queue suffix no other run uses."""
    return f"bench{tag}{uuid.uuid4().hex[:8]}."


def app_config(tmp: Path, urls: dict, database: str, bus_url: str, redis_db: int = 5, **extra) -> dict:
    """Flask config of a benchmark's own Sentimon (its database, bus prefix, Redis db)."""
    redis = urls["CELERY_BROKER_URL"].rsplit("/", 1)[0]
    return {
        "INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-secret",
        "DATABASE_URL": database, "BUS_URL": bus_url,
        "CELERY_BROKER_URL": f"{redis}/{redis_db}", "CELERY_RESULT_BACKEND": f"{redis}/{redis_db + 1}",
        **extra,
    }


def make_app(config: dict):
    """create_app(config) with the schema migrated (as every process of the benchmark sees it)."""
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    return app


def process_env(config: dict, **extra) -> dict:
    """Environment for a worker or web process that uses the same settings as `config`."""
    env = {**os.environ, "SENTIMON_INSTANCE": config["INSTANCE_PATH"]}
    env.update({k: str(v) for k, v in config.items() if k.isupper() and k not in ("INSTANCE_PATH", "TESTING")})
    env.update({k: str(v) for k, v in extra.items()})
    return env


# -- processes --------------------------------------------------------------------------------
def spawn(argv: list[str], env: dict, log: Path, cwd: Path | str = ROOT) -> subprocess.Popen:
    """Start a process in its own session (so that stop() ends its children too), in `cwd` (this
    checkout unless another one's code is measured)."""
    handle = log.open("w")
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def start_worker(name: str, env: dict, log: Path, queues: str = "celery",
                 concurrency: int = 1) -> subprocess.Popen:
    """One real Celery worker (`celery -A tasks worker`), prefork pool, as `make stack` runs it."""
    return spawn([str(BIN / "celery"), "-A", "tasks", "worker", "-n", f"{name}@%h", "-Q", queues,
                  "--concurrency", str(concurrency), "--loglevel", "INFO",
                  "--without-gossip", "--without-mingle", "--without-heartbeat"], env, log)


def start_gunicorn(port: int, env: dict, log: Path, workers: int | None = None,
                   threads: int | None = None, tree: Path | str = ROOT) -> subprocess.Popen:
    """The web server as `make stack` runs it (gunicorn.conf.py: 2 processes per core, 1 thread)
    unless `workers`/`threads` are given; `tree`: the checkout whose code (and gunicorn.conf.py)
    it serves."""
    extra = [*(["--workers", str(workers)] if workers else []), *(["--threads", str(threads)] if threads else [])]
    return spawn([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *extra, "wsgi:app"],
                 {**env, "PYTHONPATH": str(tree)} if str(tree) != str(ROOT) else env, log, cwd=tree)


def start_stack(procs: list, port: int, env: dict, tmp: Path, queue: str, workers: int = 2) -> None:
    """gunicorn (as `make stack` runs it) and `workers` Celery workers (prefork 2, consumer
    bootstep) on `queue`, appended to `procs` (so the caller stops them even on failure); returns
    once the web answers /healthz."""
    procs.append(start_gunicorn(port, env, tmp / "web.log"))
    for n in range(1, workers + 1):
        procs.append(start_worker(f"w{n}-{queue}", env, tmp / f"worker{n}.log", queues=queue, concurrency=2))
    wait_http(f"http://127.0.0.1:{port}/healthz", 90)


def stop(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after `timeout`."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()


def wait_for(predicate: Callable, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    def ok():
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for(ok, timeout, 0.3, url)


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (the first is the state, then the
    parent's pid; utime, stime, cutime, cstime at 11-14), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu(pid: int, reaped: bool = False) -> float | None:
    """CPU seconds (user + system) of a process of this machine (a PostgreSQL server process:
    `SELECT pg_backend_pid()` of a connection), None when it cannot be read (another machine).
    `reaped`: with the children it has waited for after they ended."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return sum(int(f) for f in fields[11:15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float | None:
    """CPU seconds of a process and every process under it, each with the children it has waited
    for after they ended (gunicorn and its workers; the PostgreSQL server and its backends, a
    closed connection's included): None when it cannot be read (another machine)."""
    own = process_cpu(pid, reaped=True)
    if own is None:
        return None
    return own + sum(process_cpu(child, reaped=True) or 0.0 for child in descendants(pid))


def database_server_pid(urls: dict) -> int | None:
    """The pid of `make services`' PostgreSQL server (postmaster) when it runs on this machine:
    the parent of a backend of ours. None on another machine."""
    import psycopg

    with psycopg.connect(_pg_admin(urls), autocommit=True) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:   # read while the backend is there; a pid of another machine's server is not ours
            if Path(f"/proc/{backend}/comm").read_text().strip() != "postgres":
                return None
        except OSError:
            return None
        fields = _stat_fields(backend)
        return int(fields[1]) if fields else None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                kids = []
            out.extend(kids)
            todo.extend(kids)
    return out


class RssWatch:
    """Peak resident memory of processes and their children: VmHWM, sampled until stopped
    (a pool child that exits takes its own peak with it, so sampling keeps the last seen)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.main: dict[str, int] = {k: 0 for k in pids}      # kB, the process itself
        self.tree: dict[str, int] = {k: 0 for k in pids}      # kB, itself + children (summed)
        self.child: dict[int, int] = {}
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            own = _status_kb(pid, "VmHWM")
            self.main[name] = max(self.main[name], own)
            total = own
            for kid in descendants(pid):
                self.child[kid] = max(self.child.get(kid, 0), _status_kb(kid, "VmHWM"))
                total += self.child[kid]
            self.tree[name] = max(self.tree[name], total)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sample()
        self._stop.set()
        self._thread.join(timeout=5)


def editor_token(session, email: str) -> str:
    """A new editor of the Default team (where monitors go by default) and an API token of theirs."""
    from webapp.people.auth import create_token
    from webapp.people.models import User
    from webapp.people.services import teams

    user = User(email=email, role="editor")
    user.set_password("bench-password")
    session.add(user)
    session.flush()
    teams.join(session, teams.ensure_team(session, "Default"), user, "editor")
    session.commit()
    return create_token(user)


def sign_in(client, email: str, password: str) -> None:
    """Sign a Flask test client in through the real login form (CSRF token, session version)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": password, **({"csrf_token": csrf.group(1)} if csrf else {})}
    client.post("/login", data=data)
    if client.get("/").status_code != 200:
        raise RuntimeError("signing in through the login form failed")
