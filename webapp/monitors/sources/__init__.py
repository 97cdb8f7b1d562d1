"""Source adapters by kind: the registry the fetch use case and the monitor forms look up.

Adding an adapter: write `webapp/monitors/sources/<kind>.py` with a SourceAdapter subclass and
add one `register(...)` line below.
"""
from __future__ import annotations

from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError,
)
from webapp.monitors.sources.bluesky import BlueskyAdapter
from webapp.monitors.sources.demo import DemoAdapter
from webapp.monitors.sources.gdelt import GdeltAdapter
from webapp.monitors.sources.github import GithubAdapter
from webapp.monitors.sources.hackernews import HackerNewsAdapter
from webapp.monitors.sources.mastodon import MastodonAdapter
from webapp.monitors.sources.google_news import GoogleNewsAdapter
from webapp.monitors.sources.json_source import JsonAdapter
from webapp.monitors.sources.reddit import RedditAdapter
from webapp.monitors.sources.youtube import YoutubeAdapter
from webapp.monitors.sources.rss import RssAdapter
from webapp.monitors.sources.text import html_to_text
from webapp.monitors.sources.x import XAdapter

REGISTRY: dict[str, SourceAdapter] = {}


class UnknownSourceKind(KeyError):
    """No adapter is registered under the requested kind."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind

    def __str__(self) -> str:  # KeyError's own str() would only repr the key
        known = ", ".join(available_kinds()) or "none"
        return f"unknown source kind {self.kind!r} (known kinds: {known})"


def register(adapter: SourceAdapter) -> SourceAdapter:
    """Add `adapter` to the registry under its kind (one kind, one adapter)."""
    if not adapter.kind or adapter.kind in REGISTRY:
        raise ValueError(f"adapter kind {adapter.kind!r} is empty or already registered")
    REGISTRY[adapter.kind] = adapter
    return adapter


def get_adapter(kind) -> SourceAdapter:
    """The adapter registered for `kind`; UnknownSourceKind if there is none."""
    try:
        return REGISTRY[kind]
    except (KeyError, TypeError):  # TypeError: an unhashable kind from a JSON body
        raise UnknownSourceKind(kind) from None


def can_backfill(kind) -> bool:
    """Whether sources of `kind` can fetch history (an unknown kind cannot)."""
    try:
        return get_adapter(kind).supports_backfill
    except UnknownSourceKind:
        return False


def available_kinds() -> list[str]:
    """The registered kinds, sorted."""
    return sorted(REGISTRY)


register(RssAdapter())
register(DemoAdapter())
register(GdeltAdapter())
register(YoutubeAdapter())
register(GithubAdapter())
register(JsonAdapter())
register(RedditAdapter())
register(GoogleNewsAdapter())
register(HackerNewsAdapter())
register(MastodonAdapter())
register(BlueskyAdapter())
register(XAdapter())

__all__ = [
    "REGISTRY", "FetchContext", "FetchResult", "FetchedItem", "SettingField", "SourceAdapter",
    "SourceError", "SourceSettingsError", "UnknownSourceKind", "available_kinds", "can_backfill", "get_adapter",
    "html_to_text", "register",
]
