"""Fixtures used only by the tests of webapp/core/ (shared ones are in tests/conftest.py)."""
