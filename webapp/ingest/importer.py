"""Read mentions from CSV or JSONL files for `flask import`: streamed, every row either a mention
or a bad row with its line number and reason; nothing in a file stops the rows after it.

A row is checked by the push edge's own shape (`ingest.schemas.MentionIn`: the worker's limits,
`core.times.read_time`, no NUL bytes), so a row that would be refused later is a bad row now,
never "published". The file is read line by line in binary and decoded strictly:

- without an encoding, the file must be UTF-8 (a BOM is allowed): `count_lines` reads it once
  before anything is published and refuses it, naming `--encoding`, rather than store mojibake;
- with `--encoding`, a line that does not decode is a bad row;
- a line longer than MAX_LINE bytes is a bad row (it is skipped without being held in memory);
- a JSONL line nested deeper than `core.web.input_guard.MAX_JSON_DEPTH` is a bad row (checked
  before parsing, as the API does);
- a CSV record the parser cannot read (a stray quote, a field over the csv module's 128 KB
  limit, more fields than the header) is a bad row at its first line, and its other lines
  are read again as rows of their own, so a stray quote costs one row, not the rest of the file.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from pydantic import ValidationError

from webapp.core.web.input_guard import json_depth, MAX_JSON_DEPTH
from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT
from webapp.core.times import read_time
from webapp.ingest.schemas import MentionIn, problems
from webapp.core.numbers import digits_as_int

ID_COLUMNS = ("external_id", "id", "tweet_id", "post_id")
TEXT_COLUMNS = ("text", "content", "body", "message", "tweet")
TIME_COLUMNS = ("published_at", "created_at", "date", "timestamp")
AUTHOR_COLUMNS = ("author", "user", "username")
EXTRA_COLUMNS = ("lang", "reach", "engagement")
MAX_LINE = 1024 * 1024
DEFAULT_ENCODING = "utf-8-sig"


@dataclass
class ImportReport:
    rows: int = 0
    published: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


class NotUtf8(ValueError):
    """The file is not UTF-8 and no --encoding was given: refused before anything is published."""


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {path.name}: use a .csv, .tsv or .jsonl file or --format")


def check_encoding(name: str) -> str:
    """The codec's name, or ValueError naming what is wrong."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown encoding {name!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None


def _first(row: dict, names) -> object:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return None


