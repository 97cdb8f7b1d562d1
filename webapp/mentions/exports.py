"""Streamed CSV, JSON and NDJSON bodies for exports of mentions and of series (pure generators).

Each writer takes an iterator of dicts and yields text chunks as it goes, so a download of a
million mentions holds one chunk in memory, never the whole file. CSV cells that a spreadsheet
would run as a formula are neutralised (`safe_cell`). Exports of mentions take the fast path,
`record_chunks`: lists of tuples (search.iter_record_batches) to UTF-8 bytes, a chunk per list,
with the same text as the dict writers give.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from itertools import islice
from operator import itemgetter
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
    return _csv_lines(columns, _batches(([_csv_cell(row.get(c)) for c in columns] for row in rows), per_chunk))


def csv_record_chunks(columns: Sequence[str], batches: Iterable[list], free_text: Sequence[int] | None = None,
                      ) -> Iterator[str]:
    """csv_chunks of lists of tuples in `columns` order whose times are text already
    (search.iter_record_batches), without a dict per row, one chunk per list. `free_text`: the
    positions of the columns that can hold any text (the only ones that can start a formula;
    ids, times, numbers and kinds cannot), all when None. A row is copied only when one of them
    needs neutralising (in its list)."""
    positions = tuple(range(len(columns)) if free_text is None else free_text)
    pick = itemgetter(*positions) if len(positions) > 1 else lambda record: (record[positions[0]],)
    formula = _FORMULA_CHARS

    def safe(batch):
        for n, record in enumerate(batch):
            for value in pick(record):
                if value.__class__ is str and value[:1] in formula:
                    batch[n] = [_csv_cell(v) for v in record]
                    break
        return batch

    return _csv_lines(columns, map(safe, batches))


def _csv_lines(columns: Sequence[str], batches: Iterable[list]) -> Iterator[str]:
    """The header and each batch of cell lists as CSV, one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for batch in batches:
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def json_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON array of the rows, written as it goes."""
    dumps = orjson.dumps
    return (chunk.decode() for chunk in _json_array(
        b",\n".join([dumps(row, default=_plain) for row in batch]) for batch in _batches(rows, per_chunk)))


def ndjson_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON object per line."""
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for batch in _batches(rows, per_chunk):
        yield b"".join([dumps(row, default=_plain, option=newline) for row in batch]).decode()


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


def record_chunks(fmt: str, columns: Sequence[str], batches: Iterable[list], free_text: Sequence[int] | None = None,
                  ) -> Iterator[bytes]:
    """The body of an export in `fmt` from lists of tuples in `columns` order whose times are
    text already (search.iter_record_batches), as UTF-8 bytes, one chunk per list: the fast path
    of exports, byte for byte the text of chunks() of the same rows as dicts. `free_text` as in
    csv_record_chunks."""
    if fmt == "csv":
        return (chunk.encode("utf-8") for chunk in csv_record_chunks(columns, batches, free_text))
    dumps, keys = orjson.dumps, tuple(columns)
    if fmt == "ndjson":
        newline = orjson.OPT_APPEND_NEWLINE
        return (b"".join([dumps(dict(zip(keys, record)), option=newline) for record in batch]) for batch in batches)
    return _json_array(b",\n".join([dumps(dict(zip(keys, record))) for record in batch]) for batch in batches)


def _json_array(bodies: Iterable[bytes]) -> Iterator[bytes]:
    """json_chunks' framing of the rows' JSON texts (each body: rows joined by ",\n")."""
    first = True
    for body in bodies:
        yield (b"[\n" if first else b",\n") + body
        first = False
    yield b"[]\n" if first else b"\n]\n"


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
