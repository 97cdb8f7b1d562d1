"""Insights: the monitor dashboard, charts, the compare page."""
