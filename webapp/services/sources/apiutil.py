"""Small pieces the API-backed adapters (gdelt, youtube, github, json, reddit) share.

`http.request` maps every non-2xx status for us; services whose error bodies carry the real
reason (YouTube's quotaExceeded, GitHub's secondary limits, GDELT's 200-with-text) need the
response first, so `send` maps only egress refusals and `raise_for_status` does the rest as
`http.request` would.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from .. import egress
from .base import MAX_EXTERNAL_ID, MAX_URL, FetchContext, SourceError, SourceSettingsError
from .http import request as checked_request
from .http import retry_after_seconds

__all__ = ["checked_request", "send", "raise_for_status", "check_base_url", "parse_time",
           "stable_id", "same_origin", "text_setting", "with_params", "check_web_url"]


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


def check_web_url(value, policy=None, field: str = "url", label: str = "The address") -> str:
    """An absolute http(s) URL without credentials that the egress policy may reach, stripped.

    Without a policy only the syntax is checked (as for feed URLs); the egress client checks
    every request again anyway, after DNS resolution.
    """
    if not isinstance(value, str) or not value.strip():
        raise SourceSettingsError(field, f"{label} is required")
    url = value.strip()
    if len(url) > MAX_URL:
        raise SourceSettingsError(field, f"{label} is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SourceSettingsError(field, f"{label} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceSettingsError(field, f"{label} must be an http:// or https:// URL with a host")
    if "@" in parts.netloc:
        raise SourceSettingsError(field, f"{label} must not contain credentials")
    if policy is not None:
        try:
            egress.check_url(url, policy, resolve=False)
        except egress.EgressError as exc:
            raise SourceSettingsError(field, f"{label} cannot be used: {exc}") from None
    return url


def check_base_url(value, default: str, policy=None, field: str = "base_url") -> str:
    """An API base URL (see check_web_url) without query or trailing '/'; `default` when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        raise SourceSettingsError(field, "the API address must be text")
    url = check_web_url(value.strip().rstrip("/"), policy, field, "The API address")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise SourceSettingsError(field, "the API address must not have a query or fragment")
    return url


def text_setting(settings: dict, name: str, label: str, max_len: int = 500,
                 required: bool = False) -> str | None:
    """A stripped text setting; None when empty and optional."""
    value = settings.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SourceSettingsError(name, f"{label} is required")
        return None
    if not isinstance(value, str):
        raise SourceSettingsError(name, f"{label} must be text")
    value = value.strip()
    if len(value) > max_len:
        raise SourceSettingsError(name, f"{label} is longer than {max_len} characters")
    if any(ch in value for ch in "\r\n\x00"):
        raise SourceSettingsError(name, f"{label} must be a single line")
    return value


def parse_time(value, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as aware UTC (naive means UTC); None if unreadable.

    Never later than `now`, like the RSS adapter (clock-skewed sources)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return min(when, now) if now is not None else when


def stable_id(value: str) -> str:
    """`value` if it fits the external id column, else a sha256 of it."""
    if len(value) <= MAX_EXTERNAL_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (credentials may be sent to both)."""
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.scheme.lower(), pa.hostname, pa.port) == (pb.scheme.lower(), pb.hostname, pb.port)
    except ValueError:
        return False
