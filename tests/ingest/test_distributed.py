"""Distributed mode on the real servers: Kafka bus, Redis broker, PostgreSQL, several workers.

Every test asserts exact counts in PostgreSQL (count(*) = count(distinct identity) = pushed) and a
settled consumer lag. Faults are real: kill -9 of workers, the broker killed and restarted,
PostgreSQL stopped, Redis restarted. They hit servers of this module's own (scripts/services.py with
a folder and ports of its own, started here and stopped at the end), so the rest of the suite keeps
running beside them on the shared servers.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.core import runtime
from webapp.people.auth import create_token
from webapp.people.services import teams
from webapp.core.extensions import db
from webapp.people.models import User
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC
from webapp.monitors.services.manage import create_monitor

from tests.helpers import pg_database, pg_migrated_template, stop_process, wait_for

# One set of own servers for the module: its tests stay on one pytest-xdist worker (`--dist loadgroup`).
pytestmark = [pytest.mark.services, pytest.mark.xdist_group("own-servers")]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICES = [sys.executable, str(ROOT / "scripts" / "services.py")]
# The module's own servers, one set per pytest-xdist worker (gw0, gw1, ... or none): every port of
# scripts/services.py shifted by 1000 + 100 x the worker's number, a folder beside the shared one.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
OWN_SERVERS = {"SENTIMON_PORT_OFFSET": str(1000 + 100 * WORKER),
               "SENTIMON_SERVICES": (os.environ.get("SENTIMON_SERVICES")
                                     or str(Path.home() / ".cache" / "sentimon" / "services")) + f"-faults-{WORKER}"}


def services(*args: str, timeout: float = 60) -> str:
    """scripts/services.py on the module's own servers; its output."""
    done = subprocess.run([*SERVICES, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **OWN_SERVERS})
    assert done.returncode == 0, f"services.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def service_urls() -> dict[str, str]:
    """Like the shared fixture, but the settings of the module's own servers, started at the module's
    first test and stopped after its last (`--dist loadgroup` runs the module's tests on one worker,
    one after another), so that they cost nothing while the rest of the suite runs."""
    services("up", "--kafka-nodes", "1", timeout=600)
    try:
        yield dict(line.split("=", 1) for line in services("env", "--kafka-nodes", "1").splitlines() if "=" in line)
    finally:
        services("down", timeout=180)


