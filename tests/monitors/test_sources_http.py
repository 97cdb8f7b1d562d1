"""The shared adapter HTTP helper's reading of rate-limit headers."""
from datetime import datetime, timezone

import pytest

from webapp.monitors.sources.http import retry_after_seconds

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "120"}, 120),
    ({"Retry-After": "Thu, 01 Jan 2026 12:05:00 GMT"}, 300),
    ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 60)}, 60),        # GitHub: Unix time
    ({"x-rate-limit-reset": str(int(NOW.timestamp()) + 900)}, 900),     # X: Unix time
    ({"RateLimit-Reset": str(int(NOW.timestamp()) + 30)}, 30),          # Bluesky: Unix time
    ({"RateLimit-Reset": "45"}, 45),                                    # IETF draft: a delay
    ({"X-RateLimit-Reset": "2026-01-01T12:10:00.000Z"}, 600),           # Mastodon: ISO time
    ({"X-RateLimit-Reset": "soon"}, None),
    ({}, None),
])
def test_retry_after_from_the_usual_headers(headers, expected):
    assert retry_after_seconds(headers, NOW) == expected
