"""Time helpers: reading times (one reader for query parameters, bus records, imported rows
and service timestamps), writing the formats services accept, and the edges of time windows
(epoch seconds, the next UTC day)."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated

from pydantic import BeforeValidator

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOST_PLUS = re.compile(r" (\d{2}:?\d{2})$")

EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
"""The times Sentimon reads: [1900-01-01, 2200-01-01) UTC. Anything outside is refused as out
of range (a 4xx at every edge, a bad row in an import), so that no range, previous period or
bucket computed from a time read here can leave Python's years 1..9999 (an OverflowError)."""


def as_utc(when: datetime) -> datetime:
    """`when` as aware UTC (a naive value is taken to be UTC already)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def read_time(value, *, end_of_day: bool = False) -> datetime | None:
    """A time as aware UTC, strictly: None when absent (None or ""), ValueError when unreadable.

    Takes an ISO 8601 / RFC 3339 string, a datetime, or Unix seconds (bus records and JSONL
    files carry numbers). Naive times are UTC and a lower-case "z" is "Z". A date alone is its
    midnight, or with `end_of_day` the next midnight (so `until=2026-05-01` includes that whole
    day). A "+" that a query string turned into a space ("...T10:00:00 00:00") is put back. A
    time with no UTC equivalent (0001-01-01T00:00+01:00) is a ValueError too, never an
    OverflowError, so a caller that reports ValueError reports every bad time. Times outside
    [EARLIEST, LATEST) are a ValueError ("out of range") as well.
    """
    when = _read(value, end_of_day)
    if when is not None and not EARLIEST <= when < LATEST:
        raise ValueError(f"{value!r} is out of range (times from {EARLIEST:%Y-%m-%d} to "
                         f"before {LATEST:%Y-%m-%d} UTC)")
    return when


def _read(value, end_of_day: bool) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        try:
            return as_utc(value)
        except OverflowError as exc:
            raise ValueError(f"{value!r} is out of range") from exc
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        when = from_epoch(value)
        if when is None:
            raise ValueError(f"{value!r} is not a time in Unix seconds")
        return when
    if not isinstance(value, str):
        raise ValueError(f"a time must be a string, not {type(value).__name__}")
    text = value.strip().replace("z", "Z")
    try:
        if _DATE.fullmatch(text):
            day = datetime.combine(date.fromisoformat(text), time(), timezone.utc)
            return day + timedelta(days=1) if end_of_day else day
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            when = datetime.fromisoformat(_LOST_PLUS.sub(r"+\1", text))  # the same ValueError if not
        return as_utc(when)
    except OverflowError as exc:   # 9999-12-31 as an end of day; year 1 east of UTC
        raise ValueError(f"{value!r} is out of range") from exc


def _utc_time(value):
    """pydantic's side of `read_time`: the same reading and range for API shapes."""
    return read_time(value)


UtcTime = Annotated[datetime, BeforeValidator(_utc_time)]
"""A time field or query parameter of an API shape: read by `read_time` (ISO 8601 or Unix
seconds, naive = UTC, within [EARLIEST, LATEST)), so a bad one is a 422 naming the field."""


def parse_time(value, now: datetime | None = None) -> datetime | None:
    """A service's ISO 8601 / RFC 3339 timestamp as aware UTC (`read_time`); None if it is not
    a non-empty string or cannot be read: a service's odd time never fails a fetch.

    Given `now`, never later than it, like the RSS adapter (clock-skewed sources)."""
    if not isinstance(value, str):
        return None
    try:
        when = read_time(value)
    except ValueError:
        return None
    if when is None:
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


def time_html(when, seconds: bool = False):
    """A time on a page (templates/_time.html `when`, the `time_html` filter): the UTC text for
    readers without scripts in a <time> whose `datetime` static/js/localtime.js rewrites in the
    viewer's zone; "–" for no time. A function, not a template macro: a dashboard shows a dozen,
    and a macro call costs several times more."""
    from markupsafe import Markup, escape

    if not when:
        return Markup("–")
    text = when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    marked = ' data-seconds="1"' if seconds else ""
    return Markup(f'<time datetime="{escape(when.isoformat())}"{marked}>{escape(text)} UTC</time>')
