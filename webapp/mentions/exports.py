"""Streamed CSV, JSON and NDJSON bodies for exports of mentions and of series (pure generators).

Each writer takes an iterator of dicts and yields text chunks as it goes, so a download of a
million mentions holds one chunk in memory, never the whole file. CSV cells that a spreadsheet
would run as a formula are neutralised (`safe_cell`).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from itertools import islice
from typing import Iterable, Iterator, Sequence

import orjson

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "ndjson": "application/x-ndjson"}
EXTENSIONS = {"csv": "csv", "json": "json", "ndjson": "ndjson"}
SERIES_COLUMNS = ("start", "count", "avg_compound", "positive", "neutral", "negative")
# Spreadsheets (Excel, LibreOffice, Google Sheets) run a cell starting with these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def safe_cell(value):
    """A CSV cell that no spreadsheet runs as a formula (OWASP "CSV injection").

    Text starting with = + - @ tab or carriage return gets a leading apostrophe, which
    spreadsheets show as text; numbers, None and other text pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[str], rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """A header line, then the rows as CSV (RFC 4180 quoting, CRLF), `per_chunk` rows per chunk."""
    return _csv_lines(columns, ([_csv_cell(row.get(c)) for c in columns] for row in rows), per_chunk)


def csv_record_chunks(columns: Sequence[str], records: Iterable[tuple], free_text: Sequence[int] | None = None,
                      per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """csv_chunks of tuples in `columns` order whose times are text already (search.iter_records),
    without a dict per row. `free_text`: the positions of the columns that can hold any text (the
    only ones that can start a formula; ids, times, numbers and kinds cannot), all when None. A
    row is copied only when one of them needs neutralising."""
    positions = range(len(columns)) if free_text is None else tuple(free_text)
    formula = _FORMULA_CHARS

    def safe(record):
        for i in positions:
            value = record[i]
            if value.__class__ is str and value[:1] in formula:
                return [_csv_cell(v) for v in record]
        return record

    return _csv_lines(columns, map(safe, records), per_chunk)


def _csv_lines(columns: Sequence[str], cells: Iterable[list], per_chunk: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for batch in _batches(cells, per_chunk):
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def json_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON array of the rows, written as it goes."""
    first = True
    for batch in _batches(rows, per_chunk):
        body = b",\n".join(orjson.dumps(row, default=_plain) for row in batch).decode()
        yield ("[\n" if first else ",\n") + body
        first = False
    yield "[]\n" if first else "\n]\n"


def ndjson_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON object per line."""
    for batch in _batches(rows, per_chunk):
        yield b"".join(orjson.dumps(row, default=_plain, option=orjson.OPT_APPEND_NEWLINE) for row in batch).decode()


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def chunks(fmt: str, columns: Sequence[str], rows: Iterable[dict]) -> Iterator[str]:
    """The body of an export in `fmt` (csv, json or ndjson)."""
    if fmt == "csv":
        return csv_chunks(columns, rows)
    if fmt == "ndjson":
        return ndjson_chunks(rows)
    return json_chunks(rows)


def record_chunks(fmt: str, columns: Sequence[str], records: Iterable[tuple],
                  free_text: Sequence[int] | None = None) -> Iterator[str]:
    """chunks() of tuples in `columns` order (search.iter_records), the fast path of exports;
    `free_text` as in csv_record_chunks."""
    if fmt == "csv":
        return csv_record_chunks(columns, records, free_text)
    return chunks(fmt, columns, (dict(zip(columns, record)) for record in records))


def filename(monitor_name: str, what: str, fmt: str, now: datetime | None = None) -> str:
    """`sentimon-<monitor>-<what>-<UTC time>.<ext>`, ASCII letters, digits and dashes only."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    slug = re.sub(r"[^a-z0-9]+", "-", monitor_name.lower()).strip("-")[:40].strip("-") or "monitor"
    return f"sentimon-{slug}-{what}-{now:%Y%m%dT%H%MZ}.{EXTENSIONS[fmt]}"


def disposition(name: str) -> str:
    """A Content-Disposition header value for a download named `name` (ASCII, from `filename`)."""
    return f'attachment; filename="{name}"'


def _csv_cell(value):
    """safe_cell(_plain(value)), with the common cases first: this runs once per cell."""
    if value.__class__ is str:
        return "'" + value if value[:1] in _FORMULA_CHARS else value
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_cell(value)


_FORMULA_CHARS = frozenset(FORMULA_START)


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value
