"""Tests of webapp/insights/: dashboard, charts, compare, page cache."""
