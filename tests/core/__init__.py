"""Tests of webapp/core/: the shared core: query language, egress, leases, beat, migrations, limits, the API as a whole, pages, services."""
