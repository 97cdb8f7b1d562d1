"""Use cases of people: users, tokens, login throttle (no Flask request globals)."""
