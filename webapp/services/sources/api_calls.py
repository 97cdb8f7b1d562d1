"""Requests for the API-backed adapters, beyond `http.get_json` / `http.request`.

- `call_json`: `http.get_json` plus a better `retry_after` for services whose rate-limit reset
  header `http.retry_after_seconds` does not read the same way (Mastodon sends an ISO 8601
  `X-RateLimit-Reset`, atproto an epoch `RateLimit-Reset`).
- `send` + `raise_for_status`: for services whose error bodies carry the real reason
  (YouTube's quotaExceeded, GitHub's secondary limits, GDELT's 200-with-text) the adapter needs
  the response first, so `send` maps only egress refusals and `raise_for_status` does the rest
  as `http.request` would.
- `error_name`: the `error` field of a JSON error body quoted in a SourceError.
- `same_origin`: whether credentials meant for one URL may be sent to another.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from .. import egress
from .base import FetchContext, SourceError
from .http import MAX_RETRY_AFTER, get_json, retry_after_seconds
from .times import parse_time

EPOCH_THRESHOLD = 1_000_000_000  # a reset value this large is a Unix time, not a delay


def with_params(url: str, params: dict | None) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"


def send(ctx: FetchContext, url: str, *, params: dict | None = None, headers: dict | None = None,
         method: str = "GET", body: bytes | None = None) -> egress.EgressResponse:
    """One request through the egress client; egress refusals become SourceError, statuses do not."""
    try:
        return ctx.fetch(with_params(url, params), policy=ctx.policy, method=method,
                         headers=headers or {}, body=body)
    except egress.EgressError as exc:
        raise SourceError(exc.code, str(exc)) from None
    except ValueError as exc:  # a header value or method the HTTP library refuses
        raise SourceError("invalid_request", f"the request cannot be sent: {exc}") from None


def _exhausted(headers) -> bool:
    raw = headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining")
    return raw is not None and raw.strip() == "0"


def raise_for_status(ctx: FetchContext, response, what: str = "") -> None:
    """The same mapping as http.request: 429 / exhausted 403 -> rate_limited, else http_<n>."""
    status = response.status
    if status == 429 or (status == 403 and _exhausted(response.headers)):
        raise SourceError("rate_limited", f"rate limited (HTTP {status})",
                          retry_after=retry_after_seconds(response.headers, ctx.now))
    if status >= 400:
        excerpt = response.content[:200].decode("utf-8", "replace").strip()
        prefix = f"{what}: " if what else ""
        raise SourceError(f"http_{status}",
                          f"{prefix}HTTP {status}: {excerpt}" if excerpt else f"{prefix}HTTP {status}")


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


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (credentials may be sent to both)."""
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.scheme.lower(), pa.hostname, pa.port) == (pb.scheme.lower(), pb.hostname, pb.port)
    except ValueError:
        return False
