"""Term rollups: per monitor, bucket (1h, 1d) and term, how many mentions hold the term.

Written by ingest with the rollups, for the same inserted (and unmuted) rows, in the same
transaction: a replayed batch inserts nothing new, so it adds no term counts either. Insights
(webapp/insights/terms/) read only these rows, never raw mentions. Only the 1h and 1d buckets
are kept (a 15-minute term list would be mostly ones and cost four times the rows).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, func, select

from webapp.core.sql import insert_for, unnest_select
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
    only."""
    out: dict[tuple, TermDelta] = defaultdict(TermDelta)
    for row in rows:
        terms = extract(row["text"], row.get("lang"))
        if not terms:
            continue
        compound = row.get("compound")
        monitor, at = row["monitor_id"], row["published_at"]
        for bucket in TERM_BUCKETS:
            start = bucket_start(at, bucket)
            for term in terms:
                d = out[(monitor, bucket, start, term)]
                d.count += 1
                if compound is not None:
                    d.scored += 1
                    d.sum_compound += compound
    return dict(out)


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
    """Add `changes` to the term rollup rows (upsert), in key order (no lock cycles).

    On PostgreSQL the rows go as one array per column (`INSERT ... SELECT unnest(...)`), one
    statement for the batch's thousands of terms; SQLite takes them as one executemany.
    """
    if not changes:
        return
    bind = session.get_bind()
    table = TermRollup.__table__
    keys = sorted(changes)
    values = {
        "monitor_id": [k[0] for k in keys], "bucket": [k[1] for k in keys], "start": [k[2] for k in keys],
        "term": [k[3] for k in keys], "count": [changes[k].count for k in keys],
        "scored": [changes[k].scored for k in keys], "sum_compound": [changes[k].sum_compound for k in keys],
    }
    insert = insert_for(bind)
    if bind.dialect.name == "postgresql":
        stmt = insert(table).from_select(list(values), unnest_select(table, values))
        params = None
    else:
        stmt = insert(table)
        params = [dict(zip(values, row)) for row in zip(*values.values())]
    stmt = stmt.on_conflict_do_update(
        index_elements=["monitor_id", "bucket", "start", "term"],
        set_={"count": table.c.count + stmt.excluded.count, "scored": table.c.scored + stmt.excluded.scored,
              "sum_compound": table.c.sum_compound + stmt.excluded.sum_compound},
    )
    if params is None:
        session.execute(stmt)
    else:
        session.execute(stmt, params)


def rebuild(session, monitor_id: int, chunk: int = 5_000) -> int:
    """Recompute a monitor's term rollups from its stored, unmuted mentions (after re-scoring);
    does not commit. Returns the number of term rollup rows written."""
    session.execute(delete(TermRollup).where(TermRollup.monitor_id == monitor_id))
    written, last_id = 0, 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.monitor_id, Mention.published_at, Mention.text, Mention.compound)
            .where(Mention.monitor_id == monitor_id, Mention.muted.is_(False), Mention.id > last_id)
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
