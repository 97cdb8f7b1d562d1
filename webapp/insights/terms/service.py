"""Top and rising terms of a monitor over a period, read from the term rollups only.

A period [start, end) is compared with the period of the same length just before it. Periods
of up to two days read the 1h term rollups, longer ones whole days: the folded 1w and 1d rows of
the days before the monitor's fold watermark and the 1h rows of the days after it
(ingest/term_fold.py), so an answer is the same before and after a fold. One query sums both periods per term, taking the CANDIDATES terms most mentioned in
the current period; a second sums all terms of both periods (the totals the statistic needs).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, or_, select

from webapp.core import sql
from webapp.ingest import term_deltas, term_fold
from webapp.ingest.models import TermDeltas, TermRollup
from webapp.ingest.rollups import BUCKETS, bucket_start
from webapp.insights.terms import rising
from webapp.insights.terms.extract import search_query
from webapp.monitors.models import Monitor

CANDIDATES = 2_000
HOURLY_UP_TO = timedelta(days=2)
SORTS = ("rising", "count")


@dataclass(frozen=True)
class TermTable:
    start: datetime
    end: datetime
    bucket: str
    counts: dict[str, tuple[int, int, int, float]]   # term -> (current, previous, scored, sum_compound)
    n_cur: int
    n_prev: int
    complete: bool = True    # False: more of the monitor's term deltas were pending than a reader folds

    def rows(self, sort: str, limit: int) -> list[dict]:
        """The API's rows: by rising (z > 0, highest first) or by current count."""
        pairs = {t: (c[0], c[1]) for t, c in self.counts.items()}
        if sort == "rising":
            chosen = rising.top_rising(pairs, self.n_cur, self.n_prev, limit)
        else:
            scores = rising.rising_scores(pairs, self.n_cur, self.n_prev)
            top = sorted(self.counts, key=lambda t: (-self.counts[t][0], t))[:limit]
            chosen = [(t, scores[t]) for t in top]
        return [self._row(term, z) for term, z in chosen]

    def _row(self, term: str, z: float) -> dict:
        current, previous, scored, total = self.counts[term]
        return {"term": term, "count": current, "previous": previous, "rising": round(z, 2),
                "avg_compound": round(total / scored, 4) if scored else None}


def period(start: datetime, end: datetime) -> tuple[str, datetime, datetime]:
    """(bucket, start, end) of the term rollups that cover [start, end): 1h buckets up to two
    days, else 1d; the ends move out to the bucket boundaries."""
    bucket = "1h" if end - start <= HOURLY_UP_TO else "1d"
    first = bucket_start(start, bucket)
    last = bucket_start(end, bucket)
    if last < end:
        last += BUCKETS[bucket]
    return bucket, first, last


@lru_cache(maxsize=16)
def _table_statement(parts: int):
    """The candidate terms' sums over `parts` (bucket, start, end) row ranges, built once per
    number of ranges (building it cost more CPU than running it); the values are parameters."""
    start = bindparam("start", type_=TermRollup.start.type)
    current = case((TermRollup.start >= start, TermRollup.count), else_=0)
    previous = case((TermRollup.start < start, TermRollup.count), else_=0)
    cur_sum, prev_sum = func.sum(current), func.sum(previous)
    where = and_(TermRollup.monitor_id == bindparam("monitor_id"), or_(*(
        and_(TermRollup.bucket == bindparam(f"bucket{i}"), TermRollup.start >= bindparam(f"start{i}"),
             TermRollup.start < bindparam(f"end{i}")) for i in range(parts))))
    # one scan: the totals of all terms ride along as window sums over the grouped rows
    return (select(TermRollup.term, cur_sum, prev_sum,
                   func.sum(case((TermRollup.start >= start, TermRollup.scored), else_=0)),
                   func.sum(case((TermRollup.start >= start, TermRollup.sum_compound), else_=0.0)),
                   func.sum(cur_sum).over(), func.sum(prev_sum).over())
            .where(where).group_by(TermRollup.term)
            .order_by(cur_sum.desc(), TermRollup.term).limit(CANDIDATES))


@lru_cache(maxsize=1)
def _mark_statement():
    """The monitor's fold watermark (term_fold.mark) and whether it has pending term deltas, in
    one statement: every dashboard page asks both, and most often nothing is pending."""
    deltas = TermDeltas.__table__
    pending = exists().where(deltas.c.monitor_id == bindparam("monitor_id"))
    monitors = Monitor.__table__
    return select(monitors.c.terms_folded_before, pending).where(monitors.c.id == bindparam("monitor_id"))


def term_table(session, monitor_id: int, start: datetime, end: datetime) -> TermTable:
    """The candidate terms of [start, end) (aligned by `period`) with their counts in it and in
    the period of the same length before it. The monitor's pending term deltas are folded first,
    up to term_deltas.READER_FOLD of them (`complete` says whether that was all; ingest/term_deltas.py;
    not committed: the caller commits or drops them, the job folds them; marked for `sql.end_read`
    to keep, so a page that ends with it commits the fold)."""
    found = sql.raw_rows(session, _mark_statement(), {"monitor_id": monitor_id}).processed()
    folded_before, pending = found[0] if found else (None, False)
    complete = term_deltas.fold_for_reader(session, monitor_id) if pending else True
    bucket, start, end = period(start, end)
    before = start - (end - start)
    if bucket == "1h":
        ranges = [("1h", before, end)]
    else:    # no range crosses `start`: each row is wholly in the current or the previous period
        ranges = term_fold.tiles(before, start, folded_before) + term_fold.tiles(start, end, folded_before)
    params = {"monitor_id": monitor_id, "start": start}
    for i, (b, s, e) in enumerate(ranges):
        params |= {f"bucket{i}": b, f"start{i}": s, f"end{i}": e}
    rows = sql.raw_rows(session, _table_statement(len(ranges)), params).processed()
    counts = {t: (int(c), int(p), int(s), float(total)) for t, c, p, s, total, _, _ in rows if c}
    n_cur, n_prev = (rows[0][5], rows[0][6]) if rows else (0, 0)
    return TermTable(start, end, bucket, counts, int(n_cur or 0), int(n_prev or 0), complete)


def panel(table: TermTable, limit: int = 10) -> dict:
    """The dashboard's terms panel of `table`: top rising and top by count, each term with the
    mentions-page `q` that finds it (templates/insights/panels/terms.html; pure)."""
    add_q = (lambda rows: [{**r, "q": search_query(r["term"])} for r in rows])
    return {"rising": add_q(table.rows("rising", limit)), "top": add_q(table.rows("count", limit)),
            "start": table.start, "end": table.end, "complete": table.complete}
