"""Canonical URLs: one spelling per page, so that the same article fetched by two sources of a
monitor (an RSS feed and a news search, say) is stored once.

`canonical_url` is a pure function and deliberately conservative: it only removes what never
changes which page a URL names (case of scheme and host, default ports, the fragment, tracking
parameters, the order of query parameters, a trailing slash). Two decisions worth knowing:

* http and https stay DISTINCT. They are different origins and a server may answer them
  differently; merging them could join two different mentions, which loses data, while keeping
  them apart at worst keeps a rare duplicate. (w3lib's canonicalize_url decides the same.)
* "www." is kept, for the same reason: it is a different host name.

`url_key` is what ingest stores in `mentions.url_key`: the first 32 hex digits of the SHA-256 of
the canonical URL (128 bits: collisions are not a practical concern), or None when the value is
not an http(s) URL with a host, in which case the mention is not deduplicated by URL.
"""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that only say where a click came from. Prefix rules end with "_".
TRACKING_PREFIXES = ("utm_", "mc_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "ref", "msclkid", "dclid", "yclid", "igshid", "gbraid", "wbraid",
})
DEFAULT_PORTS = {"http": 80, "https": 443}
KEY_LENGTH = 32


def is_tracking(name: str) -> bool:
    """Whether a query parameter name is a click-tracking parameter (case-insensitive)."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical spelling of an http(s) URL; other values come back stripped, unchanged.

    Lower-cases scheme and host, drops a default port, the fragment, empty and tracking query
    parameters (`utm_*`, `mc_*`, `fbclid`, `gclid`, `ref`, ...), sorts the remaining parameters
    (stable, so repeated names keep their order) and strips a trailing slash of the path.
    Path and parameter values keep their case: servers may treat them case-sensitively.
    """
    text = (url or "").strip()
    return _canonical(text) or text


def _canonical(text: str) -> str | None:
    """canonical_url of an http(s) URL with a host; None for anything else."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a bad port or an unbalanced IPv6 bracket: not a URL we can normalise
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{netloc}"
    path = parts.path.rstrip("/")
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k and not is_tracking(k)]
    query = urlencode(sorted(pairs, key=lambda kv: kv[0]), quote_via=quote)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(url: str | None) -> str | None:
    """The dedup key of a mention's URL (sha256 of the canonical URL, 32 hex digits), or None."""
    if not url or not isinstance(url, str):
        return None
    canonical = _canonical(url.strip())
    if canonical is None:
        return None
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]