class Cluster:
    """One test's Sentimon against the shared servers: its own database, topic prefix and queues."""

    def __init__(self, tmp_path: Path, service_urls: dict, pg_url: str):
        prefix = f"t{uuid.uuid4().hex[:8]}."
        redis = service_urls["CELERY_BROKER_URL"].rsplit("/", 1)[0]
        self.tmp = tmp_path
        self.config = {
            "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "dist",
            "DATABASE_URL": pg_url, "BUS_URL": f"{service_urls['BUS_URL']}?partitions=6&prefix={prefix}",
            "CELERY_BROKER_URL": f"{redis}/3", "CELERY_RESULT_BACKEND": f"{redis}/4",
            "EGRESS_ALLOW": "127.0.0.1",
        }
        self.app = create_app(self.config)
        with self.app.app_context():
            upgrade(revision="heads")
            user = User(email="dist@example.com", role="editor")
            user.set_password("distributed")
            db.session.add(user)
            db.session.flush()
            teams.join(db.session, teams.ensure_team(db.session, "Default"), user, "editor")
            db.session.commit()
            self.token = create_token(user)
            self.monitor_id = create_monitor(db.session, "Dist", "", []).id
        self.client = self.app.test_client()
        self.workers: dict[str, subprocess.Popen] = {}

    def env(self) -> dict:
        import os

        env = {**os.environ, "SENTIMON_INSTANCE": self.config["INSTANCE_PATH"]}
        env.update({k: v for k, v in self.config.items() if k.isupper() and k not in ("TESTING", "INSTANCE_PATH")})
        return env

    def start_worker(self, name: str) -> None:
        log = (self.tmp / f"{name}.log").open("w")
        self.workers[name] = subprocess.Popen(
            [str(BIN / "celery"), "-A", "tasks", "worker", "-n", f"{name}@%h", "--pool", "threads",
             "--concurrency", "2", "-Q", "celery,fetch,alerts,notify", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill_worker(self, name: str) -> None:
        import os
        import signal

        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for name, proc in list(self.workers.items()):
            stop_process(proc, self.tmp / f"{name}.log")
        with self.app.app_context():
            runtime.bus().close()
            db.session.remove()
            db.engine.dispose()

    def push(self, start: int, count: int, chunk: int = 5000) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        for first in range(start, start + count, chunk):
            items = [{"external_id": f"x{i}", "text": f"mention {i}: {'great' if i % 2 else 'awful'} service"}
                     for i in range(first, min(first + chunk, start + count))]
            response = self.client.post(f"/api/v1/monitors/{self.monitor_id}/mentions", json=items, headers=headers)
            assert response.status_code == 202, response.json

    def counts(self) -> tuple[int, int]:
        with self.app.app_context():
            try:
                row = db.session.execute(text(
                    "SELECT count(*), count(DISTINCT (monitor_id, source_id, external_id)) FROM mentions")).one()
                return tuple(row)
            except Exception:
                db.session.rollback()
                return (-1, -1)
            finally:
                db.session.remove()

    def rollup_total(self) -> int:
        with self.app.app_context():
            total = db.session.execute(text(
                "SELECT coalesce(sum(count), 0) FROM rollups WHERE source_id = 0 AND bucket = '1d'")).scalar()
            db.session.remove()
            return total

    def lag(self) -> int:
        with self.app.app_context():
            return runtime.bus().lag(MENTIONS_TOPIC, MENTIONS_GROUP)

    def wait_all(self, expected: int, timeout: float) -> float:
        """Wait until exactly `expected` mentions are stored; returns the seconds it took."""
        started = time.monotonic()
        wait_for(lambda: self.counts()[0] >= expected, timeout, 0.5, f"{expected} mentions in PostgreSQL")
        wait_for(lambda: self.lag() == 0, 60, 0.5, "the consumer lag to settle")
        assert self.counts() == (expected, expected)
        assert self.rollup_total() == expected  # rollups counted each mention once too
        return time.monotonic() - started

    def assigned_partitions(self) -> set[int]:
        """The partitions of the latest assignment each live worker logged."""
        found: set[int] = set()
        for name in self.workers:
            lines = re.findall(r"assigned \[([0-9, ]*)\]", (self.tmp / f"{name}.log").read_text(errors="replace"))
            if lines:
                found |= {int(p) for p in lines[-1].split(",") if p.strip()}
        return found


@pytest.fixture(scope="module")
def pg_template(service_urls, tmp_path_factory):
    """Like the shared fixture: one migrated database on the module's own PostgreSQL, copied per test."""
    with pg_migrated_template(service_urls, tmp_path_factory.mktemp("pg-template")) as name:
        yield name


@pytest.fixture
def pg_migrated_url(service_urls, pg_template):
    """A copy made when the test asks (not ahead, as the shared fixture does: these tests stop the
    servers the copies would be made on)."""
    with pg_database(service_urls, template=pg_template) as (_name, url):
        yield url


@pytest.fixture
def cluster(tmp_path, service_urls, pg_migrated_url):
    c = Cluster(tmp_path, service_urls, pg_migrated_url)
    yield c
    c.stop()


def test_three_workers_take_20000_mentions_exactly_once(cluster):
    for n in (1, 2, 3):
        cluster.start_worker(f"w{n}")
    cluster.push(0, 20_000)
    took = cluster.wait_all(20_000, 300)
    wait_for(lambda: cluster.assigned_partitions() == set(range(6)), 60, 0.5, "all partitions assigned")
    print(f"3 workers stored 20000 mentions in {took:.1f}s")


def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(cluster):
    for n in (1, 2, 3):
        cluster.start_worker(f"w{n}")
    cluster.push(0, 20_000)
    wait_for(lambda: cluster.counts()[0] >= 3000, 180, 0.2, "the stream to be under way")
    cluster.kill_worker("w1")
    cluster.start_worker("w4")
    took = cluster.wait_all(20_000, 300)
    print(f"after kill -9 of a worker, all 20000 stored {took:.1f}s later")


def test_malformed_record_goes_to_the_dead_letter_topic_and_later_records_arrive(cluster, service_urls):
    from kafka import KafkaConsumer, KafkaProducer

    with cluster.app.app_context():
        bus = runtime.bus()
        bus.ensure_topic(MENTIONS_TOPIC)
        topic = bus.name(MENTIONS_TOPIC)
    producer = KafkaProducer(bootstrap_servers=bus.servers, acks="all")
    producer.send(topic, key=str(cluster.monitor_id).encode(), value=b"{not json")
    producer.flush()
    producer.close()
    cluster.push(0, 100)
    cluster.start_worker("w1")
    cluster.wait_all(100, 120)
    # The letter was written (and acknowledged) before the records after it were stored; reading
    # it back waits on the letter itself, not on a quiet spell: on a loaded machine the reader's
    # metadata and first fetch took longer than the 10 s of silence this test once allowed.
    dlt = KafkaConsumer(topic + ".dlt", bootstrap_servers=bus.servers, auto_offset_reset="earliest",
                        enable_auto_commit=False)
    try:
        letters: list = []
        deadline = time.monotonic() + 120
        while not letters and time.monotonic() < deadline:
            letters += [m for batch in dlt.poll(timeout_ms=1_000).values() for m in batch]
        partitions = list(dlt.assignment())
        written = sum(dlt.end_offsets(partitions).values()) - sum(dlt.beginning_offsets(partitions).values())
    finally:
        dlt.close()
    assert len(letters) == 1 and written == 1
    headers = dict(letters[0].headers)
    assert b"external_id" in headers["error"] or b"monitor_id" in headers["error"]


def test_broker_restart_redis_restart_and_postgres_outage_recover(cluster):
    """Each fault in turn during a stream; the pipeline recovers by itself."""
    for n in (1, 2):
        cluster.start_worker(f"w{n}")
    cluster.push(0, 2000)
    cluster.wait_all(2000, 120)

    # The Kafka broker killed hard and restarted while records wait to be consumed.
    cluster.push(2000, 2000)
    services("kill-kafka", "1")
    services("start-kafka", "1", timeout=180)
    cleared = time.monotonic()
    cluster.push(4000, 2000)
    cluster.wait_all(6000, 60 + 60)
    print(f"broker restart: recovered {time.monotonic() - cleared:.1f}s after it came back")

    # Redis restarted: workers reconnect, tasks run again.
    services("restart-redis")
    cleared = time.monotonic()
    celery_app = cluster.app.extensions["celery"]
    wait_for(lambda: _dispatch_answers(celery_app), 60, 1, "a task to run after the Redis restart")
    print(f"redis restart: tasks ran again {time.monotonic() - cleared:.1f}s after it came back")

    # PostgreSQL away for 30 seconds while mentions keep coming.
    cluster.push(6000, 2000)
    services("stop-postgres")
    time.sleep(30)  # the outage itself is the fault being tested, not a wait for a condition
    services("start-postgres", timeout=120)
    cleared = time.monotonic()
    cluster.wait_all(8000, 60)
    print(f"postgres outage: all stored {time.monotonic() - cleared:.1f}s after it came back")


def _dispatch_answers(celery_app) -> bool:
    try:
        return celery_app.send_task("fetch.dispatch_due").get(timeout=10) == 0
    except Exception:
        return False


def test_consumer_killed_after_or_before_the_sql_commit(cluster):
    from webapp.ingest import pipeline
    from webapp.ingest.store import store_batch

    from tests.ingest.test_bus_contract import poll_all

    with cluster.app.app_context():
        bus = runtime.bus()
        cluster.push(0, 300)
        # Dies after the SQL commit, before the offset commit.
        first = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "first")
        store_batch(db.session, [e.value for e in poll_all(first, 300)])
        db.session.commit()
        first.consumer.close(autocommit=False)
        # Dies before the SQL commit.
        cluster.push(300, 300)
        second = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "second")
        store_batch(db.session, [e.value for e in poll_all(second, 600)])
        db.session.rollback()
        second.consumer.close(autocommit=False)
        # The replacement gets everything not committed: 300 already stored, 300 not.
        third = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "third")
        outcome = pipeline.handle_batch(db.session, third, poll_all(third, 600))
        third.close()
        db.session.remove()
    assert (outcome.records, outcome.inserted, outcome.duplicates) == (600, 300, 300)
    cluster.wait_all(600, 30)
