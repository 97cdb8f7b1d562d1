"""Author totals: per monitor and author, the sums of the author rollups from the monitor's mark
on, so that top authors read authors in the order of an upper bound of their score and stop
early (threshold algorithm, insights/audience.py: `_by_totals`).

The fold job (`terms.fold_due`, or `flask fold-authors`) builds a monitor's totals: from the
day rows from `since` (the start of the longest range, 90 days, at build time) on, per author:
mentions, the largest reach, engagement, score = reach + 3 x engagement and the latest day with
a mention (an author whose latest day is before a range has nothing in it); and marks the monitor
(`AuthorTotalMark`). From then on every author delta that ingest, muting, un-muting, source
removal and re-scoring apply to the author rollups is added to the totals in the same
transaction (`add`, called by insights/rollups.py: `apply`), whatever its bucket's time; deltas
that take mentions out (a mute, a removed source) are not subtracted.

Why that is an upper bound: for a range that starts at or after `since`, the range's rows are
a subset of the rows summed into the totals (the build's rows plus every later delta), and every
row's mentions and engagement are >= 0, so the totals' mentions and engagement are at least the
range's; reach is the largest seen, which never decreases. Hence the range's score and mentions
of every author are at most their totals'. A total that is larger (an author's rows before the
range, a muted mention, a re-scoring after retention that adds its recent rows again) only makes
the bound looser, never wrong; the daily rebuild makes it tight again. Subtracting instead could
take out a mention from before `since` that the build never added: a bound too small.

Locking: the build claims the monitor's row (term_fold.claim: FOR UPDATE on PostgreSQL, the
write lock on SQLite) for each chunk of authors it rebuilds, and `add` reads it under FOR KEY
SHARE first (term_fold.marks), so a delta is either in the rollups a chunk sums or added after
the chunk's rows are in.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from webapp.core.sql import insert_for, insert_rows
from webapp.ingest import term_fold
from webapp.insights.influence import ENGAGEMENT_WEIGHT
from webapp.insights.models import AuthorRollup, AuthorTotal, AuthorTotalMark
from webapp.monitors.models import Monitor

log = logging.getLogger(__name__)
SPAN = timedelta(days=90)       # the longest range (audience.RANGES["90d"]); its start is day-aligned
CHUNK_AUTHORS = 50_000          # authors rebuilt per transaction (ingest of the monitor waits for one)


def greatest(bind, a, b):
    """The larger of two SQL values on either database."""
    return func.greatest(a, b) if bind.dialect.name == "postgresql" else func.max(a, b)


def sums(authors: dict) -> dict[tuple[int, str], list]:
    """{(monitor, author): [mentions, reach, engagement, latest day]} of rollup deltas keyed
    (monitor, bucket, start, author) (insights/rollups.py: `deltas`): the day deltas only (each
    mention is in one 1h and one 1d delta), summed, reach and day the largest; deltas that take
    mentions out are left out (the totals stay an upper bound; the next build makes them tight). Pure."""
    out: dict[tuple[int, str], list] = {}
    for (monitor_id, bucket, start, author), d in authors.items():
        if bucket == "1d" and d.mentions > 0:
            total = out.setdefault((monitor_id, author), [0, 0, 0, start])
            total[0] += d.mentions
            total[1] = max(total[1], d.reach)
            total[2] += d.engagement
            total[3] = max(total[3], start)
    return out


def add(session, authors: dict) -> None:
    """Add author rollup deltas to the totals (upserts in key order, one statement on PostgreSQL:
    `core.sql.insert_rows`, as the author rollups beside them), under the monitors' lock."""
    totals = sums(authors)
    if not totals:
        return
    term_fold.marks(session, {monitor_id for monitor_id, _a in totals})
    bind = session.get_bind()
    table = AuthorTotal.__table__
    stmt = insert_for(bind)(table)
    reach = greatest(bind, table.c.reach, stmt.excluded.reach)
    engagement = table.c.engagement + stmt.excluded.engagement
    stmt = stmt.on_conflict_do_update(index_elements=["monitor_id", "author"], set_={
        "mentions": table.c.mentions + stmt.excluded.mentions, "reach": reach, "engagement": engagement,
        "score": reach + ENGAGEMENT_WEIGHT * engagement,
        "last_day": greatest(bind, table.c.last_day, stmt.excluded.last_day)})
    insert_rows(session, stmt, [
        {"monitor_id": m, "author": a, "mentions": n, "reach": r, "engagement": e,
         "score": r + ENGAGEMENT_WEIGHT * e, "last_day": day}
        for (m, a), (n, r, e, day) in sorted(totals.items())])


def since_for(now: datetime) -> datetime:
    """The start of the longest range at `now` (audience.window("90d", now).start): day-aligned."""
    return term_fold.day_start(term_fold.day_start(now) + timedelta(days=1) - SPAN)


