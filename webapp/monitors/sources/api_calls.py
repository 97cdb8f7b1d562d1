"""Requests for the API-backed adapters, beyond `http.get_json` / `http.request`.

- `send` + `http.raise_for_status`: for services whose error bodies carry the real reason
  (YouTube's quotaExceeded, GitHub's secondary limits, GDELT's 200-with-text) the adapter needs
  the response first, so `send` maps only egress refusals and `raise_for_status` does the rest
  exactly as `http.request` does.
- `error_name`: the `error` field of a JSON error body quoted in a SourceError.
- `same_origin`: whether credentials meant for one URL may be sent to another.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from webapp.core import egress
from webapp.monitors.sources.base import FetchContext, SourceError
from webapp.monitors.sources.http import with_params


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
