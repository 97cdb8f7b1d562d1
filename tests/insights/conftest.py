"""Fixtures used only by the tests of webapp/insights/ (shared ones are in tests/conftest.py)."""
