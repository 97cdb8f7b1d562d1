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
