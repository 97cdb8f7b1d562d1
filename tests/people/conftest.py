"""Fixtures used only by the tests of webapp/people/ (shared ones are in tests/conftest.py)."""
