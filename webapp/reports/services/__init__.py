"""Report use cases: schedule (pure), content (figures from rollups), charts, rendering, sending."""
