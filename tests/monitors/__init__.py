"""Tests of webapp/monitors/: monitors, source adapters, fetching, source health, preview, backfill."""
