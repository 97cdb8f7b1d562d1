"""Term rollups: per monitor, bucket (1h, 1d, 1w) and term, how many mentions hold the term.

Written by ingest with the rollups, for the same inserted (and unmuted) rows, in the same
transaction: a replayed batch inserts nothing new, so it adds no term counts either. Insights
(webapp/insights/terms/) read only these rows, never raw mentions. Ingest writes 1h rows only
(a 15-minute term list would be mostly ones and cost four times the rows); closed days are
folded into 1d and 1w rows by a scheduled job (term_fold.py), and a change to a folded day goes
to its 1d and 1w rows too (`apply`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import datetime
from itertools import chain
from math import nan
from operator import itemgetter
from typing import Iterable, Iterator

from sqlalchemy import delete, func, select

from webapp.core import sql
from webapp.ingest import term_fold
from webapp.ingest.models import Mention, TermRollup
from webapp.ingest.rollups import bucket_start
from webapp.insights.terms.extract import extract

TERM_BUCKETS = ("1h",)     # 1d and 1w rows come from the fold (term_fold.py)
_TERM = itemgetter(3)


@dataclass(slots=True)
class TermDelta:
    count: int = 0
    scored: int = 0
    sum_compound: float = 0.0

    def add(self, other: "TermDelta", sign: int = 1) -> None:
        """Add `other` into this delta (`sign` -1 takes it out)."""
        self.count += sign * other.count
        self.scored += sign * other.scored
        self.sum_compound += sign * other.sum_compound


def deltas(rows: Iterable[dict]) -> dict[tuple, TermDelta]:
    """Per (monitor, bucket, start, term) deltas of `rows` (monitor_id, published_at, text,
    compound; `lang` when known). A mention without a compound (not scored) counts in `count`
    only. A text repeated in `rows` (syndicated copies, retweets) is read once."""
    out: dict[tuple, TermDelta] = {}
    for (monitor, bucket, start), (lists, compounds) in listed(rows).items():
        tallied = tally(list(chain.from_iterable(lists)), list(map(len, lists)),
                        [nan if c is None else c for c in compounds])
        for term, n, scored, total in tallied:
            out[(monitor, bucket, start, term)] = TermDelta(n, scored, total)
    return out


def listed(rows: Iterable[dict]) -> dict[tuple, tuple[list[list[str]], list[float | None]]]:
    """{(monitor, bucket, start): (each row's terms, each row's compound)} of the `rows` that
    hold a term (as `deltas` reads them), in row order."""
    read: dict[tuple, list[str]] = {}
    starts: dict[float, tuple] = {}    # hour since the epoch -> its buckets' (bucket, start); buckets <= 1h
    groups: dict[tuple, tuple[list, list]] = {}
    for row in rows:
        text, lang = row["text"], row.get("lang")
        terms = read.get((text, lang))
        if terms is None:
            terms = read[(text, lang)] = extract(text, lang)
        if not terms:
            continue
        at = row["published_at"]
        spans = starts.get(at.timestamp() // 3600)     # one hour's mentions share their spans
        if spans is None:
            spans = starts[at.timestamp() // 3600] = tuple((bucket, bucket_start(at, bucket)) for bucket in TERM_BUCKETS)
        compound = row.get("compound")
        for bucket, start in spans:
            key = (row["monitor_id"], bucket, start)
            group = groups.get(key)
            if group is None:
                group = groups[key] = ([], [])
            group[0].append(terms)
            group[1].append(compound)
    return groups


def tally(terms: list[str], lengths: list[int], compounds: list[float]) -> Iterator[tuple[str, int, int, float]]:
    """(term, count, scored, compound sum) for each distinct term, first seen first, of mentions
    given as all their terms in a row (`terms`), how many terms each has (`lengths`) and each
    one's compound (NaN: not scored). The counting and sums are numpy's (bincount), not a
    Python step per term: ingest's deltas and the fold of many batches' deltas share it."""
    import numpy as np      # here: the web and a worker import numpy only once they count terms

    index = dict.fromkeys(terms)
    index = dict(zip(index, range(len(index))))
    at = np.fromiter(map(index.__getitem__, terms), dtype=np.intp, count=len(terms))
    per_term = np.repeat(np.asarray(compounds, dtype=float), lengths)
    scored = ~np.isnan(per_term)
    size = len(index)
    return zip(index, np.bincount(at, minlength=size).tolist(),
               map(int, np.bincount(at, scored, minlength=size).tolist()),
               np.bincount(at, np.where(scored, per_term, 0.0), minlength=size).tolist())


def moved(added: Iterable[dict], removed: Iterable[dict]) -> dict[tuple, TermDelta]:
    """The deltas of rows coming into the counts (`added`) and going out (`removed`), summed
    key by key, so one upsert applies both in key order (unmuting and muting, removing a source)."""
    out = deltas(added)
    for key, d in deltas(removed).items():
        out.setdefault(key, TermDelta()).add(d, -1)
    return out


def with_folded(changes: dict[tuple, TermDelta], marks: dict[int, datetime | None]) -> dict[tuple, TermDelta]:
    """`changes` (1h rows) plus, for the hours of days already folded (before the monitor's
    watermark in `marks`), the same deltas on their day's 1d row and, when the whole week is
    folded, on its 1w row: folded rows stay the sums of their hours."""
    out = dict(changes)
    for (monitor, bucket, start, term), d in changes.items():
        folded_before = marks.get(monitor)
        if bucket != "1h" or folded_before is None or start >= folded_before:
            continue
        week = term_fold.week_start(start)
        for key in ((monitor, "1d", term_fold.day_start(start), term),
                    *(((monitor, "1w", week, term),) if week + term_fold.WEEK <= folded_before else ())):
            out.setdefault(key, TermDelta()).add(d)
    return out


def apply(session, changes: dict[tuple, TermDelta]) -> None:
    """Add `changes` to the term rollup rows (upsert), in key order (no lock cycles), on the
    session's connection and transaction; changes to folded days reach their 1d and 1w rows
    (`with_folded`, the watermarks read under a lock that keeps the fold out meanwhile). That
    lock also keeps the monitors from being deleted until the transaction ends; the changes of a
    monitor already gone are dropped (the table has no foreign key: migration 0028).

    On PostgreSQL the rows go as one array per column (`INSERT ... SELECT unnest(...)`), each
    sent as one string, one statement for the batch's thousands of terms; SQLite takes them as
    multi-row statements of SQLITE_ROWS rows of plain values (`sqlite_upsert`). The bucket
    starts, a handful, go through the column's own bind processor once each, so they are stored
    exactly as the ORM stores them.
    """
    if not changes:
        return
    monitors = {key[0] for key in changes}
    marks = term_fold.marks(session, monitors)
    if len(marks) < len(monitors):     # a monitor deleted meanwhile: no rows without it (no foreign key)
        changes = {key: d for key, d in changes.items() if key[0] in marks}
        if not changes:
            return
    if any(marks.values()):
        changes = with_folded(changes, marks)
    bind = session.get_bind()
    keys = in_key_order(changes)
    start_type = TermRollup.__table__.c.start.type.dialect_impl(bind.dialect)
    to_db = start_type.bind_processor(bind.dialect) or (lambda v: v)
    stored = {start: to_db(start) for start in {k[2] for k in keys}}   # a handful per batch
    rows = [(m, b, stored[s], t, d.count, d.scored, float(d.sum_compound))
            for (m, b, s, t), d in zip(keys, map(changes.__getitem__, keys))]
    if bind.dialect.name == "postgresql":
        # each column as one string split by the server: no per-element work in the driver
        # (terms are words, spaces, "#", "'" and "-": never the separator, a control character)
        with session.connection().connection.cursor() as cursor:
            cursor.execute(_PG_UPSERT, [sql.joined_text(column) for column in zip(*rows)])
    else:
        sqlite_upsert(session.connection().connection.cursor(), rows)


def sqlite_upsert(cursor, rows: list[tuple]) -> None:
    """The SQLite upsert of term rollup `rows`, SQLITE_ROWS rows a statement: SQLite steps one
    statement over many rows for about half the CPU of an executemany row by row (the fold's
    thousands of rows; 7 x 140 parameters stay under the 999 of the oldest SQLite)."""
    try:
        for i in range(0, len(rows), SQLITE_ROWS):
            part = rows[i:i + SQLITE_ROWS]
            cursor.execute(_sqlite_upsert_of(len(part)), list(chain.from_iterable(part)))
    finally:
        cursor.close()


def in_key_order(changes: dict[tuple, TermDelta]) -> list[tuple]:
    """The keys of `changes` sorted, as `sorted` sorts them, but comparing only the terms of each
    (monitor, bucket, start): a batch's thousands of keys share a handful of those."""
    groups: dict[tuple, list[tuple]] = {}
    for key in changes:
        group = groups.get(key[:3])
        if group is None:
            group = groups[key[:3]] = []
        group.append(key)
    return [key for prefix in sorted(groups) for key in sorted(groups[prefix], key=_TERM)]


