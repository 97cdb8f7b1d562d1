"""Small SQL helpers that differ by dialect (SQLite in the embedded default, PostgreSQL)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(bind):
    """The dialect's INSERT construct, which has ON CONFLICT support on both SQLite and PostgreSQL."""
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"Sentimon supports SQLite and PostgreSQL, not {name}")


def run(session, statement, params: dict):
    """`session.execute(statement, params)` for a prebuilt Core statement (bindparams, built once),
    run on the session's connection: the same rows and the same autoflush, without the ORM layer's
    per-statement work (about half the CPU of a small read on a page)."""
    if session.autoflush:
        session.flush()   # a no-op when nothing is pending, as session.execute's autoflush
    return session.connection().execute(statement, params)


def unnest_select(table, columns: dict):
    """`SELECT unnest(:col_a), unnest(:col_b), ...` (PostgreSQL): rows given as one array per
    column name of `table`, for `insert(table).from_select(list(columns), ...)`. A dozen
    parameters instead of a dozen per row, which the driver would otherwise rewrite per batch."""
    from sqlalchemy import bindparam, cast, func, select
    from sqlalchemy.dialects.postgresql import ARRAY

    return select(*[
        func.unnest(cast(bindparam(f"col_{name}", values, type_=ARRAY(table.c[name].type)),
                         ARRAY(table.c[name].type))).label(name)
        for name, values in columns.items()
    ])


@contextmanager
def sqlite_foreign_keys_off(bind):
    """Table rebuilds inside run with SQLite's foreign keys off (a no-op on other databases).

    SQLite rebuilds a table to change a column; dropping a parent table while foreign keys are on
    deletes its children (ON DELETE CASCADE). The PRAGMA only takes effect outside a
    transaction, hence the commit before it; the foreign keys are checked before they go back on.
    Used by migrations (0011, 0015).
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key problems after the rebuild: {problems[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")

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
