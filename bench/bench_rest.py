"""The REST path: mentions pushed through `POST /api/v1/monitors/<id>/mentions` until stored and
counted, against the pipeline's references measured in the same run.

    .venv/bin/python bench/bench_rest.py [--mentions 100000] [--batch 5000] [--monitors 24]
        [--clients 4] [--naive 5000] [--ceiling 50000] [--lang en] [--bus-batch N] [--profile DIR]

A real gunicorn as `make stack` runs it (gunicorn.conf.py) and 2 real Celery workers (prefork 2,
the consumer bootstep) run on PostgreSQL, Redis and Kafka (fresh database, unique topic prefix).
--mentions corpus mentions (bench/common.py) are pushed in batches of --batch over --monitors
monitors by --clients keep-alive HTTP clients (bodies encoded before the clock starts). Rate =
mentions stored / wall time from the first push to the last row counted in SQL; then SQL checks
that every mention is stored exactly once, the 1d rollups count each once and nothing went to
the dead letters. `rest.push_rate` is the pushing alone (first push to the last 202).

References (bench_pipeline.references): the naive design and scoring alone with the fast scorer
(the ceiling) and with stock NLTK, 2 processes, 500 a call. Goals: >= 10x naive and >= 0.3x the
fast scorer's ceiling (the ceilings are measured before and after the run, the mean kept); the
exit status is 1 when one is missed or a mention is lost or doubled. The store's floor and the
bound it sets are measured after the run as bench_pipeline.py does (`rest.store_floor`,
`rest.store_bound`).
--profile DIR samples the web and worker processes with py-spy (installed separately) into
DIR/<process>.txt (collapsed stacks) and prints each one's top functions.
"""
from __future__ import annotations

import argparse
import http.client
import json
import queue
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import common
from bench_pipeline import Counter, rate_goals, references, remeasure_ceilings, store_floor, timestamps
from common import figure, note


def bodies(items: list[dict], stamps: list[str], monitors: list[int], batch: int,
           lang: str | None = None) -> list[tuple[int, bytes]]:
    """(monitor id, encoded JSON body) of each push, the batches dealt round-robin to monitors;
    with `lang`, every mention says its language (the worker then detects none)."""
    extra = {"lang": lang} if lang else {}
    out = []
    for k, start in enumerate(range(0, len(items), batch)):
        chunk = [{**item, "published_at": stamp, **extra}
                 for item, stamp in zip(items[start:start + batch], stamps[start:start + batch])]
        out.append((monitors[k % len(monitors)], json.dumps(chunk).encode()))
    return out


