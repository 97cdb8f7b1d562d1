"""Fixtures used only by the tests of webapp/ingest/ (shared ones are in tests/conftest.py)."""