def mark(session, monitor_id: int) -> datetime | None:
    """Where the monitor's totals are complete from (None: not built, do not use them)."""
    return session.execute(select(AuthorTotalMark.since).where(AuthorTotalMark.monitor_id == monitor_id)).scalar()


def build(session, monitor_id: int, now: datetime, chunk: int = CHUNK_AUTHORS) -> int:
    """(Re)build a monitor's totals from its day rows from `since_for(now)` on and mark it,
    `chunk` authors (in name order) per transaction, each committed under the monitor's lock, so
    that its ingest waits for one chunk at most. A rebuild moves the mark first (a range before
    it reads the candidate lists meanwhile): the authors not rebuilt yet keep totals from the
    older mark, which bound them from the new one too. A first build marks the monitor at the
    end, when every author has its totals. Returns the authors written."""
    since = since_for(now)
    rebuild = mark(session, monitor_id) is not None
    if rebuild:
        term_fold.claim(session, monitor_id)
        _mark(session, monitor_id, since, now)
        session.commit()
    after: str | None = None
    while True:
        term_fold.claim(session, monitor_id)
        upto = _boundary(session, monitor_id, since, after, chunk)
        session.execute(delete(AuthorTotal).where(AuthorTotal.monitor_id == monitor_id,
                                                  *_names(AuthorTotal.author, after, upto)))
        r = AuthorRollup
        reach, engagement, mentions = func.max(r.reach), func.sum(r.engagement), func.sum(r.mentions)
        session.execute(AuthorTotal.__table__.insert().from_select(
            ["monitor_id", "author", "mentions", "reach", "engagement", "score", "last_day"],
            select(r.monitor_id, r.author, mentions, reach, engagement, reach + ENGAGEMENT_WEIGHT * engagement,
                   func.max(r.start))
            .where(r.monitor_id == monitor_id, r.bucket == "1d", r.start >= since, *_names(r.author, after, upto))
            .group_by(r.monitor_id, r.author).having(mentions > 0)))
        if upto is None:
            break
        session.commit()
        after = upto
    if not rebuild:
        _mark(session, monitor_id, since, now)
    session.commit()
    return session.execute(select(func.count()).where(AuthorTotal.monitor_id == monitor_id)).scalar()


def _names(column, after: str | None, upto: str | None) -> list:
    """Conditions of the names in (after, upto] (None: no bound on that side)."""
    return ([column > after] if after is not None else []) + ([column <= upto] if upto is not None else [])


def _boundary(session, monitor_id: int, since: datetime, after: str | None, chunk: int) -> str | None:
    """The `chunk`-th author (by name) after `after` with day rows from `since` on, None if fewer."""
    r = AuthorRollup
    query = select(r.author).where(r.monitor_id == monitor_id, r.bucket == "1d", r.start >= since,
                                   *_names(r.author, after, None))
    return session.execute(query.group_by(r.author).order_by(r.author).offset(chunk - 1).limit(1)).scalar()


def _mark(session, monitor_id: int, since: datetime, now: datetime) -> None:
    stmt = insert_for(session.get_bind())(AuthorTotalMark.__table__)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["monitor_id"], set_={"since": stmt.excluded.since, "built_at": stmt.excluded.built_at}),
        {"monitor_id": monitor_id, "since": since, "built_at": now})


def clear(session, monitor_id: int, since: datetime | None) -> None:
    """Before a rebuild of a monitor's rollups from `since` (re-scoring): with None every row is
    added again, so its totals are emptied (the mark stays: they come back complete); from a day
    on (retention pruned the mentions before it) the rows before it stay and are not added again,
    so the totals stay too (the rows from `since` count twice until the next build)."""
    if since is None:
        session.execute(delete(AuthorTotal).where(AuthorTotal.monitor_id == monitor_id))


def refresh_due(session, now: datetime, monitor_id: int | None = None, force: bool = False) -> dict[int, int]:
    """Build the totals of every monitor (or one) never built or whose mark is before the longest
    range's start (once a day; all of them with `force`), committing each: {monitor id: authors}.
    One monitor's failure (a lock timeout) never stops the others; the next run retries."""
    since = select(AuthorTotalMark.since).where(AuthorTotalMark.monitor_id == Monitor.id).scalar_subquery()
    query = select(Monitor.id).order_by(Monitor.id)
    if monitor_id is not None:
        query = query.where(Monitor.id == monitor_id)
    if not force:
        query = query.where(since.is_(None) | (since < since_for(now)))
    ids = list(session.execute(query).scalars())
    session.rollback()
    done = {}
    for mid in ids:
        try:
            done[mid] = build(session, mid, now)
        except SQLAlchemyError:
            session.rollback()
            log.exception("building the author totals of monitor %s failed; the next run retries", mid)
    return done
