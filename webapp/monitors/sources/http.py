"""HTTP for API-backed adapters: one request through the egress client, answers mapped to errors.

Every adapter calls `get_json` (or `request`) so that status codes, rate limits and bad
payloads are handled the same way everywhere:
- 429, and 403 with an exhausted `X-RateLimit-Remaining`, raise SourceError('rate_limited')
  carrying `retry_after` from `Retry-After` (seconds or an HTTP date) or a reset header
  (`X-RateLimit-Reset`, `x-rate-limit-reset`, `RateLimit-Reset`: Unix time, seconds or ISO time);
- other 4xx raise SourceError('http_<status>'), 5xx SourceError('http_<status>');
- egress refusals raise SourceError(<egress code>); invalid JSON raises SourceError('parse').
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from webapp.core.egress import EgressError
from webapp.monitors.sources.base import FetchContext, SourceError
from webapp.core.numbers import digits_only

MAX_RETRY_AFTER = 24 * 3600.0


def retry_after_seconds(headers, now: datetime) -> float | None:
    """How long the server asked us to wait, from the usual headers (pure); None if it did not say."""
    raw = headers.get("Retry-After")
    if raw:
        raw = raw.strip()
        if digits_only(raw):
            return min(float(raw), MAX_RETRY_AFTER)
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER)
    for name in ("X-RateLimit-Reset", "x-rate-limit-reset", "RateLimit-Reset"):
        wait = _reset_seconds(headers.get(name), now)
        if wait is not None:
            return wait
    return None


EPOCH_FLOOR = 1_000_000_000  # a reset value this large is a Unix time, smaller ones are a delay


def _reset_seconds(raw: str | None, now: datetime) -> float | None:
    """A reset header as seconds from now: Unix time (GitHub, X, Bluesky), a delay in seconds
    (the IETF RateLimit-Reset draft) or an ISO 8601 time (Mastodon)."""
    if not raw:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        value = when.timestamp()
    wait = value - now.timestamp() if value >= EPOCH_FLOOR else value
    return min(max(0.0, wait), MAX_RETRY_AFTER)


def _exhausted(headers) -> bool:
    for name in ("X-RateLimit-Remaining", "x-rate-limit-remaining", "RateLimit-Remaining"):
        raw = headers.get(name)
        try:
            if raw is not None and float(raw) <= 0:  # "0", and Reddit's "0.0"
                return True
        except ValueError:
            continue
    return False


def with_params(url: str, params: dict | None) -> str:
    """`url` with `params` appended as a query string."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"


def raise_for_status(ctx: FetchContext, response, what: str = "") -> None:
    """Map a non-2xx answer to SourceError: rate limits to 'rate_limited', others to 'http_<n>'.

    `what` names the service in the message. Adapters that must read the body first (YouTube's
    quotaExceeded, GitHub's secondary limits) call this after their own checks.
    """
    status = response.status
    if status == 429 or (status == 403 and _exhausted(response.headers)):
        raise SourceError("rate_limited", f"rate limited (HTTP {status})",
                          retry_after=retry_after_seconds(response.headers, ctx.now))
    if status >= 400:
        excerpt = response.content[:200].decode("utf-8", "replace").strip()
        if excerpt.startswith("<"):   # an HTML error page: its markup says nothing to people
            excerpt = ""
        prefix = f"{what}: " if what else ""
        raise SourceError(f"http_{status}",
                          f"{prefix}HTTP {status}: {excerpt}" if excerpt else f"{prefix}HTTP {status}")


def request(ctx: FetchContext, url: str, *, params: dict | None = None, headers: dict | None = None,
            method: str = "GET", body: bytes | None = None):
    """One request; returns the 2xx EgressResponse or raises SourceError as described above."""
    try:
        response = ctx.fetch(with_params(url, params), policy=ctx.policy, method=method,
                             headers=headers or {}, body=body)
    except EgressError as exc:
        raise SourceError(exc.code, str(exc)) from None
    raise_for_status(ctx, response)
    return response


def get_json(ctx: FetchContext, url: str, *, params: dict | None = None, headers: dict | None = None,
             method: str = "GET", body: bytes | None = None):
    """`request` and parse the body as JSON; returns (data, response)."""
    response = request(ctx, url, params=params, headers={"Accept": "application/json", **(headers or {})},
                       method=method, body=body)
    try:
        return json.loads(response.content), response
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting bombs
        raise SourceError("parse", f"the answer is not valid JSON: {type(exc).__name__}") from None


def expect(value, kind: type | tuple, what: str):
    """`value` if it has the expected JSON type, else SourceError('parse') naming `what`."""
    if not isinstance(value, kind):
        raise SourceError("parse", f"unexpected answer: {what} is {type(value).__name__}")
    return value
