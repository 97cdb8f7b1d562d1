"""Folding closed days of the hourly term rollups into daily (1d) and weekly (1w) rows.

Ingest writes only 1h term rows (half the rows per batch of writing 1h and 1d). A scheduled job
(`terms.fold_due`, ingest/tasks.py) folds each monitor's closed days: a day's 1d rows are the sums
of its 1h rows, and an epoch-aligned week's 1w rows the sums of its seven days. The monitor's
watermark `Monitor.terms_folded_before` (W) says how far: every day before W has its 1d rows,
every week that ends at or before W its 1w rows; 1h rows are kept (the 24-hour answers read them).

Readers (`tiles`) read 1w rows for whole folded weeks, 1d rows for the other folded days and 1h
rows from W on, so an answer is the same before and after a fold. Every later change to a folded
day (a late or backfilled mention, a mute, a removed source) is added to its 1d and 1w rows too
(term_rollups.apply, `with_folded`), so the folded rows never go stale.

Nothing is dropped: a term seen once in a day keeps its 1d row. Dropping those rows would change
answers (a term seen once a day for 30 days has 30 mentions in a 30-day answer) and bias the
rising statistic (the previous period's count of a steady, rare term would read 0).

Locking: the fold claims the monitor's row (PostgreSQL `FOR UPDATE`; on SQLite its first
statement is a write, so it holds the database's write lock) and every writer of term rollups
reads W under `FOR KEY SHARE` (which ordinary monitor updates do not block), so a writer either
finishes before a fold reads the hours or sees the new W; two folds run one after the other and
the second finds nothing left to do (re-running is a no-op).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import and_, bindparam, delete, func, literal, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from webapp.core import sql
from webapp.core.types import UTCDateTime
from webapp.ingest.models import TermRollup
from webapp.monitors.models import Monitor

log = logging.getLogger(__name__)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
CHUNK_DAYS = 7           # days folded per transaction: ingest of the monitor waits for at most one
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def day_start(ts: datetime) -> datetime:
    return _EPOCH + (ts - _EPOCH) // DAY * DAY


def week_start(ts: datetime) -> datetime:
    """The start of the epoch-aligned seven days that hold `ts` (weeks begin on Thursdays)."""
    return _EPOCH + (ts - _EPOCH) // WEEK * WEEK


def marks(session, monitor_ids: Iterable[int]) -> dict[int, datetime | None]:
    """{monitor id: W} for writers, read under FOR KEY SHARE (PostgreSQL) so that no fold of
    these monitors runs until the caller's transaction ends."""
    ids = sorted(set(monitor_ids))
    if not ids:
        return {}
    return dict(sql.run(session, _MARKS, {"ids": ids}).all())


_MARKS = (select(Monitor.__table__.c.id, Monitor.__table__.c.terms_folded_before)   # built once: every batch reads it
          .where(Monitor.__table__.c.id.in_(bindparam("ids", expanding=True))).order_by(Monitor.__table__.c.id)
          .with_for_update(read=True, key_share=True))


_MARK = select(Monitor.__table__.c.terms_folded_before).where(Monitor.__table__.c.id == bindparam("monitor_id"))


def mark(session, monitor_id: int) -> datetime | None:
    """W for readers (no lock: rows below an older W stay right, 1h rows are always there); a
    prebuilt statement on the DBAPI connection: every dashboard page reads it."""
    found = sql.raw_rows(session, _MARK, {"monitor_id": monitor_id}).processed()
    return found[0][0] if found else None


def claim(session, monitor_id: int) -> datetime | None:
    """Lock the monitor's fold (until the transaction ends) and return its W."""
    if session.get_bind().dialect.name == "sqlite":    # a write first: the database's write lock
        session.execute(update(Monitor).where(Monitor.id == monitor_id)
                        .values(terms_folded_before=Monitor.terms_folded_before)
                        .execution_options(synchronize_session=False))
    return session.execute(select(Monitor.terms_folded_before).where(Monitor.id == monitor_id)
                           .with_for_update()).scalar()


def _set_mark(session, monitor_id: int, value: datetime | None) -> None:
    session.execute(update(Monitor).where(Monitor.id == monitor_id).values(terms_folded_before=value)
                    .execution_options(synchronize_session=False))


