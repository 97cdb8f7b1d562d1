"""The rows of a mentions export as the driver reads them, made ready to write (pure).

`search.iter_record_batches` selects the export columns with no SQLAlchemy type processing (no
Row processors, no aware datetimes made and formatted one by one): times come as the driver
gives them, naive `datetime`s on PostgreSQL and SQLAlchemy's stored text on SQLite, and
booleans as `bool` or SQLite's 0/1. `converter(dialect)` turns a batch of those rows into the
tuples of `search.EXPORT_COLUMNS` with exactly the values the ORM path gives (times in ISO 8601
with `+00:00`, as `UTCDateTime` values' `isoformat()`, booleans as `bool`, `scored_label` the
label itself unless an editor overrode it), one list comprehension per batch.
"""
from __future__ import annotations

from typing import Callable

from webapp.core.types import UTCDateTime

UTC_SUFFIX = "+00:00"
# SQLAlchemy's SQLite storage format of a DateTime: 'YYYY-MM-DD HH:MM:SS.ffffff' (26 characters)
_SQLITE_TIME_LENGTH = 26


def pg_time(value) -> str | None:
    """A `timestamp without time zone` (naive UTC) as the aware value's isoformat()."""
    return None if value is None else value.isoformat() + UTC_SUFFIX


def sqlite_time(dialect) -> Callable[[object], str | None]:
    """The text SQLAlchemy stored for a UTCDateTime, as the aware value's isoformat(): sliced
    when it has the storage format (isoformat leaves out a zero fraction), else parsed as
    SQLAlchemy parses it."""
    parse = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)

    def convert(value):
        if value.__class__ is str and len(value) == _SQLITE_TIME_LENGTH and value[10] == " " \
                and value[19] == "." and value[:4].isdigit():
            clock = value[11:19] if value.endswith(".000000") else value[11:]
            return value[:10] + "T" + clock + UTC_SUFFIX
        if value is None:
            return None
        return parse(value).isoformat()

    return convert


def converter(dialect) -> Callable[[list], list[tuple]]:
    """A function from a batch of driver rows (the columns of `search.EXPORT_COLUMNS`, with
    `overridden_at` after `scored_label`) to the export tuples."""
    time = pg_time if dialect.name == "postgresql" else sqlite_time(dialect)

    def convert(rows: list) -> list[tuple]:
        return [(id_, external_id, time(published), kind, source_id, author, url, text, compound, pos, neu, neg,
                 label, label if overridden is None else scored_label, None if overridden is None else time(overridden),
                 bool(backfilled), lang, bool(scored), bool(mixed), reach, engagement)
                for (id_, external_id, published, kind, source_id, author, url, text, compound, pos, neu, neg, label,
                     scored_label, overridden, backfilled, lang, scored, mixed, reach, engagement) in rows]

    return convert
