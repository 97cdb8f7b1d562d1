"""The consumer side of the bus: poll a batch, store it in one transaction, then commit offsets.

Offsets are committed only after the SQL commit, so a crash in between replays the batch and
the idempotent insert drops what was already stored. A batch that fails is retried record by
record; a record that fails MAX_ATTEMPTS times goes to the dead letters so the log moves on.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from webapp.core import metrics
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC, Bus, Consumer, Envelope
from webapp.ingest.store import IngestResult, store_batch

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
ERROR_BACKOFF = 2.0


@dataclass
class BatchOutcome:
    records: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead: int = 0


def is_transient(exc: BaseException) -> bool:
    """A failure of the infrastructure (database away, locked, connection dropped), not of the record.

    Such a batch is retried as a whole after a pause; it must never end in the dead letters.
    """
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _merge(outcome: BatchOutcome, result: IngestResult) -> None:
    """Add a committed store's figures to the outcome (and to the stored-mentions metric)."""
    metrics.mentions_stored(result.stored_by_kind)
    outcome.inserted += result.inserted
    outcome.duplicates += result.duplicates + result.orphaned


def handle_batch(session, consumer: Consumer, batch: list[Envelope],
                 store: Callable = store_batch) -> BatchOutcome:
    """Store `batch` and commit its offsets; poison records end in the dead letters."""
    outcome = BatchOutcome(records=len(batch))
    started = time.perf_counter()
    try:
        result = store(session, [e.value for e in batch])
        session.commit()
        _merge(outcome, result)
        for index, reason in result.rejected:
            consumer.dead_letter(batch[index], reason, 1)
            outcome.dead += 1
    except Exception as exc:
        session.rollback()
        if is_transient(exc):
            raise
        log.warning("batch of %d failed; retrying record by record", len(batch), exc_info=True)
        for envelope in batch:
            _store_alone(session, consumer, envelope, store, outcome)
    consumer.commit(batch)
    metrics.batch_handled(time.perf_counter() - started)
    return outcome


def _store_alone(session, consumer, envelope, store, outcome) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result = store(session, [envelope.value])
            session.commit()
        except Exception as exc:
            session.rollback()
            if is_transient(exc):
                raise
            if attempt == MAX_ATTEMPTS:
                consumer.dead_letter(envelope, f"{type(exc).__name__}: {exc}", attempt)
                outcome.dead += 1
            continue
        _merge(outcome, result)
        if result.rejected:
            consumer.dead_letter(envelope, result.rejected[0][1], 1)
            outcome.dead += 1
        return


def run(bus: Bus, session_scope: Callable, stop: threading.Event, name: str,
        batch_size: int = 500, poll_timeout: float = 1.0, prepare: Callable | None = None) -> None:
    """Consume the mentions topic until `stop` is set.

    `session_scope()` is a context manager yielding a SQLAlchemy session for one batch.
    `prepare()`, if given, runs once the consumer counts as running and before the first poll
    (loading what the first batch needs); if it fails, the first batch loads it again.
    Errors (a database briefly away) are logged and the batch is read again after a pause;
    they are never fatal and never dead-letter a record.
    """
    consumer = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, name)
    metrics.consumer_running(+1)
    try:
        if prepare is not None:
            try:
                prepare()
            except Exception:
                log.warning("preparing the consumer failed; the first batch will load what it needs", exc_info=True)
        while not stop.is_set():
            batch: list[Envelope] = []
            try:
                batch = consumer.poll(batch_size, poll_timeout)
                if batch:
                    with session_scope() as session:
                        outcome = handle_batch(session, consumer, batch)
                    log.info("stored batch: %s", outcome)
            except Exception:
                log.exception("consumer loop error; retrying in %.0fs", ERROR_BACKOFF)
                _rewind(consumer, batch)
                stop.wait(ERROR_BACKOFF)
    finally:
        metrics.consumer_running(-1)
        try:
            consumer.close()
        except Exception:
            log.warning("consumer close failed", exc_info=True)


def _rewind(consumer: Consumer, batch: list[Envelope]) -> None:
    if batch:
        try:
            consumer.rewind(batch)
        except Exception:
            log.warning("rewind failed; the group's committed offsets will redeliver", exc_info=True)


def drain(bus: Bus, session, name: str = "drain", batch_size: int = 500,
          max_seconds: float = 30.0) -> BatchOutcome:
    """Consume until the log is empty (tests, CLI import with --wait). Returns the totals."""
    consumer = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, name)
    total = BatchOutcome()
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(batch_size, 0)
            if not batch:
                break
            o = handle_batch(session, consumer, batch)
            total.records += o.records
            total.inserted += o.inserted
            total.duplicates += o.duplicates
            total.dead += o.dead
    finally:
        consumer.close()
    return total
