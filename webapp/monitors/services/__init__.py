"""Use cases of monitors: create, edit, fetch, source health, query preview (no Flask request globals)."""
