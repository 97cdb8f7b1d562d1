"""Fixtures used only by the tests of webapp/scoring/ (shared ones are in tests/conftest.py)."""
