"""Monitors: a query plus sources; source adapters, scheduled fetching, source health, query preview, backfill."""
