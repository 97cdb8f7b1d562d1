"""Time helpers for the API-backed adapters: reading service timestamps, writing the formats
services accept, and the edges of time windows (epoch seconds, the next UTC day)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone


def as_utc(when: datetime) -> datetime:
    """`when` as aware UTC (a naive value is taken to be UTC already)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def parse_time(value, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as aware UTC (naive means UTC); None if unreadable.

    Given `now`, never later than it, like the RSS adapter (clock-skewed sources)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = as_utc(datetime.fromisoformat(value.strip().replace("z", "Z")))
    except (ValueError, OverflowError):   # OverflowError: 0001-01-01T00:00+01:00 in UTC
        return None
    return min(when, now) if now is not None else when


def from_epoch(value) -> datetime | None:
    """A Unix time (int or float) as aware UTC; None if it is not a number or out of range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def iso_seconds(when: datetime) -> str:
    """'2026-06-01T12:00:00Z': RFC 3339 at second precision (what X accepts)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(when: datetime) -> str:
    """'2026-06-01T12:00:00.123Z': RFC 3339 with milliseconds (atproto's datetime format)."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def epoch_floor(when: datetime) -> int:
    return math.floor(when.timestamp())


def epoch_ceil(when: datetime) -> int:
    return math.ceil(when.timestamp())


def seconds_until_next_utc_day(now: datetime) -> float:
    now = now.astimezone(timezone.utc)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()
