"""Three Kafka brokers (replication factor 3, min.insync.replicas 2) under a stream of pushes: the
partition leader killed with SIGKILL, then a rolling restart of all three. Nothing pushed is lost,
nothing is stored twice.

The cluster is the 3-node variant of scripts/services.py (its own ports and folders, beside the
one-node broker the other tests use), started here (idempotent) and stopped at the end. Pushes go
through the app's push API, so through the Kafka bus's producer (acks=all, idempotent, every send
confirmed before the 202); a push answered otherwise is sent again, as a client would. Two
`flask consume` processes (webapp/ingest/pipeline.py) store into PostgreSQL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from kafka.partitioner.default import murmur2
from sqlalchemy import text

from webapp import create_app
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC
from webapp.monitors.services.manage import create_monitor
from webapp.people.auth import create_token
from webapp.people.models import User

from tests.helpers import make_user, stop_process, wait_for

pytestmark = [pytest.mark.services,
              pytest.mark.filterwarnings("ignore:.*is deprecated. Use files:DeprecationWarning")]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICES = [sys.executable, str(ROOT / "scripts" / "services.py")]
THREE = ["--kafka-nodes", "3"]
PARTITIONS = 3
BATCH = 100
PACE = 0.05  # seconds between pushes: a steady stream that leaves the 2 cores to the brokers


def services(*args: str, timeout: float = 180) -> str:
    done = subprocess.run([*SERVICES, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"services.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def three_brokers():
    """The 3-node cluster's bootstrap servers; stopped after the module (the 1-node broker stays)."""
    services("up", *THREE, timeout=600)
    env = dict(line.split("=", 1) for line in services("env", *THREE).splitlines() if "=" in line)
    yield env["BUS_URL"]
    services("down", *THREE, timeout=120)


