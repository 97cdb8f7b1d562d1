"""Streamed CSV, JSON and NDJSON bodies for exports of mentions and of series (pure generators).

Each writer takes an iterator of dicts and yields text chunks as it goes, so a download of a
million mentions holds one chunk in memory, never the whole file. CSV cells that a spreadsheet
would run as a formula are neutralised (`safe_cell`).
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence

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
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
        n += 1
        if n % per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON array of the rows, written as it goes."""
    parts = ["["]
    first = True
    for row in rows:
        parts.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False, default=_plain))
        first = False
        if len(parts) >= per_chunk:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n" if not first else "]\n")
    yield "".join(parts)


def ndjson_chunks(rows: Iterable[dict], per_chunk: int = ROWS_PER_CHUNK) -> Iterator[str]:
    """One JSON object per line."""
    parts = []
    for row in rows:
        parts.append(json.dumps(row, ensure_ascii=False, default=_plain) + "\n")
        if len(parts) >= per_chunk:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)


def chunks(fmt: str, columns: Sequence[str], rows: Iterable[dict]) -> Iterator[str]:
    """The body of an export in `fmt` (csv, json or ndjson)."""
    if fmt == "csv":
        return csv_chunks(columns, rows)
    if fmt == "ndjson":
        return ndjson_chunks(rows)
    return json_chunks(rows)


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
