"""The User-Agent of feed fetches: who we are and where to find out more.

Public feed hosts (Reddit above all) block generic or missing user agents; a descriptive one
with a contact URL is their stated requirement. The URL is the instance's PUBLIC_URL when that
is a public address, else the project's page (a loopback PUBLIC_URL tells a remote admin nothing).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

PROJECT_URL = "https://github.com/sentimon/sentimon"
PRODUCT = "Sentimon/0.1"


def _public(url: str | None) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    if host == "localhost" or host.endswith(".localhost") or "." not in host and ":" not in host:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return url
    return url if ip.is_global else None


def feed_user_agent(public_url: str | None = None) -> str:
    """`Sentimon/0.1 (self-hosted monitoring; +<PUBLIC_URL or project URL>)`."""
    return f"{PRODUCT} (self-hosted monitoring; +{_public(public_url) or PROJECT_URL})"


def for_context(ctx) -> str:
    """The feed user agent for a fetch; uses `ctx.public_url` when the context carries one."""
    return feed_user_agent(getattr(ctx, "public_url", None))
