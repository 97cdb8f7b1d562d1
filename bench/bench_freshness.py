"""Benchmark (3): freshness, the time from a push to its presence in the series API, at a steady
1,000 mentions per second through the REST API.

    .venv/bin/python bench/bench_freshness.py [--rate 1000] [--seconds 30] [--monitors 4]

A real gunicorn (as `make stack` runs it) and 2 real Celery workers (consumer bootstep) run
against PostgreSQL, Redis and Kafka (unique topic prefix, fresh database). One thread per monitor
pushes batches (`POST /api/v1/monitors/<id>/mentions`) on a fixed schedule, so the rate stays
steady and each monitor's pushes stay in order; a poller reads each monitor's
`GET /api/v1/monitors/<id>/series?bucket=15m` total over and over. A monitor's mentions share
one Kafka partition and are stored in order, so a push is present once the monitor's total
reaches the number pushed up to and including it; its latency is then - push start.
"""
from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import common
from common import figure, goal, note, percentile

TICK = 0.2  # seconds between a monitor's pushes


class Api:
    """A keep-alive HTTP client of one server, with a bearer token."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> dict:
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data)


def pusher(port, token, monitor_id, per_push, pushes, t0, log, errors, texts):
    api = Api(port, token)
    sent = 0
    for k in range(pushes):
        due = t0 + k * TICK
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        batch = [{"external_id": f"f{monitor_id}-{k}-{i}", "text": texts[(k * per_push + i) % len(texts)]}
                 for i in range(per_push)]
        started = time.perf_counter()
        try:
            api.call("POST", f"/api/v1/monitors/{monitor_id}/mentions", batch)
        except Exception as exc:  # counted, the run goes on
            errors.append(repr(exc))
            api = Api(port, token)
            continue
        sent += len(batch)
        log.append((sent, started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="mentions per second pushed")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--monitors", type=int, default=4)
    args = parser.parse_args()

    from webapp.core.extensions import db
    from webapp.monitors.services.manage import create_monitor

    urls = common.service_urls()
    prefix = common.unique_prefix("f")
    queue = f"bench-fresh-{uuid.uuid4().hex[:8]}"
    per_push = max(1, round(args.rate * TICK / args.monitors))
    pushes = int(args.seconds / TICK)
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name, \
            common.fresh_database(urls) as url:
        tmp = Path(tmp_name)
        config = common.app_config(tmp, urls, url, f"{urls['BUS_URL']}?partitions=6&prefix={prefix}", redis_db=11)
        app = common.make_app(config)
        with app.app_context():
            token = common.editor_token(db.session, "fresh@example.com")
            monitors = [create_monitor(db.session, f"Fresh {i}", "", []).id for i in range(args.monitors)]
            db.session.remove()
            db.engine.dispose()
        env = common.process_env(config)
        port = common.free_port()
        procs = []
        try:
            common.start_stack(procs, port, env, tmp, queue)
            api = Api(port, token)
            since = quote((datetime.now(timezone.utc) - timedelta(minutes=15)).isoformat())

            def total(monitor_id: int) -> int:
                end = quote((datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat())
                data = api.call("GET", f"/api/v1/monitors/{monitor_id}/series?bucket=15m&start={since}&end={end}")
                return sum(b["count"] for b in data["buckets"])

            # Ready when a first mention of every monitor went all the way through.
            for monitor_id in monitors:
                api.call("POST", f"/api/v1/monitors/{monitor_id}/mentions",
                         [{"external_id": f"warm-{monitor_id}", "text": "warming up, all good"}])
            common.wait_for(lambda: all(total(m) >= 1 for m in monitors), 120, 0.3, "the workers to consume")

            logs = {m: [] for m in monitors}
            errors: list[str] = []
            t0 = time.perf_counter() + 0.5
            texts = [item["text"] for item in common.corpus(20_000, seed=3)]
            threads = [threading.Thread(target=pusher, args=(port, token, m, per_push, pushes, t0, logs[m], errors, texts),
                                        daemon=True) for m in monitors]
            for t in threads:
                t.start()
            latencies: list[float] = []
            seen = {m: 0 for m in monitors}  # pushes of the monitor found present
            deadline = t0 + args.seconds + 90
            while time.perf_counter() < deadline:
                for m in monitors:
                    present = total(m) - 1  # minus the warm-up mention
                    now = time.perf_counter()
                    log = logs[m]
                    while seen[m] < len(log) and log[seen[m]][0] <= present:
                        latencies.append(now - log[seen[m]][1])
                        seen[m] += 1
                pushing = any(t.is_alive() for t in threads)
                if not pushing and all(seen[m] == len(logs[m]) for m in monitors):
                    break
            for t in threads:
                t.join(timeout=30)
            pushed = sum(log[-1][0] if log else 0 for log in logs.values())
            elapsed = max((log[-1][1] for log in logs.values() if log), default=t0) - t0 + TICK
            missing = sum(len(logs[m]) - seen[m] for m in monitors)
        finally:
            common.stop(procs)
    if not latencies:
        raise SystemExit("no push became visible")
    rate = pushed / elapsed
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    figure("freshness.push_rate", rate, "mentions/s", "target", args.rate)
    figure("freshness.p50", p50, "s", "goal_p95", 2.0)
    figure("freshness.p95", p95, "s", "goal", 2.0)
    figure("freshness.p99", p99, "s", "goal_p95", 2.0)
    note(f"{pushed} mentions in {sum(len(v) for v in logs.values())} pushes over {args.monitors} monitors, "
         f"{len(errors)} failed pushes, {missing} pushes never seen")
    goal("(3) freshness p95 < 2 s at 1,000 mentions/s", p95 < 2.0 and rate >= 0.95 * args.rate and not missing)


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