def push_all(port: int, token: str, work: list[tuple[int, bytes]], clients: int) -> tuple[float, list[str]]:
    """Push every body with `clients` keep-alive clients; (seconds until the last 202, errors)."""
    todo: queue.Queue = queue.Queue()
    for entry in work:
        todo.put(entry)
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            try:
                monitor_id, body = todo.get_nowait()
            except queue.Empty:
                return
            try:
                conn.request("POST", f"/api/v1/monitors/{monitor_id}/mentions", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.status != 202:
                    errors.append(f"{response.status}: {data[:200]!r}")
            except OSError as exc:
                errors.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, errors


class Profiler:
    """py-spy sampling each process (active time only) until stopped; collapsed stacks out."""

    def __init__(self, folder: Path | None, pids: dict[str, int]):
        self.folder, self.procs = folder, []
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            self.procs.append((name, subprocess.Popen(
                [str(common.BIN / "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--threads",
                 "--rate", "50", "--output", str(folder / f"{name}.txt"), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))

    def stop(self) -> None:
        import signal

        for _, proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for name, proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            summarize(self.folder / f"{name}.txt", name)
        consumer_shares([self.folder / f"{name}.txt" for name, _ in self.procs if name.startswith("worker")])


# The consumer's store steps, by the first of these found on a sampled stack (in this order).
STEPS = (("term rollups", ("ingest/term_rollups.py",)), ("language detection", ("detect_many",)),
         ("scoring", ("score_rows",)), ("insight rollups", ("insights/rollups.py",)),
         ("mentions insert", ("_insert_new",)), ("rollups", ("ingest/rollups.py",)),
         ("auto-tags", ("autotag",)), ("noise", ("mentions/noise",)), ("normalise", ("normalize (",)),
         ("kafka poll and decode", ("kafka",)), ("commit", ("Session.commit",)))


def consumer_shares(paths: list[Path]) -> None:
    """Print each store step's share of the workers' bus-consumer threads (active samples)."""
    total, shares = 0, dict.fromkeys([name for name, _ in STEPS] + ["other"], 0)
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if "bus-consumer" not in stack or not count.isdigit():
                continue
            total += int(count)
            step = next((name for name, marks in STEPS if any(m in stack for m in marks)), "other")
            shares[step] += int(count)
    note(f"consumer threads: {total} samples; share by store step:")
    for name, count in sorted(shares.items(), key=lambda kv: -kv[1]):
        note(f"  {100 * count / max(total, 1):5.1f}%  {name}")


def summarize(path: Path, name: str, top: int = 12) -> None:
    """Print the functions on the most sampled stacks (inclusive share) of a collapsed-stack file."""
    if not path.exists():
        note(f"profile {name}: no samples (is py-spy installed and allowed to attach?)")
        return
    total, inclusive = 0, {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    note(f"profile {name}: {total} samples")
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        note(f"  {100 * count / max(total, 1):5.1f}%  {frame[:150]}")


def run_rest(urls: dict, tmp: Path, items: list[dict], stamps: list[str], args) -> dict:
    from webapp.core.extensions import db
    from webapp.monitors.services.manage import create_monitor

    prefix = common.unique_prefix("r")
    queue_name = f"bench-rest-{uuid.uuid4().hex[:8]}"
    out: dict = {}
    with common.fresh_database(urls) as url:
        config = common.app_config(tmp / "rest", urls, url, f"{urls['BUS_URL']}?partitions=6&prefix={prefix}",
                                   redis_db=13, **({"BUS_BATCH_SIZE": args.bus_batch} if args.bus_batch else {}))
        app = common.make_app(config)
        with app.app_context():
            token = common.editor_token(db.session, "rest@example.com")
            warm = create_monitor(db.session, "Warm-up", "", []).id
            monitors = [create_monitor(db.session, f"Rest {m}", "", []).id for m in range(args.monitors)]
            db.session.remove()
            db.engine.dispose()
        work = bodies(items, stamps, monitors, args.batch, args.lang)
        env = common.process_env(config)
        port = common.free_port()
        procs = []
        count = Counter(url)
        try:
            common.start_stack(procs, port, env, tmp, queue_name)
            # Ready when a push went all the way through (every web process answers one).
            warm_body = json.dumps([{"external_id": f"warm-{i}", "text": "warming up, all good"}
                                    for i in range(50)]).encode()
            _, errors = push_all(port, token, [(warm, warm_body)] * 8, 4)
            if errors:
                raise RuntimeError(f"warm-up push failed: {errors[0]}")
            common.wait_for(lambda: count() >= 50, 120, 0.2, "the workers to store the warm-up push")
            pids = {"web": procs[0].pid, "worker1": procs[1].pid, "worker2": procs[2].pid}
            pids.update({f"web-{i}": pid for i, pid in enumerate(common.descendants(procs[0].pid))})
            profiler = Profiler(args.profile, pids)
            where = f"monitor_id <> {warm}"
            start = time.perf_counter()
            out["push_seconds"], out["errors"] = push_all(port, token, work, args.clients)
            deadline = start + 900
            stored = 0
            while time.perf_counter() < deadline:
                stored = count(f"SELECT count(*) FROM mentions WHERE {where}")
                if stored >= len(items) or out["errors"]:
                    break
                if any(p.poll() is not None for p in procs):
                    raise RuntimeError("a web or worker process exited")
                time.sleep(0.05)
            out["seconds"] = time.perf_counter() - start
            profiler.stop()
            out["stored"] = stored
            out["distinct"] = count(f"SELECT count(DISTINCT (monitor_id, external_id)) FROM mentions WHERE {where}")
            out["rollup_total"] = count("SELECT coalesce(sum(count), 0) FROM rollups "
                                        f"WHERE source_id = 0 AND bucket = '1d' AND {where}")
            out["dead"] = count("SELECT count(*) FROM dead_letters")
            common.stop(procs)
            out["floor"] = store_floor(count, where)
            if out["errors"]:
                for line in (tmp / "web.log").read_text(errors="replace").splitlines()[-20:]:
                    note(f"web.log: {line}")
        finally:
            common.stop(procs)
            count.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="mentions per push (the API takes up to 5,000)")
    parser.add_argument("--monitors", type=int, default=24)
    parser.add_argument("--clients", type=int, default=4, help="HTTP clients pushing at once")
    parser.add_argument("--naive", type=int, default=5_000)
    parser.add_argument("--ceiling", type=int, default=50_000, help="texts scored for the ceilings")
    parser.add_argument("--lang", help="push every mention with this language (no detection in the worker)")
    parser.add_argument("--bus-batch", type=int, help="BUS_BATCH_SIZE of the workers (default: as shipped)")
    parser.add_argument("--profile", type=Path, help="sample web and workers with py-spy into this folder")
    args = parser.parse_args()

    urls = common.service_urls()
    items = common.corpus(args.mentions, seed=19)
    stamps = timestamps(len(items), datetime.now(timezone.utc))
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name:
        tmp = Path(tmp_name)
        refs = references(urls, tmp, items, stamps, args.naive, args.ceiling)
        result = run_rest(urls, tmp, items, stamps, args)
        remeasure_ceilings(refs, items, args.ceiling)

    n = len(items)
    rate = result["stored"] / result["seconds"]
    met = rate_goals("rest", rate, refs, result["floor"])
    figure("rest.push_rate", n / result["push_seconds"], "mentions/s", "rest_rate", rate)
    exact = (result["stored"] == result["distinct"] == result["rollup_total"] == n
             and result["dead"] == 0 and not result["errors"])
    note(f"{n} mentions in batches of {args.batch} over {args.monitors} monitors, {args.clients} clients: "
         f"stored {result['stored']} ({result['distinct']} distinct), rollup total {result['rollup_total']}, "
         f"dead letters {result['dead']}, failed pushes {len(result['errors'])}: "
         f"{'exact' if exact else 'NOT EXACT'}")
    for error in result["errors"][:3]:
        note(f"push failed: {error}")
    if not exact:
        raise SystemExit("the REST path did not store every mention exactly once")
    if not met:
        raise SystemExit("a REST path goal was missed")


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