class Pusher(threading.Thread):
    """Pushes batches of new mentions until stopped; a batch not answered 202 is pushed again."""

    def __init__(self, client, path: str, token: str):
        super().__init__(daemon=True)
        self.client, self.path, self.headers = client, path, {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.sent = 0          # mentions in batches answered 202
        self.retries = 0
        self.error: BaseException | None = None
        self.last: tuple | None = None   # the latest answer (status, body), for failure messages

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                items = [{"external_id": f"k{i}", "text": f"mention {i}: {'great' if i % 2 else 'awful'} launch"}
                         for i in range(self.sent, self.sent + BATCH)]
                response = self.client.post(self.path, json=items, headers=self.headers)
                self.last = (response.status_code, response.get_data(as_text=True)[:300])
                if response.status_code == 202:
                    self.sent += BATCH
                    self.stop.wait(PACE)
                else:
                    self.retries += 1
                    self.stop.wait(0.5)
        except BaseException as exc:  # shown by the test, never swallowed
            self.error = exc

    def __repr__(self) -> str:
        return f"<pusher sent={self.sent} retries={self.retries} error={self.error!r} last={self.last!r}>"

    def progressed(self, since: int, batches: int = 2) -> bool:
        assert self.error is None, self.error
        assert self.is_alive(), "the pusher stopped"
        return self.sent >= since + batches * BATCH


class Admin:
    """The topic's partitions as the cluster reports them (leaders, in-sync replicas)."""

    def __init__(self, servers: list[str], topic: str):
        from kafka.admin import KafkaAdminClient

        self.servers, self.topic = servers, topic
        self.client = KafkaAdminClient(bootstrap_servers=servers, client_id="sentimon-test-admin")

    def create_topic(self) -> None:
        from kafka.admin import NewTopic

        self.client.create_topics([NewTopic(self.topic, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"})])

    def partitions(self) -> list[dict]:
        try:
            described = self.client.describe_topics([self.topic])
        except Exception:  # the broker asked just went away: ask again
            return []
        return described[0]["partitions"] if described and not described[0]["error_code"] else []

    def fully_replicated(self) -> bool:
        parts = self.partitions()
        return len(parts) == PARTITIONS and all(len(p["isr_nodes"]) == 3 and p["leader_id"] >= 0 for p in parts)

    def leader_of(self, partition: int) -> int:
        return next((p["leader_id"] for p in self.partitions() if p["partition_index"] == partition), -1)

    def min_insync(self) -> str:
        from kafka.admin import ConfigResource, ConfigResourceType

        result = self.client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, self.topic)])
        return result["topic"][self.topic]["min.insync.replicas"]["value"]

    def close(self) -> None:
        self.client.close()


def test_leader_killed_then_rolling_restart_loses_and_doubles_nothing(three_brokers, pg_migrated_url, tmp_path):
    started = time.monotonic()
    prefix = f"c{uuid.uuid4().hex[:8]}."
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "cluster",
              "DATABASE_URL": pg_migrated_url, "BUS_URL": f"{three_brokers}?partitions={PARTITIONS}&prefix={prefix}",
              "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path}/broker.sqlite", "EGRESS_ALLOW": "127.0.0.1"}
    app = create_app(config)
    user_id = make_user(app, email="cluster@example.com")  # an editor in the Default team
    with app.app_context():
        token = create_token(db.session.get(User, user_id))
        monitor_id = create_monitor(db.session, "Cluster", "", []).id
        bus = runtime.bus()
    admin = Admin(bus.servers, bus.name(MENTIONS_TOPIC))
    admin.create_topic()
    wait_for(admin.fully_replicated, 30, 0.2, "the topic on three replicas")
    assert all(len(p["replica_nodes"]) == 3 for p in admin.partitions())
    assert admin.min_insync() == "2"

    env = {**os.environ, "SENTIMON_INSTANCE": config["INSTANCE_PATH"],
           **{k: v for k, v in config.items() if k.isupper() and k not in ("TESTING", "INSTANCE_PATH")}}
    consumers = {}
    for n in (1, 2):
        log = (tmp_path / f"consumer{n}.log").open("w")
        consumers[n] = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "consume"], cwd=ROOT, env=env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    pusher = Pusher(app.test_client(), f"/api/v1/monitors/{monitor_id}/mentions", token)

    def stored() -> tuple[int, int, int]:
        with app.app_context():
            try:
                return tuple(db.session.execute(text(
                    "SELECT count(*), count(DISTINCT (monitor_id, source_id, external_id)), "
                    "(SELECT coalesce(sum(count), 0) FROM rollups WHERE source_id = 0 AND bucket = '1d') "
                    "FROM mentions")).one())
            finally:
                db.session.remove()

    def wait(predicate, timeout: float, what: str, interval: float = 0.2):
        """wait_for, and on a timeout the pusher's and the stored state in the message."""
        try:
            return wait_for(predicate, timeout, interval, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {pusher!r}; stored (rows, distinct, rollups) {stored()}") from None

    timings = {}
    try:
        pusher.start()
        wait(lambda: stored()[0] >= 2 * BATCH, 60, "the stream stored by the consumers")
        timings["stream flowing"] = time.monotonic() - started

        # SIGKILL of the leader of the monitor's partition (records are keyed by monitor id, murmur2
        # as the producer partitions) in the middle of the stream; pushes go on to a new leader.
        partition = (murmur2(str(monitor_id).encode()) & 0x7FFFFFFF) % PARTITIONS
        leader = admin.leader_of(partition)
        services("kill-kafka", str(leader), *THREE)
        mark, at = pusher.sent, time.monotonic()   # the broker is gone: what is accepted now is new
        wait(lambda: pusher.progressed(mark), 90, f"pushes accepted with broker {leader} dead")
        timings["pushes flowing again after the leader kill"] = time.monotonic() - at
        wait(lambda: admin.leader_of(partition) not in (leader, -1), 30, f"a leader other than {leader}")
        at = time.monotonic()
        services("start-kafka", str(leader), *THREE)
        wait(admin.fully_replicated, 60, f"broker {leader} back in sync")
        timings[f"broker {leader} restarted and in sync"] = time.monotonic() - at

        # Rolling restart: one broker at a time, each back in sync before the next goes.
        at = time.monotonic()
        for node in (1, 2, 3):
            mark = pusher.sent
            services("stop-kafka", str(node), *THREE)
            wait(lambda: pusher.progressed(mark, 1), 60, f"pushes accepted with broker {node} stopped")
            services("start-kafka", str(node), *THREE)
            wait(admin.fully_replicated, 60, f"broker {node} back in sync")
        timings["rolling restart"] = time.monotonic() - at
        mark = pusher.sent
        wait(lambda: pusher.progressed(mark), 30, "pushes after the rolling restart")
    finally:
        pusher.stop.set()
        pusher.join(60)
    assert pusher.error is None, pusher.error
    sent, at = pusher.sent, time.monotonic()
    try:
        wait(lambda: stored()[0] >= sent, 90, f"all {sent} pushed mentions stored")
        with app.app_context():
            wait_for(lambda: bus.lag(MENTIONS_TOPIC, MENTIONS_GROUP) == 0, 60, 0.5, "the consumer lag to settle")
        # Exactly the pushed mentions: none lost, none twice, each counted once in the rollups.
        assert stored() == (sent, sent, sent)
        timings["backlog stored after the last push"] = time.monotonic() - at
    finally:
        for n, proc in consumers.items():
            stop_process(proc, tmp_path / f"consumer{n}.log")
        admin.close()
        with app.app_context():
            runtime.bus().close()
            db.session.remove()
            db.engine.dispose()
    timings["total"] = time.monotonic() - started
    print(f"{sent} mentions pushed ({pusher.retries} pushes answered otherwise and sent again), all stored "
          f"once; " + ", ".join(f"{k}: {v:.1f} s" for k, v in timings.items()))
