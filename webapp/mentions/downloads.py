"""Streamed download responses for the export links of pages and the API.

The body is generated while it is sent (`stream_with_context` keeps the request's database
session open until the last chunk), from a cursor read in chunks, so memory stays flat however
many rows an export holds. Services build the rows and the text; this module only wraps them
in a response with a content type and a file name.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator, Mapping

from flask import Response, stream_with_context

from webapp.ingest.models import ALL_SOURCES
from webapp.monitors.models import Monitor
from webapp.mentions import exports
from webapp.ingest import rollups
from webapp.core.times import read_time
from webapp.mentions.search import EXPORT_COLUMNS, EXPORT_FREE_TEXT, MentionFilter, iter_record_batches
from webapp.core.numbers import whole_number

# The dashboard's range picker (views/monitors.py): the range a series export covers by default.
SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
         "90d": timedelta(days=90)}
SPAN_BUCKET = {"24h": "15m", "7d": "1h", "30d": "1d", "90d": "1d"}


class DownloadInvalid(ValueError):
    """Bad export parameters: {parameter: problem}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def export_format(args: Mapping[str, str], default: str) -> str:
    """csv, json or ndjson from `?format=`; raises DownloadInvalid for anything else."""
    fmt = (args.get("format") or default).strip().lower()
    if fmt not in exports.FORMATS:
        raise DownloadInvalid({"format": f"format must be one of {', '.join(exports.FORMATS)}"})
    return fmt


def stream(body: Iterator[str | bytes], fmt: str, name: str) -> Response:
    """A streamed download of `body` (text, or UTF-8 bytes already) in `fmt`, saved as `name`."""
    encoded = (chunk if chunk.__class__ is bytes else chunk.encode("utf-8") for chunk in body)
    response = Response(stream_with_context(encoded), mimetype=exports.FORMATS[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = exports.FORMATS["csv"]
    response.headers["Content-Disposition"] = exports.disposition(name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def mentions_download(session, monitor: Monitor, spec: MentionFilter, fmt: str) -> Response:
    """Every mention of `monitor` that matches `spec`, in its sort order, streamed."""
    batches = iter_record_batches(session, monitor.id, spec)
    response = stream(exports.record_chunks(fmt, EXPORT_COLUMNS, batches, EXPORT_FREE_TEXT), fmt,
                      exports.filename(monitor.name, "mentions", fmt))
    if monitor.pruned_before is not None:  # retention: say from when raw mentions exist
        response.headers["X-Mentions-Pruned-Before"] = monitor.pruned_before.isoformat()
    return response


def series_range(args: Mapping[str, str], now: datetime) -> tuple[str, datetime, datetime, int]:
    """(bucket, start, end, source id) of a series export from its parameters.

    `range` (24h, 7d, 30d, 90d; default 7d) or `start`/`end` (also `since`/`until`) in ISO 8601,
    and `bucket` (15m, 1h, 1d; default by range) and `source_id`. Raises DownloadInvalid.
    """
    errors: dict[str, str] = {}
    span = (args.get("range") or "7d").strip()
    if span not in SPANS:
        errors["range"] = f"range must be one of {', '.join(SPANS)}"
        span = "7d"
    bucket = (args.get("bucket") or SPAN_BUCKET[span]).strip()
    if bucket not in rollups.BUCKETS:
        errors["bucket"] = f"bucket must be one of {', '.join(rollups.BUCKETS)}"
    times = {}
    for name, alias in (("start", "since"), ("end", "until")):
        text = (args.get(name) or args.get(alias) or "").strip()
        if text:
            try:
                times[name] = read_time(text, end_of_day=name == "end")
            except ValueError:
                errors[name] = f"{name} must be an ISO 8601 date or time"
    source = (args.get("source_id") or "").strip()
    if source and whole_number(source, 9) is None:
        errors["source_id"] = "source_id must be a source id"
    if errors:
        raise DownloadInvalid(errors)
    end = times.get("end") or now
    start = times.get("start") or (end - SPANS[span])
    try:
        start, end = rollups.resolve_range(bucket, start, end, now)
    except rollups.SeriesError as exc:
        raise DownloadInvalid({"range": str(exc)}) from exc
    return bucket, start, end, int(source) if source else ALL_SOURCES


def series_download(session, monitor: Monitor, args: Mapping[str, str], fmt: str) -> Response:
    """The monitor's series (one row per bucket of the range, read from rollups), streamed."""
    bucket, start, end, source_id = series_range(args, datetime.now(timezone.utc))
    buckets = rollups.series(session, monitor.id, bucket, start, end, source_id)
    rows = ({"bucket": bucket, **point} for point in buckets)
    columns = ("bucket", *exports.SERIES_COLUMNS)
    return stream(exports.chunks(fmt, columns, rows), fmt, exports.filename(monitor.name, f"series-{bucket}", fmt))
