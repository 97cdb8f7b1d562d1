"""Source adapters by kind: the registry the fetch use case and the monitor forms look up.

Adding an adapter: write `webapp/services/sources/<kind>.py` with a SourceAdapter subclass and
add one `register(...)` line below.
"""
from __future__ import annotations

from .base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError,
)
from .bluesky import BlueskyAdapter
from .demo import DemoAdapter
from .gdelt import GdeltAdapter
from .github import GithubAdapter
from .hackernews import HackerNewsAdapter
from .mastodon import MastodonAdapter
from .google_news import GoogleNewsAdapter
from .json_source import JsonAdapter
from .reddit import RedditAdapter
from .youtube import YoutubeAdapter
from .rss import RssAdapter
from .text import html_to_text
from .x import XAdapter

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
    "SourceError", "SourceSettingsError", "UnknownSourceKind", "available_kinds", "get_adapter",
    "html_to_text", "register",
]