def to_mention(row: dict) -> dict:
    """A mention from a row with flexible column names (pure), checked by MentionIn as a push
    would be; raises ValueError with the reason when the worker could not store it."""
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    text = _first(lowered, TEXT_COLUMNS)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no text")
    published = _first(lowered, TIME_COLUMNS)
    author = _first(lowered, AUTHOR_COLUMNS)
    external_id = _first(lowered, ID_COLUMNS)
    if external_id is None:
        # Stable across re-imports of the same file, so importing twice adds nothing.
        digest = hashlib.sha256(f"{text}\x00{published}\x00{author}".encode(errors="replace")).hexdigest()[:32]
        external_id = f"sha256:{digest}"
    if isinstance(external_id, str) and len(external_id) > MAX_EXTERNAL_ID:
        raise ValueError(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    url = _first(lowered, ("url", "link"))
    if url is not None and not isinstance(url, str):
        raise ValueError("url must be a string")
    candidate = {
        **_extras(lowered),
        "external_id": external_id,
        "text": text[:MAX_TEXT],   # the worker keeps MAX_TEXT characters, as it does of a push
        "author": None if author is None else str(author)[:MAX_AUTHOR],
        "url": url,
        "published_at": _published(published),
    }
    try:
        return MentionIn.model_validate(candidate).record()
    except ValidationError as exc:
        raise ValueError("; ".join(f"{p['field']}: {p['reason']}" for p in problems(exc))) from None


def _extras(row: dict) -> dict:
    """The optional lang, reach and engagement columns; a CSV's digits become an integer (a
    JSONL number is kept as given, so 1.5 or true is refused with the reason)."""
    out = {}
    for name in EXTRA_COLUMNS:
        value = row.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[name] = value if name == "lang" else digits_as_int(value)
    return out


def _published(value) -> str | int | float | None:
    """The row's time as MentionIn reads it (a string, or Unix seconds from a JSONL number);
    ValueError naming it when the worker could not read it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        value = str(value)
    try:
        read_time(value)
    except ValueError as exc:
        raise ValueError(f"published_at {value!r} is not an ISO 8601 time in range ({exc})") from exc
    return value


class Lines:
    """The file's physical lines, decoded strictly, numbered from 1, with push-back.

    Lines that do not decode or are longer than MAX_LINE are reported to `bad` and skipped.
    `taken()` returns (and forgets) the lines handed out since the last call: the raw lines of
    one CSV record, so that a broken record's later lines can be `push_back`-ed and read again.
    """

    def __init__(self, handle: BinaryIO, encoding: str, bad: list[tuple[int, str]]):
        self.handle, self.encoding, self.bad = handle, encoding, bad
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.read = 0
        self.pending: deque[tuple[int, str]] = deque()
        self.current: list[tuple[int, str]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pending:
            item = self.pending.popleft()
        else:
            item = self._read_line()
        self.current.append(item)
        return item[1]

    def _read_line(self) -> tuple[int, str]:
        while True:
            raw = self.handle.readline(MAX_LINE + 1)
            if not raw:
                raise StopIteration
            self.read += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = self.handle.readline(MAX_LINE)
                self.bad.append((self.read, f"the line is longer than {MAX_LINE} bytes"))
                continue
            try:
                return self.read, self.decoder.decode(raw)
            except UnicodeDecodeError as exc:
                self.decoder.reset()
                self.bad.append((self.read, f"bytes that are not {self.encoding} at byte {exc.start + 1} "
                                            "(give the file's encoding with --encoding)"))

    def taken(self) -> list[tuple[int, str]]:
        taken, self.current = self.current, []
        return taken

    def push_back(self, items: list[tuple[int, str]]) -> None:
        self.pending.extendleft(reversed(items))


def count_lines(path: Path, utf8: bool = False) -> int:
    """The file's lines (for the progress bar), in one streamed pass; with `utf8`, the same pass
    checks that the file is UTF-8 and raises NotUtf8 naming the first line that is not."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if utf8 else None
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line = lines + 1 + chunk.count(b"\n", 0, exc.start)
                    raise NotUtf8(f"{path.name} is not UTF-8 (line {line} has bytes that are not): nothing was "
                                  "imported; give the file's encoding with --encoding, e.g. --encoding latin-1") from None
            lines += chunk.count(b"\n")
    return lines


def read_rows(path: Path, fmt: str | None = None, encoding: str | None = None,
              checked: bool = False) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, mention or None, error or None) for each data row of the file, in order.

    Without `encoding` the file must be UTF-8 (NotUtf8 before the first row otherwise, unless
    `count_lines(path, utf8=True)` has `checked` it already). Lines skipped before they make a
    row (undecodable, too long) are yielded as errors too."""
    fmt = fmt or detect_format(path)
    if encoding is None and not checked:
        count_lines(path, utf8=True)
    encoding = check_encoding(encoding or DEFAULT_ENCODING)
    skipped: list[tuple[int, str]] = []
    with path.open("rb") as handle:
        lines = Lines(handle, encoding, skipped)
        rows = _jsonl_rows(lines) if fmt == "jsonl" else _csv_rows(lines, path)
        for row in rows:
            while skipped:
                number, reason = skipped.pop(0)
                yield number, None, reason
            yield row
        while skipped:
            number, reason = skipped.pop(0)
            yield number, None, reason


def _jsonl_rows(lines: Lines):
    for line in lines:
        number = lines.taken()[-1][0]
        if not line.strip():
            continue
        try:
            if json_depth(line.encode()) > MAX_JSON_DEPTH:
                raise ValueError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            yield number, to_mention(row), None
        except ValueError as exc:   # json.JSONDecodeError is a ValueError
            yield number, None, str(exc)


def _csv_rows(lines: Lines, path: Path):
    with path.open("rb") as handle:
        sample = handle.read(8192).decode(lines.encoding, errors="replace")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.reader(lines, dialect, strict=True)
    header = None
    while True:
        try:
            fields = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as exc:
            fields, error = None, f"unreadable CSV ({exc})"
        taken = lines.taken()
        if not taken:
            return
        number = taken[0][0]
        if header is None and fields is not None:
            header = fields
            continue
        if error is None and header is not None and any(f.strip() for f in fields[len(header):]):
            error = f"{len(fields)} fields where the header has {len(header)} (a stray quote or delimiter?)"
        if error is not None:
            lines.push_back(taken[1:])   # a broken record's later lines are rows of their own
            yield number, None, error
            continue
        if not any(f.strip() for f in fields):
            continue
        try:
            yield number, to_mention(dict(zip(header, fields))), None
        except ValueError as exc:
            yield number, None, str(exc)
