"""The embedded bus: a log table in the app's own SQL database.

One partition per topic; the record id is its offset. A consumer group reads with a lease, so
that when several workers run only one of them consumes at a time (the others stand by and
take over when its lease lapses).
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine

from webapp.ingest.bus.models import BusOffset, BusRecord, DeadLetter
from webapp.core.sql import insert_for
from webapp.ingest.bus.base import Bus, Consumer, Envelope, decode, encode

LEASE_SECONDS = 30
IDLE_SLEEP = 0.25


def _now() -> datetime:
    return datetime.now(timezone.utc)


def record_dead_letter(engine: Engine, envelope: Envelope, error: str, attempts: int) -> None:
    """Keep a record that kept failing in the dead_letters table (both buses use it)."""
    with engine.begin() as conn:
        conn.execute(
            DeadLetter.__table__.insert().values(
                topic=envelope.topic, key=envelope.key, payload=encode(envelope.value),
                error=error[:4000], attempts=attempts, source_offset=envelope.position,
                created_at=_now(),
            )
        )


class SqlLogBus(Bus):
    def __init__(self, engine: Engine):
        self.engine = engine

    def publish(self, topic: str, records: Iterable[tuple[str | None, dict]]) -> int:
        rows = [
            {"topic": topic, "key": key, "payload": encode(value), "created_at": _now()}
            for key, value in records
        ]
        if rows:
            with self.engine.begin() as conn:  # committed (durable) before we return
                conn.execute(BusRecord.__table__.insert(), rows)
        return len(rows)

    def consumer(self, topic: str, group: str, name: str) -> "SqlLogConsumer":
        return SqlLogConsumer(self.engine, topic, group, name)

    def prune(self, topic: str) -> int:
        """Delete records every consumer group of `topic` has committed."""
        with self.engine.begin() as conn:
            low = conn.execute(
                select(func.min(BusOffset.next_offset)).where(BusOffset.topic == topic)
            ).scalar()
            if low is None:
                return 0
            result = conn.execute(
                delete(BusRecord).where(BusRecord.topic == topic, BusRecord.id < low)
            )
            return result.rowcount or 0

    def lag(self, topic: str, group: str) -> int:
        with self.engine.connect() as conn:
            start = conn.execute(
                select(BusOffset.next_offset).where(
                    BusOffset.group == group, BusOffset.topic == topic
                )
            ).scalar() or 0
            return conn.execute(
                select(func.count()).select_from(BusRecord).where(
                    BusRecord.topic == topic, BusRecord.id >= start
                )
            ).scalar() or 0


class SqlLogConsumer(Consumer):
    def __init__(self, engine: Engine, topic: str, group: str, name: str):
        self.engine, self.topic, self.group, self.name = engine, topic, group, name
        self._position: int | None = None  # next offset to read while we hold the lease
        self._ensure_offset_row()

    def _ensure_offset_row(self) -> None:
        with self.engine.begin() as conn:
            insert = insert_for(conn)
            conn.execute(
                insert(BusOffset)
                .values(group=self.group, topic=self.topic, next_offset=0)
                .on_conflict_do_nothing()
            )

    def _update_mine(self, conn, *conditions, **values) -> int:
        """UPDATE this group's offset row (when `conditions` hold); returns the row count."""
        result = conn.execute(
            update(BusOffset)
            .where(BusOffset.group == self.group, BusOffset.topic == self.topic, *conditions)
            .values(**values)
        )
        return result.rowcount

    def _take_lease(self, conn) -> bool:
        now = _now()
        free = (BusOffset.lease_owner.is_(None)) | (BusOffset.lease_owner == self.name) | (
            BusOffset.lease_until < now)
        held = self._update_mine(
            conn, free, lease_owner=self.name, lease_until=now + timedelta(seconds=LEASE_SECONDS)
        ) == 1
        if not held:
            self._position = None
        return held

    def _fetch(self, max_records: int) -> list[Envelope]:
        with self.engine.begin() as conn:
            if not self._take_lease(conn):
                return []
            committed = conn.execute(
                select(BusOffset.next_offset).where(
                    BusOffset.group == self.group, BusOffset.topic == self.topic
                )
            ).scalar_one()
            # Like a Kafka consumer, read on from our own position; a new lease starts at the commit.
            start = committed if self._position is None else max(committed, self._position)
            rows = conn.execute(
                select(BusRecord.id, BusRecord.key, BusRecord.payload)
                .where(BusRecord.topic == self.topic, BusRecord.id >= start)
                .order_by(BusRecord.id)
                .limit(max_records)
            ).all()
        envelopes = []
        for row in rows:
            try:
                value = decode(row.payload)
            except ValueError:
                value = {"_undecodable": row.payload}
            envelopes.append(Envelope(self.topic, row.key, value, 0, row.id))
        if envelopes:
            self._position = envelopes[-1].offset + 1
        return envelopes

    def poll(self, max_records: int, timeout: float) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        while True:
            batch = self._fetch(max_records)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            time.sleep(min(IDLE_SLEEP, remaining))

    def commit(self, envelopes: Sequence[Envelope]) -> None:
        if not envelopes:
            return
        last = max(e.offset for e in envelopes)
        with self.engine.begin() as conn:
            self._update_mine(conn, BusOffset.next_offset <= last, next_offset=last + 1)

    def rewind(self, envelopes: Sequence[Envelope]) -> None:
        if envelopes:
            first = min(e.offset for e in envelopes)
            self._position = first if self._position is None else min(self._position, first)

    def dead_letter(self, envelope: Envelope, error: str, attempts: int) -> None:
        record_dead_letter(self.engine, envelope, error, attempts)

    def close(self) -> None:
        with self.engine.begin() as conn:
            self._update_mine(conn, BusOffset.lease_owner == self.name, lease_owner=None, lease_until=None)
