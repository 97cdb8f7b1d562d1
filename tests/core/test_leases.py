"""Leader election by lease: one holder at a time, take-over after expiry, release."""
from __future__ import annotations

import pytest

from datetime import datetime, timedelta, timezone

from webapp.core.extensions import db
from webapp.core import leases

pytestmark = pytest.mark.both_databases

T = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_one_holder_and_takeover_after_expiry(app):
    with app.app_context():
        engine = db.engine
        assert leases.acquire(engine, "beat", "a", 30, T)
        assert not leases.acquire(engine, "beat", "b", 30, T + timedelta(seconds=10))
        assert leases.acquire(engine, "beat", "a", 30, T + timedelta(seconds=20))  # renewal
        assert not leases.acquire(engine, "beat", "b", 30, T + timedelta(seconds=49))
        assert leases.acquire(engine, "beat", "b", 30, T + timedelta(seconds=51))  # a stopped renewing
        assert not leases.acquire(engine, "beat", "a", 30, T + timedelta(seconds=52))


def test_release_hands_over_at_once(app):
    with app.app_context():
        assert leases.acquire(db.engine, "beat", "a", 30, T)
        leases.release(db.engine, "beat", "a")
        assert leases.acquire(db.engine, "beat", "b", 30, T + timedelta(seconds=1))
        assert leases.acquire(db.engine, "other", "a", 30, T)  # leases are per name
