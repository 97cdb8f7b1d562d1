"""Fixtures used only by the tests of webapp/admin/ (shared ones are in tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.helpers import make_user


@pytest.fixture
def admin_client(app):
    """A test client signed in as an installation admin."""
    make_user(app, email="root@example.com", role="admin", password="admin password")
    client = app.test_client()
    client.post("/login", data={"email": "root@example.com", "password": "admin password"})
    return client
