"""The dashboard's few-seconds cache: shared within its time, rebuilt after; off with 0."""
from __future__ import annotations

import time

from tests.helpers import app_config, migrated_app
from tests.helpers import mention, signed_in_with_monitor, wait_for

from webapp.insights.page_cache import PageCache


def test_values_are_shared_within_the_time_and_built_again_after():
    calls = []
    cache = PageCache(0.2)
    build = lambda: calls.append(1) or {"n": len(calls)}  # noqa: E731
    assert cache.get_or_build("k", build) == {"n": 1}
    assert cache.get_or_build("k", build) == {"n": 1} and len(calls) == 1
    assert cache.get_or_build("other", build) == {"n": 2}
    started = time.monotonic()
    wait_for(lambda: cache.get_or_build("k", build)["n"] > 1, timeout=5)
    assert time.monotonic() - started >= 0.15


def test_zero_seconds_builds_every_time():
    calls = []
    cache = PageCache(0)
    for _ in range(3):
        cache.get_or_build("k", lambda: calls.append(1) or {})
    assert len(calls) == 3


def test_the_dashboard_shows_cached_figures_until_the_time_passes(tmp_path):
    with migrated_app({**app_config(tmp_path), "DASHBOARD_CACHE_SECONDS": 1}) as app:
        client, monitor_id, _auth, push = signed_in_with_monitor(app, "c@example.com", "cache password", "cached")

        def push_and_store(n):
            push([mention(i, "fine day") for i in range(n, n + 3)])

        def shown() -> str:
            page = client.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
            return page.split('id="total-count">', 1)[1].split("<", 1)[0]

        # The cache's clock is the test's: "within the second" holds however slow the machine is.
        from webapp.insights.page_cache import PageCache

        clock = [0.0]
        app.extensions["sentimon.dashboard_cache"] = PageCache(1, timer=lambda: clock[0])
        push_and_store(0)
        assert shown() == "3"
        push_and_store(10)
        assert shown() == "3"          # within the second: the cached figures
        clock[0] += 1.5
        assert shown() == "6"
