"""Turn mentions (fetched, pushed or imported) into bus records and publish them."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from webapp.ingest.bus import MENTIONS_TOPIC, Bus

CHUNK = 5000  # one push (MAX_PUSH) is one publish: one flush, one wait for the acks
# Language (ISO 639-1 or "und"), the author's audience and the mention's engagement.
EXTRA_FIELDS = ("lang", "reach", "engagement")


def _iso(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def mention_record(monitor_id: int, source_id: int, item, received_at: datetime | str,
                   backfilled: bool = False) -> tuple[str, dict]:
    """One (key, value) bus record; `item` is a mapping or an object with the mention fields.

    The key is the monitor id, so that one monitor's mentions stay in order in one partition.
    `backfilled` marks mentions fetched from history by a backfill.
    """
    get = item.get if isinstance(item, dict) else lambda name, default=None: getattr(item, name, default)
    key, value = str(monitor_id), {
        "monitor_id": monitor_id,
        "source_id": source_id,
        "external_id": get("external_id"),
        "text": get("text"),
        "author": get("author"),
        "url": get("url"),
        "published_at": _iso(get("published_at")),
        "received_at": _iso(received_at),
    }
    # Optional fields, only when known: records without them read as before (old producers too).
    for name in EXTRA_FIELDS:
        extra = get(name)
        if extra is not None:
            value[name] = extra
    if backfilled:
        value["backfilled"] = True
    return key, value


def publish_mentions(bus: Bus, monitor_id: int, source_id: int, items: Iterable,
                     received_at: datetime | None = None, backfilled: bool = False) -> int:
    """Publish `items` in chunks; returns only after the bus confirmed every record."""
    received = _iso(received_at or datetime.now(timezone.utc))   # once, not once a mention
    total, chunk = 0, []
    for item in items:
        chunk.append(mention_record(monitor_id, source_id, item, received, backfilled))
        if len(chunk) >= CHUNK:
            total += bus.publish(MENTIONS_TOPIC, chunk)
            chunk = []
    if chunk:
        total += bus.publish(MENTIONS_TOPIC, chunk)
    return total
