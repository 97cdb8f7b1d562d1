"""When to try a failed delivery again (pure).

Retried: timeouts and connection errors, HTTP 408, 429 (after its Retry-After, if any) and
5xx, temporary SMTP replies (4xx). Everything else (other 4xx, 3xx since redirects are not
followed, refused addresses) is permanent. Delays grow exponentially from BASE_DELAY up to
MAX_DELAY, with jitter so that many failed deliveries do not all come back at the same moment.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from webapp.core.numbers import digits_only

BASE_DELAY = 30.0
MAX_DELAY = 3600.0
MAX_RETRY_AFTER = 86400.0
MAX_ATTEMPTS = 40            # a day of hourly retries; the delivery also gives up after a day
RETRY_STATUSES = frozenset({408, 429})
RETRY_ERRORS = frozenset({"timeout", "connect", "dns", "protocol", "too_large", "smtp_temporary"})


def retryable(outcome: int | str) -> bool:
    if isinstance(outcome, int):
        return outcome in RETRY_STATUSES or 500 <= outcome <= 599
    return outcome in RETRY_ERRORS


def retry_decision(outcome: int | str, attempt: int, retry_after: float | None = None, *,
                   rand=random.random) -> tuple[bool, float]:
    """(retry?, delay in seconds) after attempt number `attempt` (1-based) ended with `outcome`.

    `outcome` is an HTTP status or SMTP code, or an error code when there was no response.
    `retry_after` (seconds, from the response) is honoured for a retryable outcome.
    """
    if isinstance(outcome, int) and 200 <= outcome <= 299:
        return False, 0.0
    if not retryable(outcome) or attempt >= MAX_ATTEMPTS:
        return False, 0.0
    if retry_after is not None and retry_after >= 0:
        return True, min(max(float(retry_after), 1.0), MAX_RETRY_AFTER)
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempt - 1, 0))
    return True, round(delay / 2 + rand() * delay / 2, 3)   # "equal jitter": between d/2 and d


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if digits_only(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
