"""The Kafka bus (kafka-python): for more than one machine.

Producer: `acks=all`, idempotent, flushed and every send confirmed before `publish` returns.
Consumer: a consumer group (Kafka spreads partitions over every worker), auto-commit off;
offsets are committed by the pipeline only after the SQL transaction of the batch committed.
Records that keep failing go to `<topic>.dlt` with the error in headers (and to the
dead-letter table when a database engine is given, so the admin pages can show them).

Many values per Kafka record: `publish` packs consecutive values of one key into one record (a
JSON array, up to PACK_BYTES), which the consumer splits again into one envelope per value. The
client's per-record work (Python in kafka-python: framing, futures, CRC) is then paid once per
few hundred mentions instead of once per mention. Exactly-once is unchanged: a record's offset
is committed only once every value in it is stored (they are always in one batch), and the
store is idempotent per mention. `?pack=1` in the URL turns packing off (one value a record).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

from webapp.ingest.bus.base import Bus, Consumer, Envelope, decode_many, encode, pack

log = logging.getLogger(__name__)
DLT_SUFFIX = ".dlt"
SEND_TIMEOUT = 30.0
# Values packed into one record: below the broker's and producer's 1 MB record limit by far.
PACK_BYTES = 256 * 1024
PACK_VALUES = 1000


def parse_url(url: str) -> tuple[list[str], dict]:
    """`kafka://h1:9092,h2:9092?partitions=6&prefix=staging.` -> (bootstrap servers, options).

    `prefix` namespaces topic and group names, so that several installations (or test runs)
    can share one Kafka cluster.
    """
    parts = urlsplit(url)
    servers = [s.strip() for s in parts.netloc.split(",") if s.strip()]
    if parts.scheme != "kafka" or not servers:
        raise ValueError(f"not a Kafka bus URL: {url!r} (expected kafka://host:port[,host:port...])")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return servers, {"partitions": int(options.get("partitions", 6)), "prefix": options.get("prefix", ""),
                     "pack": int(options.get("pack", PACK_VALUES))}


class KafkaBus(Bus):
    def __init__(self, url: str, engine=None, client_id: str = "sentimon"):
        self.servers, self.options = parse_url(url)
        self.engine = engine
        self.client_id = client_id
        self._lock = threading.Lock()
        self._producer = None
        self._producer_pid = None
        self._topics_ready: set[str] = set()
        self.prefix = self.options["prefix"]

    def name(self, topic_or_group: str) -> str:
        """The cluster-wide name of a logical topic or group."""
        return self.prefix + topic_or_group

    # -- topics -------------------------------------------------------------------------
    def ensure_topic(self, topic: str) -> None:
        """Create `topic` and its dead-letter topic once (the broker's auto-create is off)."""
        if topic in self._topics_ready:
            return
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.servers, client_id=f"{self.client_id}-admin")
        try:
            wanted = {self.name(t): {"num_partitions": self.options["partitions"], "replication_factor": -1}
                      for t in (topic, topic + DLT_SUFFIX)}
            admin.create_topics(wanted, raise_errors=False, wait_for_metadata=True)
        finally:
            admin.close()
        self._topics_ready.add(topic)

    # -- producing ----------------------------------------------------------------------
    def producer(self):
        """One idempotent producer per process (recreated after a fork)."""
        with self._lock:
            if self._producer is None or self._producer_pid != os.getpid():
                from kafka import KafkaProducer

                self._producer = KafkaProducer(
                    bootstrap_servers=self.servers, client_id=self.client_id,
                    acks="all", enable_idempotence=True, linger_ms=5, batch_size=PACK_BYTES,
                    retries=2_147_483_647, delivery_timeout_ms=120_000,
                )
                self._producer_pid = os.getpid()
            return self._producer

    def _send_confirmed(self, topic: str, records: Iterable[tuple], headers=None) -> int:
        producer = self.producer()
        topic = self.name(topic)
        futures = [
            producer.send(topic, key=None if key is None else str(key).encode(),
                          value=value.encode() if isinstance(value, str) else value, headers=headers)
            for key, value in records
        ]
        producer.flush(timeout=SEND_TIMEOUT)
        for future in futures:
            future.get(timeout=SEND_TIMEOUT)  # raises the broker's error if a send failed
        return len(futures)

    def publish(self, topic: str, records: Iterable[tuple[str | None, dict]]) -> int:
        self.ensure_topic(topic)
        values = 0
        payloads = []
        for key, payload, count in pack(records, PACK_BYTES, self.options["pack"]):
            payloads.append((key, payload))
            values += count
        self._send_confirmed(topic, payloads)
        return values

    def consumer(self, topic: str, group: str, name: str) -> "KafkaConsumerAdapter":
        self.ensure_topic(topic)
        return KafkaConsumerAdapter(self, topic, group, name)

    def lag(self, topic: str, group: str) -> int:
        """Records of `topic` not yet committed by `group` (end offsets minus committed)."""
        from kafka import KafkaConsumer, TopicPartition

        topic = self.name(topic)
        probe = KafkaConsumer(bootstrap_servers=self.servers, group_id=self.name(group),
                              enable_auto_commit=False)
        try:
            parts = [TopicPartition(topic, p) for p in (probe.partitions_for_topic(topic) or ())]
            ends = probe.end_offsets(parts)
            return sum(ends[tp] - (probe.committed(tp) or 0) for tp in parts)
        finally:
            probe.close(autocommit=False)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None and self._producer_pid == os.getpid():
                self._producer.close(timeout=10)
            self._producer = None


