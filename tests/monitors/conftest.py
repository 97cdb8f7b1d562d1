"""Fixtures used only by the tests of webapp/monitors/ (shared ones are in tests/conftest.py)."""
