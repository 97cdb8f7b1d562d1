"""The source adapter contract: what an adapter is given, what it returns, and how it fails.

A *source adapter* knows one kind of source (an RSS feed, the demo set, ...). It validates the
settings a user typed when a monitor is saved (`clean_settings`) and, on schedule, fetches new
items (`fetch`). Adapters do no filtering by the monitor's query and no deduplication: the fetch
use case filters, and the database's unique key (monitor, source, external id) deduplicates.

Adapters never open sockets themselves: every request goes through `ctx.fetch`, which is the
SSRF-safe `egress.fetch` in production and a stub in tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from webapp.core import egress
from webapp.core.egress import EgressPolicy


@dataclass(frozen=True)
class FetchedItem:
    """One mention as a source produced it, before query filtering and scoring."""

    external_id: str  # stable within the source: entry id / guid, else link, else a content hash
    text: str  # plain text, no HTML
    author: str | None = None
    url: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    # What the service says of the audience and the interaction (insights/influence.py), and the
    # language when the service detects it reliably; None when it does not say.
    reach: int | None = None        # the author's followers / subscribers
    engagement: int | None = None   # likes + shares + comments (points, score, stars, ...)
    lang: str | None = None         # ISO 639-1


@dataclass
class FetchResult:
    """The items of one fetch and the cursor to store for the next one (JSON-serialisable)."""

    items: list[FetchedItem]
    cursor: dict


@dataclass
class FetchContext:
    """What a fetch may use besides its settings and cursor: egress policy, query, clock, client."""

    policy: EgressPolicy
    monitor_query: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    fetch: Callable[..., Any] = egress.fetch  # injectable for tests


@dataclass(frozen=True)
class SettingField:
    """One setting of an adapter, described well enough to render a form field."""

    name: str
    label: str
    required: bool
    help: str
    secret: bool = False


class SourceError(Exception):
    """A fetch failed in a way to record on the source (bad payload, HTTP status, egress refusal).

    `code` is short and machine-readable ('http_500', 'parse', 'timeout', 'blocked', ...);
    `message` is for people. The worker records it and carries on.
    """

    def __init__(self, code: str, message: str, retry_after: float | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        # Seconds the remote side asked us to wait (Retry-After, X-RateLimit-Reset), if any.
        self.retry_after = retry_after


class SourceSettingsError(ValueError):
    """Settings that cannot be saved; `field` names the offending setting ('' for the whole)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class SourceAdapter:
    """Base class of adapters; subclasses set the class attributes and override both methods."""

    kind: str = ""
    label: str = ""
    help: str = ""  # what the kind reads and what it needs, for the forms (one or two sentences)
    default_every: int = 300  # seconds between fetches unless the user says otherwise
    min_every: int = 60  # the shortest interval allowed, to be polite to the remote side
    fields: tuple[SettingField, ...] = ()

    def clean_settings(self, settings: dict, policy: EgressPolicy | None = None) -> dict:
        """Validate and normalise `settings`; return only known fields; raise SourceSettingsError.

        Unknown keys are dropped rather than stored. The default checks required fields only.
        """
        if not isinstance(settings, dict):
            raise SourceSettingsError("", "settings must be an object")
        clean = {}
        for f in self.fields:
            value = settings.get(f.name)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                if f.required:
                    raise SourceSettingsError(f.name, f"{f.label} is required")
                continue
            clean[f.name] = value
        return clean

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        """Fetch what is new since `cursor`; raise SourceError (only) when the fetch fails."""
        raise NotImplementedError

    # URL dedupe: a page that two fetched sources bring is stored once (ingest keys mentions by
    # their canonical URL). An adapter whose items reuse URLs by design turns it off.
    dedupe_urls: bool = True

    # Backfill: adapters whose service can search a time range set this and implement
    # fetch_window. One call fetches ONE page of the window [since, until); `page` is the
    # adapter's own pagination state ({} at the start). The result's cursor is the next
    # page's state, or {"done": True} when the window is exhausted.
    supports_backfill: bool = False

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        raise NotImplementedError(f"{self.kind} cannot fetch history")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r}>"


def clamp(value: str | None, limit: int) -> str | None:
    """`value` stripped and cut to `limit` characters; None for an empty value."""
    if value is None:
        return None
    value = str(value).strip()
    return value[:limit] or None
