"""Backfill: fetch a monitor's history over a time range in resumable slices."""
