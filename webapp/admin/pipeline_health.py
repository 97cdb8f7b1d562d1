"""How the pipeline is doing: Celery queue depths, the bus consumers' lag, dead letters waiting.

Read by the admin *Pipeline* page and by /metrics at scrape time, so both show the same
figures. Every probe is bounded in time and a probe that fails (Redis or Kafka away) becomes a
line in `errors` instead of an exception: a health page must work best when things are broken.

- Queue depths: kombu's own passive `queue_declare`, which answers with the transport's
  message count: LLEN of the queue's lists on Redis, the visible rows of `kombu_message` on the
  SQLAlchemy transport of the embedded default.
- Lag: on Kafka, per partition, the end offset minus the offset the workers' consumer group
  committed (a partition the group never committed counts from its earliest offset, as
  `auto_offset_reset=earliest` reads it); on the SQL log, the records at or after the group's
  committed offset (one partition).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.ingest.bus.models import BusOffset, BusRecord, DeadLetter
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC, Bus

log = logging.getLogger(__name__)
PROBE_TIMEOUT = 5.0  # seconds, per probe


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed this partition
    end: int
    lag: int


@dataclass
class PipelineHealth:
    bus_kind: str                                   # "sql" or "kafka"
    group: str
    queues: dict[str, int | None] = field(default_factory=dict)
    lag: list[PartitionLag] = field(default_factory=list)
    dead_letters_pending: int = 0
    dead_letter_topic_records: int | None = None    # records kept in <topic>.dlt (Kafka only)
    errors: list[str] = field(default_factory=list)

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.lag)


# -- Celery queues --------------------------------------------------------------------------------

def queue_names(conf) -> list[str]:
    """Every queue this installation's tasks go to: QUEUES, the default queue and the routes."""
    names = {n.strip() for n in str(conf.get("QUEUES") or "").split(",") if n.strip()}
    names.add(conf.get("task_default_queue") or "celery")
    for route in (conf.get("task_routes") or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def queue_depths(celery_app, names: list[str], timeout: float = PROBE_TIMEOUT) -> dict[str, int]:
    """Messages waiting in each queue (not counting the ones a worker holds unacknowledged)."""
    from kombu.exceptions import ChannelError

    depths: dict[str, int] = {}
    with celery_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        channel = conn.default_channel
        for name in names:
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:  # Redis: no key yet, i.e. nothing was ever queued there
                depths[name] = 0
    return depths


# -- bus lag --------------------------------------------------------------------------------------

def sql_lag(engine, topic: str = MENTIONS_TOPIC, group: str = MENTIONS_GROUP) -> list[PartitionLag]:
    """The SQL log's single partition: records at or after the group's committed offset."""
    with engine.connect() as conn:
        committed = conn.execute(select(BusOffset.next_offset).where(
            BusOffset.group == group, BusOffset.topic == topic)).scalar()
        start = committed or 0
        lag, last = conn.execute(select(func.count(), func.max(BusRecord.id)).where(
            BusRecord.topic == topic, BusRecord.id >= start)).one()
    end = (last + 1) if last is not None else start
    return [PartitionLag(topic, 0, committed, end, lag or 0)]


def _kafka_admin(bus):
    from kafka.admin import KafkaAdminClient

    ms = int(PROBE_TIMEOUT * 1000)
    return KafkaAdminClient(bootstrap_servers=bus.servers, client_id=f"{bus.client_id}-health",
                            request_timeout_ms=ms, bootstrap_timeout_ms=ms)


def _partitions(admin, topic: str):
    from kafka import TopicPartition

    described = admin.describe_topics([topic])
    return [TopicPartition(topic, p["partition_index"])
            for d in described if d.get("error_code", 0) == 0 for p in d.get("partitions", [])]


def _offsets(admin, parts, spec) -> dict:
    return {tp: found.offset for tp, found in admin.list_partition_offsets({tp: spec for tp in parts}).items()}


def _group_offsets(admin, group_id: str, attempts: int = 20, pause: float = 0.25) -> dict:
    """The group's committed offsets. A new broker answers "coordinator not available" until it
    has made its offsets topic (a second or two): that retriable answer is asked again."""
    import time

    from kafka.errors import KafkaError

    for attempt in range(attempts):
        try:
            return admin.list_group_offsets(group_id).get(group_id) or {}
        except KafkaError as error:
            if not getattr(error, "retriable", False) or attempt == attempts - 1:
                raise
            time.sleep(pause)
    return {}


def kafka_lag(bus, topic: str = MENTIONS_TOPIC, group: str = MENTIONS_GROUP) -> list[PartitionLag]:
    """Per partition of the (prefixed) topic: end offset minus the group's committed offset."""
    from kafka.admin import OffsetSpec

    name, group_id = bus.name(topic), bus.name(group)
    admin = _kafka_admin(bus)
    try:
        parts = _partitions(admin, name)
        if not parts:
            return []
        ends = _offsets(admin, parts, OffsetSpec.LATEST)
        earliest = _offsets(admin, parts, OffsetSpec.EARLIEST)
        committed = {tp: meta.offset for tp, meta in _group_offsets(admin, group_id).items()
                     if meta is not None and meta.offset is not None and meta.offset >= 0}
    finally:
        admin.close()
    rows = []
    for tp in sorted(parts, key=lambda tp: tp.partition):
        done = committed.get(tp)
        start = done if done is not None else earliest.get(tp, 0)
        rows.append(PartitionLag(topic, tp.partition, done, ends[tp], max(ends[tp] - start, 0)))
    return rows


def kafka_topic_records(bus, topic: str) -> int:
    """Records currently kept in a (prefixed) topic: latest minus earliest offsets."""
    from kafka.admin import OffsetSpec

    admin = _kafka_admin(bus)
    try:
        parts = _partitions(admin, bus.name(topic))
        if not parts:
            return 0
        ends, starts = _offsets(admin, parts, OffsetSpec.LATEST), _offsets(admin, parts, OffsetSpec.EARLIEST)
    finally:
        admin.close()
    return sum(max(ends[tp] - starts.get(tp, 0), 0) for tp in parts)


def is_kafka(bus: Bus) -> bool:
    from webapp.ingest.bus.kafka_bus import KafkaBus

    return isinstance(bus, KafkaBus)


def consumer_lag(bus: Bus, engine, topic: str = MENTIONS_TOPIC, group: str = MENTIONS_GROUP) -> list[PartitionLag]:
    return kafka_lag(bus, topic, group) if is_kafka(bus) else sql_lag(engine, topic, group)


def pending_dead_letters(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(DeadLetter)
                            .where(DeadLetter.replayed_at.is_(None))).scalar() or 0


# -- everything at once ---------------------------------------------------------------------------

def snapshot(bus: Bus, engine, celery_app=None, *, queues: bool = True) -> PipelineHealth:
    """All figures; a probe that fails adds a line to `errors` and leaves its figures empty."""
    from webapp.ingest.bus.kafka_bus import DLT_SUFFIX

    kafka = is_kafka(bus)
    health = PipelineHealth(bus_kind="kafka" if kafka else "sql",
                            group=bus.name(MENTIONS_GROUP) if kafka else MENTIONS_GROUP)
    probes = [("consumer lag", lambda: setattr(health, "lag", consumer_lag(bus, engine))),
              ("dead letters", lambda: setattr(health, "dead_letters_pending", pending_dead_letters(engine)))]
    if kafka:
        probes.append(("dead-letter topic", lambda: setattr(
            health, "dead_letter_topic_records", kafka_topic_records(bus, MENTIONS_TOPIC + DLT_SUFFIX))))
    if queues and celery_app is not None:
        probes.append(("Celery queues", lambda: setattr(
            health, "queues", queue_depths(celery_app, queue_names(celery_app.conf)))))
    for label, probe in probes:
        try:
            probe()
        except Exception as exc:  # noqa: BLE001 - reported on the page, never fatal
            log.warning("pipeline health: %s failed", label, exc_info=True)
            health.errors.append(f"{label}: {type(exc).__name__}: {exc}"[:500])
    return health
