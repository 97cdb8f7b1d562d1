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


def delete_cascading(session, obj) -> None:
    """Delete `obj`'s row with one DELETE and let the database's ON DELETE CASCADE remove what
    depends on it (SQLite enforces foreign keys: create_app switches them on per connection);
    the ORM loads no children. Commits."""
    from sqlalchemy import delete, inspect

    mapper = inspect(obj).mapper
    key = {column.key: getattr(obj, column.key) for column in mapper.primary_key}
    session.expunge(obj)
    session.execute(delete(mapper.class_).where(*(getattr(mapper.class_, k) == v for k, v in key.items())))
    session.commit()
