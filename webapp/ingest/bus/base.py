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
from typing import Iterable, Iterator, Sequence

import orjson

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
    index: int | None = None  # the value's place in a record that packs many (see `pack`)

    @property
    def position(self) -> str:
        where = f"{self.topic}/{self.partition}/{self.offset}"
        return where if self.index is None else f"{where}#{self.index}"


def encode_bytes(value) -> bytes:
    """Compact UTF-8 JSON (orjson); what it refuses (an integer beyond 64 bits) goes by `json`."""
    try:
        return orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def encode(value: dict) -> str:
    return encode_bytes(value).decode()


def _loads(payload: str | bytes):
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:   # json reads what orjson refuses (NaN, integers beyond 64 bits)
        return json.loads(payload)


def decode(payload: str | bytes) -> dict:
    value = _loads(payload)
    if not isinstance(value, dict):
        raise ValueError("bus record is not a JSON object")
    return value


def decode_many(payload: str | bytes) -> list:
    """The values of one record: an object is one value, an array (a packed record) many.
    Raises ValueError for anything else, or for JSON that does not parse."""
    value = _loads(payload)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and value:
        return [item if isinstance(item, dict) else {"_undecodable": encode(item)} for item in value]
    raise ValueError("bus record is neither a JSON object nor a non-empty array")


def pack(records: Iterable[tuple[str | None, dict]], max_bytes: int,
         max_values: int) -> Iterator[tuple[str | None, bytes, int]]:
    """Consecutive records of one key as one payload: (key, payload, values in it).

    One value is sent as its JSON object, as always; several as a JSON array of them, in order,
    up to `max_bytes` per payload (a value larger than that goes alone). Order within a key is
    kept, so a monitor's mentions stay in order; a consumer reads either form (`decode_many`).
    At most `max_values` values a payload (1: each value alone).
    """
    key, parts, size = None, [], 0

    def flush():
        if len(parts) == 1:
            return key, parts[0], 1
        return key, b"[" + b",".join(parts) + b"]", len(parts)

    for record_key, value in records:
        part = encode_bytes(value)
        if parts and (record_key != key or size + len(part) + 1 > max_bytes or len(parts) >= max_values):
            yield flush()
            parts, size = [], 0
        key = record_key
        parts.append(part)
        size += len(part) + 1
    if parts:
        yield flush()


class Consumer(ABC):
    @abstractmethod
    def poll(self, max_records: int, timeout: float) -> list[Envelope]:
        """Up to `max_records` records (values: a bus that packs many values in one record may
        return a few more, never half a record), waiting at most `timeout` seconds for the first."""

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
