"""A test-only source kind, `pager`: serves `pages` pages of `per_page` items per time window
from memory, so backfill tests depend on no real adapter and no network.

Items are deterministic: their external id and URL name the window's start, the page and the
position, so two pager sources of one monitor bring the same URLs (for URL deduplication), and
every fourth item lacks the word "acme" (for query filtering). Faults are injected through the
adapter instance (`crash_at`: raise a plain RuntimeError, as a crashing process would, when
that many pages have been served; `fail_page`/`rate_limit_page`: a SourceError on that page)
and through the `delay` setting (seconds per page, to let a real worker be killed mid-way).
"""
from __future__ import annotations

import time
from datetime import timedelta

from webapp.monitors.sources import REGISTRY, register
from webapp.monitors.sources.base import (
    FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError, SourceSettingsError,
)


class PagerAdapter(SourceAdapter):
    kind = "pager"
    label = "Pager (tests only)"
    default_every = 300
    min_every = 60
    supports_backfill = True
    fields = (
        SettingField("pages", "Pages per window", False, "pages served for each window"),
        SettingField("per_page", "Items per page", False, "items on each page"),
        SettingField("delay", "Seconds per page", False, "a slow service"),
    )

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.served = 0
        self.crash_at: int | None = None
        self.fail_page: int | None = None
        self.rate_limit_page: int | None = None
        self.stuck = False  # answer with the same page state again
        self.calls: list[tuple[str, int]] = []

    def clean_settings(self, settings, policy=None):
        clean = {}
        for name, default in (("pages", 3), ("per_page", 4)):
            value = settings.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
                raise SourceSettingsError(name, f"{name} must be a whole number from 1 to 1000")
            clean[name] = value
        delay = settings.get("delay", 0)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise SourceSettingsError("delay", "delay must be a positive number")
        clean["delay"] = delay
        return clean

    def fetch(self, settings, cursor, ctx):
        return FetchResult([], dict(cursor))

    def fetch_window(self, settings, since, until, page, ctx):
        number = int(page.get("page", 0))
        day = since.strftime("%Y%m%dT%H")
        self.calls.append((day, number))
        if self.crash_at is not None and self.served >= self.crash_at:
            raise RuntimeError("injected crash")
        if self.rate_limit_page == number:
            self.rate_limit_page = None  # once
            raise SourceError("rate_limited", "slow down", retry_after=7)
        if self.fail_page == number:
            raise SourceError("http_500", "the service failed")
        if settings.get("delay"):
            time.sleep(settings["delay"])
        self.served += 1
        per_page, pages = settings.get("per_page", 4), settings.get("pages", 3)
        step = (until - since) / (pages * per_page + 1)
        items = []
        for i in range(per_page):
            position = number * per_page + i
            words = "acme rocket is great" if position % 4 else "nothing to see here"
            items.append(FetchedItem(
                external_id=f"{day}-{number}-{i}", text=f"{words} ({day} page {number} item {i})",
                author="pager", url=f"https://Example.com/{day}/{number}/{i}/?utm_source=pager#top",
                published_at=since + step * (position + 1),
            ))
        cursor = {"page": number + 1} if number + 1 < pages else {"done": True}
        return FetchResult(items, dict(page) if self.stuck else cursor)


def expected_items(windows: int, pages: int = 3, per_page: int = 4) -> int:
    """How many items of `windows` windows match "acme" (three of every four)."""
    return windows * sum(1 for p in range(pages * per_page) if p % 4)


def install() -> PagerAdapter:
    """Register the pager kind (once per process) and return its adapter, reset."""
    adapter = REGISTRY.get("pager") or register(PagerAdapter())
    adapter.reset()
    return adapter


def uninstall() -> None:
    REGISTRY.pop("pager", None)


DAY = timedelta(days=1)
