"""Fixtures used only by the tests of webapp/mentions/ (shared ones are in tests/conftest.py)."""
