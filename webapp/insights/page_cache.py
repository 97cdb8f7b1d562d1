"""A few seconds' cache of what a dashboard shows, per process (`DASHBOARD_CACHE_SECONDS`).

Fifty people opening the same dashboard at once would otherwise each run its nine queries and
build its six figures (about 20 ms of CPU a page): with 2 cores that queues to over half a
second. Within the cache's few seconds they share one computation; the page still renders per
user (nav, CSRF token). The series API and the mentions page are never cached, so pushed
mentions show there at once; a dashboard is at most that many seconds behind them.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Hashable

from cachetools import TTLCache


class PageCache:
    """get_or_build(key, build): `build()`'s value, kept `seconds` (0 disables the cache) by the
    `timer` clock (monotonic seconds; tests pass one they move)."""

    def __init__(self, seconds: float, size: int = 256, timer: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._cache = TTLCache(maxsize=size, ttl=seconds, timer=timer) if seconds > 0 else None

    def get_or_build(self, key: Hashable, build: Callable[[], dict]) -> dict:
        if self._cache is None:
            return build()
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = build()
            with self._lock:
                self._cache[key] = found
        return found
