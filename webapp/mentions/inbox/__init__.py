"""The mention inbox: tags, status, assignee, notes, per-user reads, bulk actions, auto-tag rules."""
