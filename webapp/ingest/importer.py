"""Read mentions from CSV or JSONL files for `flask import`; bad rows are counted, never fatal.

A row is checked against what the worker will store (`core.limits`, `core.times.read_time`):
a row that would be refused later is a bad row now, with its reason, never "published".
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT
from webapp.core.times import read_time

ID_COLUMNS = ("external_id", "id", "tweet_id", "post_id")
TEXT_COLUMNS = ("text", "content", "body", "message", "tweet")
TIME_COLUMNS = ("published_at", "created_at", "date", "timestamp")
AUTHOR_COLUMNS = ("author", "user", "username")


@dataclass
class ImportReport:
    rows: int = 0
    published: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {path.name}: use a .csv, .tsv or .jsonl file or --format")


def _first(row: dict, names) -> object:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return None


def to_mention(row: dict) -> dict:
    """A mention from a row with flexible column names (pure); raises ValueError when unusable."""
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    text = _first(lowered, TEXT_COLUMNS)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no text")
    published = _first(lowered, TIME_COLUMNS)
    author = _first(lowered, AUTHOR_COLUMNS)
    external_id = _first(lowered, ID_COLUMNS)
    if external_id is None:
        # Stable across re-imports of the same file, so importing twice adds nothing.
        digest = hashlib.sha256(f"{text}\x00{published}\x00{author}".encode()).hexdigest()[:32]
        external_id = f"sha256:{digest}"
    external_id = str(external_id)
    if len(external_id) > MAX_EXTERNAL_ID:
        raise ValueError(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    url = _first(lowered, ("url", "link"))
    if url is not None and not isinstance(url, str):
        raise ValueError("url must be a string")
    return {
        "external_id": external_id,
        "text": text[:MAX_TEXT],
        "author": None if author is None else str(author)[:MAX_AUTHOR],
        "url": url,
        "published_at": _published(published),
    }


def _published(value) -> str | int | float | None:
    """The row's time as the bus carries it (a string, or Unix seconds from a JSONL number);
    ValueError for one the worker could not read."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        value = str(value)
    try:
        read_time(value)
    except ValueError as exc:
        raise ValueError(f"published_at {value!r} is not an ISO 8601 time") from exc
    return value


def read_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, mention or None, error or None) for each data row of the file."""
    fmt = fmt or detect_format(path)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not a JSON object")
                    yield number, to_mention(row), None
                except ValueError as exc:
                    yield number, None, str(exc)
            return
        sample = handle.read(8192)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        for row in reader:
            try:
                yield reader.line_num, to_mention(row), None
            except ValueError as exc:
                yield reader.line_num, None, str(exc)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)
