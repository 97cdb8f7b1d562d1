"""Term rollups: per monitor, bucket (1h, 1d) and term, how many mentions hold the term.

Written by ingest with the rollups, for the same inserted (and unmuted) rows, in the same
transaction: a replayed batch inserts nothing new, so it adds no term counts either. Insights
(webapp/insights/terms/) read only these rows, never raw mentions. Only the 1h and 1d buckets
are kept (a 15-minute term list would be mostly ones and cost four times the rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, func, select

from webapp.ingest.models import Mention, TermRollup
from webapp.ingest.rollups import bucket_start
from webapp.insights.terms.extract import extract

TERM_BUCKETS = ("1h", "1d")


@dataclass
class TermDelta:
    count: int = 0
    scored: int = 0
    sum_compound: float = 0.0


def deltas(rows: Iterable[dict]) -> dict[tuple, TermDelta]:
    """Per (monitor, bucket, start, term) deltas of `rows` (monitor_id, published_at, text,
    compound; `lang` when known). A mention without a compound (not scored) counts in `count`
    only. A text repeated in `rows` (syndicated copies, retweets) is read once."""
    out: dict[tuple, TermDelta] = {}
    read: dict[tuple, list[str]] = {}
    starts: dict[datetime, tuple] = {}
    for row in rows:
        text, lang = row["text"], row.get("lang")
        terms = read.get((text, lang))
        if terms is None:
            terms = read[(text, lang)] = extract(text, lang)
        if not terms:
            continue
        compound = row.get("compound")
        monitor, at = row["monitor_id"], row["published_at"]
        spans = starts.get(at)
        if spans is None:
            spans = starts[at] = tuple((bucket, bucket_start(at, bucket)) for bucket in TERM_BUCKETS)
        for bucket, start in spans:
            for term in terms:
                key = (monitor, bucket, start, term)
                d = out.get(key)
                if d is None:
                    d = out[key] = TermDelta()
                d.count += 1
                if compound is not None:
                    d.scored += 1
                    d.sum_compound += compound
    return out


def moved(added: Iterable[dict], removed: Iterable[dict]) -> dict[tuple, TermDelta]:
    """The deltas of rows coming into the counts (`added`) and going out (`removed`), summed
    key by key, so one upsert applies both in key order (unmuting and muting, removing a source)."""
    out = deltas(added)
    for key, d in deltas(removed).items():
        total = out.setdefault(key, TermDelta())
        total.count -= d.count
        total.scored -= d.scored
        total.sum_compound -= d.sum_compound
    return out


def apply(session, changes: dict[tuple, TermDelta]) -> None:
    """Add `changes` to the term rollup rows (upsert), in key order (no lock cycles), on the
    session's connection and transaction.

    On PostgreSQL the rows go as one array per column (`INSERT ... SELECT unnest(...)`), each
    sent as one string, one statement for the batch's thousands of terms; SQLite takes them as one
    executemany of plain tuples. The bucket starts, a handful, go through the column's own bind
    processor once each, so they are stored exactly as the ORM stores them.
    """
    if not changes:
        return
    bind = session.get_bind()
    keys = sorted(changes)
    start_type = TermRollup.__table__.c.start.type.dialect_impl(bind.dialect)
    to_db = start_type.bind_processor(bind.dialect) or (lambda v: v)
    stored = {start: to_db(start) for start in {k[2] for k in keys}}   # a handful per batch
    rows = [(m, b, stored[s], t, d.count, d.scored, float(d.sum_compound))
            for (m, b, s, t), d in ((k, changes[k]) for k in keys)]
    if bind.dialect.name == "postgresql":
        # each column as one string split by the server: no per-element work in the driver
        # (terms are words, spaces, "#", "'" and "-": never the separator, a control character)
        columns = [_SEP.join(map(str, column)) for column in zip(*rows)]
        with session.connection().connection.cursor() as cursor:
            cursor.execute(_PG_UPSERT, columns)
    else:
        session.connection().exec_driver_sql(_SQLITE_UPSERT, rows)


_COLUMNS = "INSERT INTO term_rollups (monitor_id, bucket, start, term, count, scored, sum_compound) "
_ADD = (" ON CONFLICT (monitor_id, bucket, start, term) DO UPDATE SET "
        "count = term_rollups.count + excluded.count, scored = term_rollups.scored + excluded.scored, "
        "sum_compound = term_rollups.sum_compound + excluded.sum_compound")
_SEP = "\x1f"
_PG_UPSERT = (_COLUMNS + "SELECT * FROM unnest("
              + ", ".join(f"string_to_array(%s, E'\\x1f')::{kind}[]"
                          for kind in ("int4", "varchar", "timestamp", "text", "int4", "int4", "float8"))
              + ")" + _ADD)
_SQLITE_UPSERT = _COLUMNS + "VALUES (?, ?, ?, ?, ?, ?, ?)" + _ADD


def rebuild(session, monitor_id: int, chunk: int = 5_000) -> int:
    """Recompute a monitor's term rollups from its stored, unmuted mentions (after re-scoring);
    does not commit. Returns the number of upserts (a term row once per chunk of mentions)."""
    from webapp.ingest.rollups import rebuild_since

    since = rebuild_since(session, monitor_id)   # the term rollups of pruned days stay as they are
    stale, kept = delete(TermRollup).where(TermRollup.monitor_id == monitor_id), [Mention.muted.is_(False)]
    if since is not None:
        stale, kept = stale.where(TermRollup.start >= since), [*kept, Mention.published_at >= since]
    session.execute(stale)
    written, last_id = 0, 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.monitor_id, Mention.published_at, Mention.text, Mention.compound)
            .where(Mention.monitor_id == monitor_id, *kept, Mention.id > last_id)
            .order_by(Mention.id).limit(chunk)).mappings().all()
        if not rows:
            return written
        last_id = rows[-1]["id"]
        changes = deltas(rows)
        apply(session, changes)
        written += len(changes)


def window_totals(session, monitor_id: int, bucket: str, start: datetime, end: datetime,
                  terms: Iterable[str]) -> tuple[dict[str, int], int]:
    """({term: mentions} for `terms`, the count of all terms) over [start, end) of `bucket` rows."""
    where = (TermRollup.monitor_id == monitor_id, TermRollup.bucket == bucket,
             TermRollup.start >= start, TermRollup.start < end)
    total = session.execute(select(func.sum(TermRollup.count)).where(*where)).scalar()
    wanted = sorted(set(terms))
    found: dict[str, int] = {}
    for i in range(0, len(wanted), 500):     # bounded IN lists
        found.update((t, int(n)) for t, n in session.execute(
            select(TermRollup.term, func.sum(TermRollup.count)).where(*where, TermRollup.term.in_(wanted[i:i + 500]))
            .group_by(TermRollup.term)).all())
    return found, int(total or 0)
