"""Tests of webapp/admin/: admin pages, pipeline health, dead letters, metrics."""
