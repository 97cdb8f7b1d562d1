"""Small helpers shared by the API-backed adapters (hackernews, mastodon, bluesky, x).

Settings validation (base URLs, numbers, choices), time parsing and formatting, turning an
API record into a clamped FetchedItem, and `call_json`: `http.get_json` plus a better
`retry_after` for services whose rate-limit reset header `http.retry_after_seconds` does not
read (Mastodon sends an ISO 8601 `X-RateLimit-Reset`, atproto an epoch `RateLimit-Reset`).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from .. import egress
from .base import (
    MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT, FetchContext, FetchedItem, SourceError,
    SourceSettingsError, clamp,
)
from .http import MAX_RETRY_AFTER, get_json
from .rss import web_url
from .text import truncate

EPOCH_THRESHOLD = 1_000_000_000  # a reset value this large is a Unix time, not a delay


# -- settings --------------------------------------------------------------------------

def clean_base_url(value, default: str, policy=None, field: str = "base_url",
                   label: str = "the base URL") -> str:
    """An absolute http(s) URL without query or fragment and without a trailing '/'."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        raise SourceSettingsError(field, f"{label} must be a string")
    url = value.strip().rstrip("/")
    if len(url) > 512:
        raise SourceSettingsError(field, f"{label} is longer than 512 characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SourceSettingsError(field, f"{label} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceSettingsError(field, f"{label} must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SourceSettingsError(field, f"{label} must not carry a query, fragment or credentials")
    if policy is not None:
        try:
            egress.check_url(url + "/", policy, resolve=False)
        except egress.EgressError as exc:
            raise SourceSettingsError(field, f"{label} cannot be used: {exc}") from None
    return url


def clean_text(value, field: str, label: str, max_length: int, required: bool = False) -> str | None:
    """A stripped, non-empty string of at most `max_length` characters (None when optional and empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SourceSettingsError(field, f"{label} is required")
        return None
    if not isinstance(value, str):
        raise SourceSettingsError(field, f"{label} must be a string")
    value = value.strip()
    if len(value) > max_length:
        raise SourceSettingsError(field, f"{label} is longer than {max_length} characters")
    if any(ord(ch) < 32 for ch in value):
        raise SourceSettingsError(field, f"{label} must not contain control characters")
    return value


def clean_int(value, field: str, default: int, low: int, high: int) -> int:
    """An int in [low, high]; accepts ints and digit strings (form input); default when empty."""
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceSettingsError(field, f"{field} must be a whole number")
    if not low <= value <= high:
        raise SourceSettingsError(field, f"{field} must be from {low} to {high}")
    return value


def clean_choice(value, field: str, choices: tuple[str, ...], default: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise SourceSettingsError(field, f"{field} must be one of: {', '.join(choices)}")
    return value.strip().lower()


def require(settings: dict, name: str, what: str) -> str:
    """A setting the fetch cannot do without; SourceError('settings') when it is missing."""
    value = (settings or {}).get(name)
    if not isinstance(value, str) or not value.strip():
        raise SourceError("settings", f"the source has no {what}")
    return value.strip()


# -- times -----------------------------------------------------------------------------

def parse_time(value) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp as aware UTC (naive means UTC); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def from_epoch(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def as_utc(when: datetime) -> datetime:
    """`when` as aware UTC (a naive value is taken to be UTC already)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


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


# -- items -----------------------------------------------------------------------------

def external_id(value: str) -> str:
    """`value`, or a sha256 of it when it does not fit the column."""
    if len(value) <= MAX_EXTERNAL_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def make_item(ident, text: str, author=None, url=None, published_at: datetime | None = None,
              now: datetime | None = None) -> FetchedItem | None:
    """A FetchedItem clamped to the column sizes; None without an id or without text."""
    if ident is None or isinstance(ident, bool) or not isinstance(ident, (str, int)):
        return None
    ident = str(ident).strip()
    text = truncate(text.strip(), MAX_TEXT) if isinstance(text, str) else ""
    if not ident or not text:
        return None
    if published_at is not None and now is not None:
        published_at = min(published_at, now)
    return FetchedItem(
        external_id=external_id(ident),
        text=text,
        author=clamp(author, MAX_AUTHOR) if isinstance(author, str) else None,
        url=web_url(url),
        published_at=published_at,
    )


def dedupe(items: list[FetchedItem]) -> list[FetchedItem]:
    """Items in order, each external id once (pages that overlap on a boundary repeat some)."""
    seen, out = set(), []
    for item in items:
        if item.external_id not in seen:
            seen.add(item.external_id)
            out.append(item)
    return out


# -- requests --------------------------------------------------------------------------

def reset_delay(headers, now: datetime) -> float | None:
    """Seconds until a rate limit resets, from headers `http.retry_after_seconds` misreads.

    Only used when there is no Retry-After: Mastodon's `X-RateLimit-Reset` is an ISO 8601
    time, atproto's `RateLimit-Reset` a Unix time (the IETF draft's is a delay in seconds).
    """
    if headers.get("Retry-After"):
        return None
    raw = (headers.get("X-RateLimit-Reset") or "").strip()
    if raw and not raw.isdigit():
        when = parse_time(raw)
        if when is not None:
            return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)
    raw = (headers.get("RateLimit-Reset") or "").strip()
    if raw.isdigit() and int(raw) >= EPOCH_THRESHOLD:
        return min(max(0.0, int(raw) - now.timestamp()), MAX_RETRY_AFTER)
    return None


def call_json(ctx: FetchContext, url: str, **kwargs):
    """`http.get_json` (same arguments and answer), with the rate-limit wait read correctly."""
    seen = []

    def recording_fetch(*args, **kw):
        response = ctx.fetch(*args, **kw)
        seen.append(response)
        return response

    try:
        return get_json(replace(ctx, fetch=recording_fetch), url, **kwargs)
    except SourceError as exc:
        if exc.code == "rate_limited" and seen:
            better = reset_delay(seen[-1].headers, ctx.now)
            if better is not None:
                exc.retry_after = better
        raise


def error_name(exc: SourceError) -> str | None:
    """The `error` field of a JSON error body quoted in an http_<n> SourceError (XRPC, Mastodon)."""
    _, _, excerpt = exc.message.partition(": ")
    try:
        body = json.loads(excerpt)
        name = body.get("error") if isinstance(body, dict) else None
        return name if isinstance(name, str) else None
    except ValueError:  # the excerpt is cut at 200 bytes: look for the field itself
        match = re.search(r'"error"\s*:\s*"([A-Za-z0-9_]+)"', excerpt)
        return match.group(1) if match else None
