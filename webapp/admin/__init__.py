"""Admin: pipeline health, dead letters, source health, deliveries, metrics, secret rotation, housekeeping."""
