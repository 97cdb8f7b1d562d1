"""The bus interface: an ordered, durable log of records, read by consumer groups.

Two implementations pass the same contract tests: the SQL log (embedded default, one
partition) and Apache Kafka. Producers confirm before they return; consumers commit offsets
only after the records' effects are committed in SQL, so delivery is at-least-once and the
writes downstream are idempotent.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Sequence

MENTIONS_TOPIC = "mentions"
MENTIONS_GROUP = "sentimon-ingest"


@dataclass(frozen=True)
class Envelope:
    """A record as a consumer sees it."""

    topic: str
    key: str | None
    value: dict
    partition: int
    offset: int

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


def encode(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def decode(payload: str | bytes) -> dict:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("bus record is not a JSON object")
    return value


class Consumer(ABC):
    @abstractmethod
    def poll(self, max_records: int, timeout: float) -> list[Envelope]:
        """Up to `max_records` records, waiting at most `timeout` seconds for the first."""

    @abstractmethod
    def commit(self, envelopes: Sequence[Envelope]) -> None:
        """Mark these records (and everything before them in their partitions) as done."""

    @abstractmethod
    def dead_letter(self, envelope: Envelope, error: str, attempts: int) -> None:
        """Set a record that keeps failing aside, with its error, so the partition moves on."""

    @abstractmethod
    def rewind(self, envelopes: Sequence[Envelope]) -> None:
        """Deliver these records again on the next poll (after a transient failure)."""

    def close(self) -> None:
        """Release the consumer's resources."""


class Bus(ABC):
    @abstractmethod
    def publish(self, topic: str, records: Iterable[tuple[str | None, dict]]) -> int:
        """Append (key, value) records; returns once they are durable. Returns the count."""

    @abstractmethod
    def consumer(self, topic: str, group: str, name: str) -> Consumer:
        """A consumer of `topic` in consumer group `group`; `name` identifies this process."""

    def close(self) -> None:
        """Release the bus's resources."""
