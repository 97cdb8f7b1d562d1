"""Fixtures used only by the tests of webapp/alerting/ (shared ones are in tests/conftest.py)."""