_COLUMNS = "INSERT INTO term_rollups (monitor_id, bucket, start, term, count, scored, sum_compound) "
_ADD = (" ON CONFLICT (monitor_id, bucket, start, term) DO UPDATE SET "
        "count = term_rollups.count + excluded.count, scored = term_rollups.scored + excluded.scored, "
        "sum_compound = term_rollups.sum_compound + excluded.sum_compound")
_PG_UPSERT = (_COLUMNS + "SELECT * FROM unnest("
              + ", ".join(f"string_to_array(%s, E'\\x{ord(sql.SEP):02x}')::{kind}[]"
                          for kind in ("int4", "varchar", "timestamp", "text", "int4", "int4", "float8"))
              + ")" + _ADD)
SQLITE_ROWS = 140


@cache   # at most SQLITE_ROWS statements, each made once
def _sqlite_upsert_of(n: int) -> str:
    return _COLUMNS + "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * n) + _ADD


def rebuild(session, monitor_id: int, chunk: int = 5_000) -> int:
    """Recompute a monitor's term rollups from its stored, unmuted mentions (after re-scoring);
    does not commit. The 1h rows are rewritten, then the days that were folded are folded again.
    Returns the number of 1h upserts (a term row once per chunk of mentions)."""
    from webapp.ingest.rollups import rebuild_since

    since = rebuild_since(session, monitor_id)   # the term rollups of pruned days stay as they are
    from webapp.ingest import term_deltas

    folded_before = term_fold.reset(session, monitor_id, since)   # claimed; W back to `since`
    term_deltas.fold(session, monitor_id)     # pending counts in first (those from `since` are rewritten)
    stale, kept = delete(TermRollup).where(TermRollup.monitor_id == monitor_id), [Mention.muted.is_(False)]
    if since is not None:
        stale, kept = stale.where(TermRollup.start >= since), [*kept, Mention.published_at >= since]
    session.execute(stale)
    written, last_id = 0, 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.monitor_id, Mention.published_at, Mention.text, Mention.compound,
                   Mention.lang)
            .where(Mention.monitor_id == monitor_id, *kept, Mention.id > last_id)
            .order_by(Mention.id).limit(chunk)).mappings().all()
        if not rows:
            break
        last_id = rows[-1]["id"]
        changes = deltas(rows)
        apply(session, changes)
        written += len(changes)
    if folded_before is not None:
        term_fold.fold(session, monitor_id, folded_before, max_days=None)
    return written


def window_totals(session, monitor_id: int, bucket: str, start: datetime, end: datetime,
                  terms: Iterable[str]) -> tuple[dict[str, int], int]:
    """({term: mentions} for `terms`, the count of all terms) over [start, end): of 1h rows, or
    with bucket "1d" (whole days) of the folded rows and the 1h rows of the days not folded yet.
    The monitor's pending term deltas are folded first (up to term_deltas.READER_FOLD; not
    committed: the caller's transaction; marked for `sql.end_read` to keep, so a request that only
    reads commits the fold)."""
    from webapp.ingest import term_deltas

    term_deltas.fold_for_reader(session, monitor_id)
    if bucket == "1d":
        where = (term_fold.where(monitor_id, term_fold.tiles(start, end, term_fold.mark(session, monitor_id))),)
    else:
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
