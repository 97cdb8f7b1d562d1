"""Small SQL helpers that differ by dialect (SQLite in the embedded default, PostgreSQL)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(bind):
    """The dialect's INSERT construct, which has ON CONFLICT support on both SQLite and PostgreSQL."""
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"Sentimon supports SQLite and PostgreSQL, not {name}")