def fold(session, monitor_id: int, through: datetime, max_days: int | None = CHUNK_DAYS) -> int:
    """Fold the monitor's days from W up to the day of `through` (exclusive), at most `max_days`
    of them, and move W; does not commit. Returns the days folded (0: nothing to do). The
    monitor's pending term deltas (term_deltas.py) are folded in first, under the claim."""
    from webapp.ingest import term_deltas

    through = day_start(through)
    claimed = claim(session, monitor_id)
    term_deltas.fold(session, monitor_id)
    # a chunk starts at the next day with hours, so empty days cost nothing (a lone mention of
    # 1990 does not make the first fold walk every day since); never folded: from the first one
    hours = [TermRollup.monitor_id == monitor_id, TermRollup.bucket == "1h"]
    if claimed is not None:
        hours.append(TermRollup.start >= claimed)
    following = session.execute(select(func.min(TermRollup.start)).where(*hours)).scalar()
    begin = min(day_start(following), through) if following is not None else through
    folded_before = claimed if claimed is not None else begin
    upto = min(through, begin + max_days * DAY) if max_days else through
    upto = max(upto, folded_before)      # never back (an older `through`)
    if upto > folded_before:
        replace_sums(session, monitor_id, "1d", "1h", folded_before, upto, DAY)
        # the weeks that end in (W, upto]: their seven days are folded now
        replace_sums(session, monitor_id, "1w", "1d", week_start(folded_before - WEEK) + WEEK, week_start(upto), WEEK)
    if upto != claimed:
        _set_mark(session, monitor_id, upto)
    return (upto - folded_before) // DAY


def replace_sums(session, monitor_id: int, bucket: str, source: str, start: datetime, end: datetime,
                 size: timedelta) -> None:
    """The `bucket` rows of [start, end) (whole `size` steps) recomputed as the sums of the
    `source` rows inside each step: one INSERT ... SELECT per step, on both databases. Callers
    hold the claim (`fold`, `claim`)."""
    t = TermRollup
    session.execute(delete(t).where(t.monitor_id == monitor_id, t.bucket == bucket,
                                    t.start >= start, t.start < end))
    found = session.execute(select(t.start).distinct().where(
        t.monitor_id == monitor_id, t.bucket == source, t.start >= start, t.start < end)).scalars()
    for at in sorted({start + (s - start) // size * size for s in found}):   # the steps with rows
        session.execute(t.__table__.insert().from_select(
            ["monitor_id", "bucket", "start", "term", "count", "scored", "sum_compound"],
            select(t.monitor_id, literal(bucket), literal(at, UTCDateTime()), t.term,
                   func.sum(t.count), func.sum(t.scored), func.sum(t.sum_compound))
            .where(t.monitor_id == monitor_id, t.bucket == source, t.start >= at, t.start < at + size)
            .group_by(t.monitor_id, t.term).having(func.sum(t.count) != 0)))


def reset(session, monitor_id: int, since: datetime | None) -> datetime | None:
    """Before a rebuild from `since` (None: everything): claim the fold, move W back to `since`
    (so the rebuild writes 1h rows only) and return the old W, to fold up to again afterwards."""
    old = claim(session, monitor_id)
    if old is not None and (since is None or since < old):
        _set_mark(session, monitor_id, since)
    return old


def tiles(lo: datetime, hi: datetime, folded_before: datetime | None) -> list[tuple[str, datetime, datetime]]:
    """[lo, hi) (whole days) as (bucket, start, end) row ranges: 1w rows for the whole weeks
    before W, 1d rows for the other days before W, 1h rows from W on."""
    f = lo if folded_before is None else max(lo, min(hi, folded_before))
    out = []
    if f > lo:
        first, last = week_start(lo - timedelta(microseconds=1)) + WEEK, week_start(f)
        if last > first:
            out += [("1d", lo, first), ("1w", first, last), ("1d", last, f)]
        else:
            out.append(("1d", lo, f))
    out.append(("1h", f, hi))
    return [(b, s, e) for b, s, e in out if e > s]


def where(monitor_id: int, ranges: list[tuple[str, datetime, datetime]]):
    """The SQL condition for a monitor's term rows in `ranges` (from `tiles`)."""
    return and_(TermRollup.monitor_id == monitor_id,
                or_(*(and_(TermRollup.bucket == b, TermRollup.start >= s, TermRollup.start < e)
                      for b, s, e in ranges)))


def fold_due(session, now: datetime, monitor_id: int | None = None) -> dict[int, int]:
    """Fold every monitor's (or one's) closed days (those before today, UTC), CHUNK_DAYS per
    transaction, committing each: {monitor id: days folded}."""
    query = select(Monitor.id).order_by(Monitor.id)
    if monitor_id is not None:
        query = query.where(Monitor.id == monitor_id)
    ids = list(session.execute(query).scalars())
    session.rollback()
    done: dict[int, int] = {}
    for mid in ids:
        total = 0
        try:
            while True:
                days = fold(session, mid, now)
                session.commit()
                total += days
                if not days:
                    break
        except SQLAlchemyError:     # one monitor's failure (a lock timeout) never stops the others
            session.rollback()
            log.exception("folding the term rollups of monitor %s failed; the next run retries", mid)
        done[mid] = total
    return done