class KafkaConsumerAdapter(Consumer):
    def __init__(self, bus: KafkaBus, topic: str, group: str, name: str):
        from kafka import KafkaConsumer
        from kafka.consumer.subscription_state import ConsumerRebalanceListener

        self.bus, self.topic = bus, topic
        adapter = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                adapter._forget(revoked)

            def on_partitions_assigned(self, assigned):
                log.info("%s assigned %s", name, sorted(tp.partition for tp in assigned))

        self._done: dict = {}  # TopicPartition -> next offset, processed but not committed yet
        self.consumer = KafkaConsumer(
            bootstrap_servers=bus.servers, group_id=bus.name(group), client_id=name,
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_interval_ms=300_000, session_timeout_ms=15_000, heartbeat_interval_ms=3_000,
        )
        self.consumer.subscribe([bus.name(topic)], listener=Listener())

    def poll(self, max_records: int, timeout: float) -> list[Envelope]:
        """About `max_records` values, in whole records (a packed record is never split: its
        offset is committed once all of it is stored). Kafka records are taken a few at a time,
        as many as the values per record seen so far leave room for."""
        batch: list[Envelope] = []
        take, records, wait_ms = 1, 0, int(timeout * 1000)
        while len(batch) < max_records:
            polled = self.consumer.poll(timeout_ms=wait_ms, max_records=take)
            if not polled:
                break
            for tp, rows in polled.items():
                for r in rows:
                    batch.extend(self._envelopes(tp.partition, r))
                    records += 1
            wait_ms = 0
            take = max(1, (max_records - len(batch)) * records // max(len(batch), 1))
        return batch

    def _envelopes(self, partition: int, record) -> list[Envelope]:
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        try:
            values = decode_many(record.value)
        except (ValueError, UnicodeDecodeError):
            values = [{"_undecodable": record.value.decode("utf-8", "replace") if record.value else ""}]
        if len(values) == 1:
            return [Envelope(self.topic, key, values[0], partition, record.offset)]
        return [Envelope(self.topic, key, value, partition, record.offset, index)
                for index, value in enumerate(values)]

    def commit(self, envelopes: Sequence[Envelope]) -> None:
        from kafka import TopicPartition

        for e in envelopes:
            tp = TopicPartition(self.bus.name(e.topic), e.partition)
            self._done[tp] = max(self._done.get(tp, 0), e.offset + 1)
        self._commit_done(list(self._done))

    def _commit_done(self, partitions) -> None:
        from kafka.structs import OffsetAndMetadata

        offsets = {tp: OffsetAndMetadata(self._done[tp], "", -1) for tp in partitions if tp in self._done}
        if offsets:
            self.consumer.commit(offsets)
            for tp in offsets:
                self._done.pop(tp, None)

    def _forget(self, partitions) -> None:
        """Drop the offsets of revoked partitions that a failed commit left pending (the broker
        was away). They are not committed here: the rebalance listener runs on the client's IO
        thread, where a blocking commit raises and fails every later rebalance too. The next
        owner reads those records again and the store, idempotent per mention, skips them."""
        forgotten = [tp for tp in partitions if self._done.pop(tp, None) is not None]
        if forgotten:
            log.info("revoked with uncommitted offsets %s; the next owner reads them again",
                     sorted(tp.partition for tp in forgotten))

    def rewind(self, envelopes: Sequence[Envelope]) -> None:
        """Seek back so that a batch that could not be stored is read again."""
        from kafka import TopicPartition

        first: dict = {}
        for e in envelopes:
            tp = TopicPartition(self.bus.name(e.topic), e.partition)
            first[tp] = min(first.get(tp, e.offset), e.offset)
        for tp, offset in first.items():
            if tp in self.consumer.assignment():
                self.consumer.seek(tp, offset)

    def dead_letter(self, envelope: Envelope, error: str, attempts: int) -> None:
        headers = [("error", error[:4000].encode()), ("attempts", str(attempts).encode()),
                   ("source", envelope.position.encode())]
        self.bus._send_confirmed(self.topic + DLT_SUFFIX, [(envelope.key, encode(envelope.value))], headers)
        if self.bus.engine is not None:
            from webapp.ingest.bus.sql_log import record_dead_letter

            record_dead_letter(self.bus.engine, envelope, error, attempts)

    def close(self) -> None:
        try:
            self._commit_done(list(self._done))
        finally:
            self.consumer.close(autocommit=False)
