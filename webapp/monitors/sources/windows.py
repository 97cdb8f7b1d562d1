"""Paging shared by the search adapters: sweeping several searches within one page budget,
walking a backfill window search by search, and keeping items inside a window.

A backfill page state (`fetch_window`'s `page`) that walks a list (searches, instances) holds
the position under a key ({"search": 2}); {"done": True} ends the window.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from webapp.monitors.sources.base import FetchedItem, FetchResult, SourceError
from webapp.core.times import as_utc

# sweep(search, state, pages) -> (items, new state, requests done, error or None)
Sweep = Callable[[str, dict, int], tuple[list[FetchedItem], dict, int, SourceError | None]]


def finished(items: list[FetchedItem] | None = None) -> FetchResult:
    """The last page of a window: `items` (none by default) and the cursor {"done": True}."""
    return FetchResult(items=items or [], cursor={"done": True})


def window_start(since: datetime, until: datetime, page) -> tuple[datetime, datetime, dict]:
    """The window's edges as aware UTC and the page state as a dict ({} when not one)."""
    return as_utc(since), as_utc(until), page if isinstance(page, dict) else {}


def list_index(page: dict, key: str) -> int:
    """The position stored under `key` in a page state; 0 when missing or not an int."""
    value = page.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def next_in_list(index: int, count: int, key: str) -> dict:
    """The page state after finishing entry `index` of `count`: the next entry, or done."""
    return {key: index + 1} if index + 1 < count else {"done": True}


def in_window(items: list[FetchedItem], since: datetime, until: datetime, *,
              keep_undated: bool = True) -> list[FetchedItem]:
    """The items published in [since, until); undated ones are kept unless `keep_undated` is False."""
    return [i for i in items if (keep_undated if i.published_at is None else since <= i.published_at < until)]


def latest_published(items: list[FetchedItem], *others: datetime | None) -> datetime | None:
    """The latest of the items' publication times and `others`; None when there is none."""
    times = [i.published_at for i in items if i.published_at] + [t for t in others if t]
    return max(times) if times else None


def sweep_searches(searches: list[str], state_of: Callable[[str], dict], sweep: Sweep, *,
                   max_pages: int, log: logging.Logger, what: str) -> tuple[list[FetchedItem], dict]:
    """Read each search's new items with `sweep`, sharing `max_pages` requests among them.

    Returns (items, {search: new state}). The first failure before any request succeeded is
    raised; a later one stops the sweep (the remaining searches keep their states) and is logged.
    """
    per_search = max(1, max_pages // len(searches))
    items, states, requests, failure = [], {}, 0, None
    for search in searches:
        state = state_of(search)
        if failure is not None:
            states[search] = state
            continue
        found, states[search], done, error = sweep(search, state, per_search)
        items.extend(found)
        requests += done
        if error is not None:
            if requests == 0:
                raise error
            failure = error
            log.warning("%s: stopped early after %d requests: %s", what, requests, error)
    return items, states
