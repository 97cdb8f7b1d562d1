"""Fixtures used only by the tests of webapp/admin/ (shared ones are in tests/conftest.py)."""
