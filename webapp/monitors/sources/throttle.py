"""A process-wide request spacing guard per host, for services that ban fast clients (GDELT).

Each request reserves the next free slot of its host (at least `interval` seconds after the
previous one) under a lock, then sleeps until its slot without holding the lock. A caller
that would have to wait longer than `max_wait` gets SourceError('rate_limited') with the wait
as `retry_after` instead, so a worker never sleeps for long and never sends too fast.
Per process: Celery's prefork children each have their own guard.
"""
from __future__ import annotations

import threading
import time

from webapp.monitors.sources.base import SourceError


class HostThrottle:
    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}  # host -> earliest monotonic time of its next request
        self._clock, self._sleep = clock, sleep

    def reserve(self, host: str, interval: float, max_wait: float) -> float:
        """Reserve the host's next slot; returns the seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(host, now))
            wait = slot - now
            if wait > max_wait:
                raise SourceError("rate_limited",
                                  f"{host} allows one request every {interval:g} s; "
                                  f"the next free slot is in {wait:.1f} s", retry_after=wait)
            self._next[host] = slot + interval
            return wait

    def wait_turn(self, host: str, interval: float, max_wait: float) -> None:
        """Reserve a slot and sleep until it comes."""
        wait = self.reserve(host, interval, max_wait)
        if wait > 0:
            self._sleep(wait)

    def penalize(self, host: str, seconds: float) -> None:
        """The service said we were too fast: no request to `host` for `seconds` from now."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), self._clock() + seconds)

    def reset(self) -> None:
        with self._lock:
            self._next.clear()
