"""Top authors and the language breakdown of a monitor over a range, read from the language and
author rollups (insights/rollups.py), never from raw mentions.

Ranges are `24h`, `7d`, `30d` and `90d` (default `7d`), ending with the current bucket: hours for
24h and 7d, days for 30d and 90d (the first day is the whole day the range begins in).
Authors are ranked by influence (insights/influence.py); since influence grows with
reach + 3 x engagement, SQL orders by that sum and only `limit` rows come back.

Top authors over 30 or 90 days group every (author, day) row of the range (about 140,000 for
300,000 mentions by 30,000 people), so an answer is kept for `CACHE_SECONDS` per process, keyed by
the range's window and by a fingerprint of the monitor's time rollups over it (mentions, sentiment
sum, positives, negatives: one small query). New, muted, un-muted, removed or re-scored mentions
change the fingerprint, so the next request recomputes at once; a change that leaves all four
sums equal shows within `CACHE_SECONDS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import threading
from functools import lru_cache

from cachetools import TTLCache
from sqlalchemy import bindparam, desc, func, select, text, union_all

from webapp.core import sql
from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.ingest.rollups import BUCKETS, bucket_start
from webapp.insights.influence import ENGAGEMENT_WEIGHT, influence
from webapp.insights import author_totals
from webapp.insights.models import AuthorRollup, AuthorTotal, AuthorTotalMark, LangRollup

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}
DEFAULT_RANGE = "7d"
RANGE_BUCKET = {"24h": "1h", "7d": "1h", "30d": "1d", "90d": "1d"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
CACHE_SECONDS = 30
CANDIDATE_ROWS = 3000      # engagement candidate rows read per range, over its parts (see _from_candidates)
REACH_ROWS = 200           # reach candidate rows read per range
REACH_WALK_ROWS = 20_000   # at most this many more rows by reach to prove an answer
DEPTHS = (1, 4)            # list lengths tried (times the above) before grouping every row
MAX_CANDIDATES = 20_000    # more distinct candidates than this: group every row instead
GROUP_ALL_MENTIONS = 20_000  # a window with fewer mentions groups every row at once
TOTALS_FIRST = 64          # author totals read first (then pages twice as long)
MAX_TOTALS = 4_000         # authors ranked by their totals before falling back to the candidates
_cache: TTLCache = TTLCache(maxsize=512, ttl=CACHE_SECONDS)
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Window:
    bucket: str
    start: datetime
    end: datetime


def window(name: str, now: datetime | None = None) -> Window:
    """The rollup bucket and [start, end) of a range name (pure); KeyError for an unknown name."""
    span, bucket = RANGES[name], RANGE_BUCKET[name]
    now = now or datetime.now(timezone.utc)
    end = bucket_start(now, bucket) + BUCKETS[bucket]
    return Window(bucket, bucket_start(end - span, bucket), end)


def _where(model, monitor_id: int, w: Window):
    return (model.monitor_id == monitor_id, model.bucket == w.bucket, model.start >= w.start, model.start < w.end)


def _params(monitor_id: int, w: Window) -> dict:
    return {"monitor_id": monitor_id, "bucket": w.bucket, "start": w.start, "end": w.end}


@lru_cache(maxsize=1)
def _statements() -> dict:
    """The fingerprint, languages and reach reads, built once (the dashboard asks them on every
    request; building a select costs more CPU than running it): the values are parameters."""
    def where(model):
        return (model.monitor_id == bindparam("monitor_id"), model.bucket == bindparam("bucket"),
                model.start >= bindparam("start"), model.start < bindparam("end"))

    count = func.sum(LangRollup.count)
    return {
        "fingerprint": select(func.count(), func.sum(Rollup.count), func.sum(Rollup.sum_compound),
                              func.sum(Rollup.positive), func.sum(Rollup.negative))
        .where(*where(Rollup), Rollup.source_id == ALL_SOURCES),
        "languages": select(LangRollup.lang, count, func.sum(LangRollup.scored), func.sum(LangRollup.mixed),
                            func.sum(LangRollup.reach))
        .where(*where(LangRollup)).group_by(LangRollup.lang).having(count > 0)
        .order_by(desc(count), LangRollup.lang),
        "reach": select(LangRollup.start, func.sum(LangRollup.reach)).where(*where(LangRollup))
        .group_by(LangRollup.start),
    }


def fingerprint(session, monitor_id: int, w: Window) -> tuple:
    """The monitor's time-rollup sums over the window (all sources): what any change of its
    mentions moves (cheap: one row per bucket of the range)."""
    row = sql.raw_rows(session, _statements()["fingerprint"], _params(monitor_id, w))[0]   # numbers only
    return tuple(round(v, 6) if isinstance(v, float) else v for v in row)


def top_authors(session, monitor_id: int, w: Window, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """`{"author", "mentions", "reach", "engagement", "influence", "avg_compound"}`, by influence
    (the cached answer while the monitor's rollups over the window are unchanged)."""
    prints = fingerprint(session, monitor_id, w)
    key = (str(session.get_bind().url), monitor_id, w, limit, prints)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = _top_authors(session, monitor_id, w, limit, prints[1] or 0)
        with _cache_lock:
            _cache[key] = found
    return [dict(row) for row in found]


def _top_authors(session, monitor_id: int, w: Window, limit: int, mentions: int | None = None) -> list[dict]:
    """Exact top authors: by grouping every row of a window of at most GROUP_ALL_MENTIONS
    mentions (fewer rows than the candidates' lists read); else in the order of the authors'
    totals (`_by_totals`); without totals (not built yet) or when they would need too many authors,
    from bounded candidates when they prove the answer (with deeper lists once if the first do
    not), else every row again."""
    if mentions is not None and mentions <= GROUP_ALL_MENTIONS:
        return _rank(session, monitor_id, w, limit)
    found = _by_totals(session, monitor_id, w, limit)
    if found is not None:
        return found
    for depth in DEPTHS:
        found = _from_candidates(session, monitor_id, w, limit, depth)
        if found is not None:
            return found
    return _rank(session, monitor_id, w, limit)


def _order(row: dict) -> tuple:
    """The ranking's sort key of an answer row: score (reach + 3 x engagement), mentions, author."""
    return -(row["reach"] + ENGAGEMENT_WEIGHT * row["engagement"]), -row["mentions"], row["author"]


def _by_totals(session, monitor_id: int, w: Window, limit: int) -> list[dict] | None:
    """The exact top `limit` from the monitor's author totals (insights/author_totals.py), or None
    when it has none that cover the window or it would take more than MAX_TOTALS authors.

    Threshold algorithm: the totals are an upper bound of every author's (score, mentions) over
    the window, read largest first in pages (TOTALS_FIRST, doubling), skipping the authors whose
    latest day is before the window (an index-only filter); each page's authors are
    ranked exactly over the window (their rows only, by the author index). Once the `limit`-th
    exact answer is above the next unread bound (both figures compared in order, ties read on),
    no unread author can rank: their exact figures are at most their bound."""
    best: list[dict] = []
    active = bucket_start(w.start, "1d")     # authors last seen before it have nothing in the window
    order = (desc(AuthorTotal.score), desc(AuthorTotal.mentions), desc(AuthorTotal.author))
    listed = (AuthorTotal.monitor_id == monitor_id, AuthorTotal.last_day >= active)
    mark = select(AuthorTotalMark.since).where(AuthorTotalMark.monitor_id == monitor_id).scalar_subquery()
    offset, size = 0, max(TOTALS_FIRST, 2 * limit)
    while offset < MAX_TOTALS:
        size = min(size, MAX_TOTALS - offset)
        rows = session.execute(   # the page, its next bound and (first) the mark: one round trip
            select(AuthorTotal.score, AuthorTotal.mentions, mark).where(*listed)
            .order_by(*order).offset(offset).limit(size + 1)).all()
        if offset == 0:
            since = rows[0][2] if rows else author_totals.mark(session, monitor_id)
            if since is None or w.start < since:
                return None
        if rows:    # the page's authors as a subquery: no list of names goes back and forth
            page = select(AuthorTotal.author).where(*listed).order_by(*order).offset(offset).limit(size)
            best = sorted(best + _rank(session, monitor_id, w, size, page), key=_order)[:limit]
        if len(rows) <= size:
            return best      # every author with a total (every author of the window) is ranked
        score, mentions, _since = rows[size]
        if len(best) == limit and (-_order(best[-1])[0], best[-1]["mentions"]) > (score, mentions):
            return best
        offset, size = offset + size, 2 * size
    return None


def parts(w: Window) -> list[tuple[str, datetime]]:
    """The (bucket, start) rollup rows that cover the window (pure): its days for a day window;
    for an hour window, the whole days inside it as 1d rows and the hours at its edges as 1h
    rows (a 1d row holds the sums of its 24 hours, and the largest reach of them)."""
    return [(bucket, at) for bucket, start, end in ranges(w) for at in _starts(start, end, bucket)]


def _whole_days(w: Window) -> tuple[datetime, datetime]:
    if w.bucket == "1d":
        return w.start, w.end
    first = bucket_start(w.start - timedelta(microseconds=1), "1d") + BUCKETS["1d"]
    return first, bucket_start(w.end, "1d")


def ranges(w: Window) -> list[tuple[str, datetime, datetime]]:
    """The (bucket, start, end) row ranges of `parts(w)`: the whole days as 1d rows and the edge
    hours as 1h rows (an hour window), or the window's own rows; empty ones left out (pure)."""
    first, last = _whole_days(w)
    if w.bucket == "1d" or first >= last:
        return [(w.bucket, w.start, w.end)]
    return [(b, s, e) for b, s, e in (("1h", w.start, first), ("1d", first, last), ("1h", last, w.end)) if s < e]


def _rank(session, monitor_id: int, w: Window, limit: int, authors=None) -> list[dict]:
    """Group the window's rows per author (all of them, or only `authors`: a list of names or a
    SELECT of them) and rank by influence.

    One SELECT per row range (`ranges`), each with its bucket and start range (and the authors),
    so that every one reads one index range (the authors': one probe each); more than one are
    summed as a UNION ALL. On SQLite an hour window's whole grouping is by `author || ''`: grouped
    by the bare column, its planner walks every hour row of the monitor (90 days' worth for a day's
    answer) in the author index's order instead of the window's range."""
    r = AuthorRollup
    postgresql = session.get_bind().dialect.name == "postgresql"
    key = (r.author + "").label("author") if authors is None and not postgresql and w.bucket == "1h" else r.author
    parts = []
    for bucket, start, end in ranges(w):
        where = [r.monitor_id == monitor_id, r.bucket == bucket, r.start >= start, r.start < end]
        if authors is not None:
            where.append(r.author.in_(authors))
        parts.append(select(key, r.mentions, r.reach, r.engagement, r.scored, r.sum_compound).where(*where))
    if isinstance(authors, list) and postgresql:
        # a prepared statement's generic plan for a long IN list scans every row (seconds)
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = parts[0].subquery() if len(parts) == 1 else union_all(*parts).subquery()
    reach, engagement = func.max(rows.c.reach), func.sum(rows.c.engagement)
    mentions, scored = func.sum(rows.c.mentions), func.sum(rows.c.scored)
    found = session.execute(
        select(rows.c.author, mentions, reach, engagement, scored, func.sum(rows.c.sum_compound))
        .group_by(rows.c.author)
        .having(mentions > 0)
        .order_by(desc(reach + ENGAGEMENT_WEIGHT * engagement), desc(mentions), rows.c.author)
        .limit(limit)
    ).all()
    return [{"author": author, "mentions": int(n), "reach": int(r or 0), "engagement": int(e or 0),
             "influence": influence(r, e), "avg_compound": round(total / s, 4) if s else None}
            for author, n, r, e, s, total in found]


def _starts(start: datetime, end: datetime, bucket: str) -> list[datetime]:
    step, starts = BUCKETS[bucket], []
    while start < end:
        starts.append(start)
        start += step
    return starts


@lru_cache(maxsize=64)
def _tops_statement(count: int):
    """One statement: the `k` rows with the largest engagement in each of `count` (bucket,
    start) parts (each reads k entries of an index); built once per shape, parts are parameters."""
    parts = []
    for i in range(count):
        sub = (select(AuthorRollup.start, AuthorRollup.bucket, AuthorRollup.author, AuthorRollup.engagement)
               .where(AuthorRollup.monitor_id == bindparam("monitor_id"),
                      AuthorRollup.bucket == bindparam(f"bucket{i}"),
                      AuthorRollup.start == bindparam(f"start{i}", type_=AuthorRollup.start.type))
               .order_by(desc(AuthorRollup.engagement)).limit(bindparam("k")).subquery())
        parts.append(select(sub.c.bucket, sub.c.start, sub.c.author, sub.c.engagement))
    return union_all(*parts)


_PG_TOPS = text(
    "SELECT p.bucket, p.start, t.author, t.engagement FROM unnest(CAST(:buckets AS varchar[]), "
    "CAST(:starts AS timestamp[])) AS p(bucket, start) CROSS JOIN LATERAL (SELECT author, engagement "
    "FROM author_rollups WHERE monitor_id = :monitor_id AND bucket = p.bucket AND start = p.start "
    "ORDER BY engagement DESC LIMIT :k) AS t")


def _part_tops(session, monitor_id: int, w: Window, k: int) -> list[tuple[tuple, str, int]]:
    """((bucket, start), author, engagement) of the `k` largest engagements of each part of the window."""
    cover = parts(w)
    if session.get_bind().dialect.name == "postgresql":   # one small plan instead of a union per part
        rows = session.execute(_PG_TOPS, {
            "monitor_id": monitor_id, "k": k, "buckets": [b for b, _ in cover],
            "starts": [s.astimezone(timezone.utc).replace(tzinfo=None) for _, s in cover]}).all()
    else:
        params = {"monitor_id": monitor_id, "k": k} | {f"bucket{i}": b for i, (b, _) in enumerate(cover)} | {
            f"start{i}": s for i, (_, s) in enumerate(cover)}
        rows = session.execute(_tops_statement(len(cover)), params).all()
    return [((bucket, start), author, value) for bucket, start, author, value in rows]


def _reach_tops(session, monitor_id: int, w: Window, k: int, at_least: int | None = None) -> list[tuple]:
    """(None, author, reach) of the window's `k` rows with the largest reach, or of its rows with
    a reach of at least `at_least` (at most `k` of them): one walk of the reach index."""
    where = _where(AuthorRollup, monitor_id, w)
    if at_least is not None:
        where += (AuthorRollup.reach >= at_least,)
    rows = session.execute(
        select(AuthorRollup.author, AuthorRollup.reach).where(*where)
        .order_by(desc(AuthorRollup.reach)).limit(k)).all()
    return [(None, author, value) for author, value in rows]


def bound(tops: list[tuple], k: int, combine) -> tuple[set[str], int | None]:
    """(authors in the lists, the most any other author can have of the column over the range,
    None if there is no other author): in a list that is full, an author outside it has at most
    its k-th value; in one that is not full, nothing (every author of its part is in the list).
    `tops` are (part, author, value); `combine` is max (reach) or sum (engagement). Pure."""
    per_part: dict = {}
    for part, _author, value in tops:
        per_part.setdefault(part, []).append(int(value or 0))
    full = [min(values) for values in per_part.values() if len(values) >= k]
    return {author for _p, author, _v in tops}, (combine(full) if full else None)


def candidates_per_part(count: int, limit: int) -> int:
    """How many of each part's most engaged authors are candidates: about 3,000 rows per range."""
    return max(limit, CANDIDATE_ROWS // max(count, 1))


def _from_candidates(session, monitor_id: int, w: Window, limit: int, depth: int = 1) -> list[dict] | None:
    """The exact top `limit` authors from candidates, or None when proving it would take more
    than REACH_WALK_ROWS rows (then deeper lists, or every row, must be grouped).

    Candidates: the window's REACH_ROWS largest reaches and each part's k most engaged authors
    (k x `depth`). An author in no engagement list has at most E = the sum of the lists' last
    values (0 for a part whose list is not full: all its authors are in it). If T is the score
    (reach + 3 x engagement) of the `limit`-th candidate, an outsider outranks it only with a
    reach of at least T - 3 x E, so adding every row of the window with that reach (one index
    walk; none when the reach list already reached below it) leaves no author out who could rank."""
    k = depth * candidates_per_part(len(parts(w)), limit)
    by_reach, reach_bound = bound(_reach_tops(session, monitor_id, w, REACH_ROWS), REACH_ROWS, max)
    by_engagement, engagement_bound = bound(_part_tops(session, monitor_id, w, k), k, sum)
    authors = by_reach | by_engagement
    if len(authors) > MAX_CANDIDATES:
        return None
    ranked = _rank(session, monitor_id, w, limit, sorted(authors))
    if reach_bound is None or engagement_bound is None:
        return ranked      # a list was not full: every author of the range is a candidate
    if len(ranked) < limit:
        return None
    last = ranked[-1]["reach"] + ENGAGEMENT_WEIGHT * ranked[-1]["engagement"]
    at_least = last - ENGAGEMENT_WEIGHT * engagement_bound
    if reach_bound < at_least:
        return ranked      # every outsider's reach is below it
    walk = _reach_tops(session, monitor_id, w, REACH_WALK_ROWS + 1, max(at_least, 0))
    more = {author for _p, author, _v in walk} - authors
    if len(walk) > REACH_WALK_ROWS or len(authors) + len(more) > MAX_CANDIDATES:
        return None
    return _rank(session, monitor_id, w, limit, sorted(authors | more)) if more else ranked


def languages(session, monitor_id: int, w: Window) -> list[dict]:
    """`{"lang", "count", "scored", "mixed", "reach"}` per language, most mentions first;
    `scored` is how many of them have a sentiment score (the others are volume only)."""
    rows = sql.raw_rows(session, _statements()["languages"], _params(monitor_id, w))   # text and numbers
    return [{"lang": lang, "count": int(n), "scored": int(s), "mixed": int(m), "reach": int(r or 0)}
            for lang, n, s, m, r in rows]


def reach_series(session, monitor_id: int, bucket: str, start: datetime, end: datetime) -> dict[datetime, int]:
    """Reach-weighted volume per bucket start (1h or 1d) over [start, end): the sum of the reach
    of the mentions in it (mentions without reach add nothing)."""
    rows = sql.raw_rows(session, _statements()["reach"], _params(monitor_id, Window(bucket, start, end))).processed()
    return {(s if s.tzinfo else s.replace(tzinfo=timezone.utc)): int(r or 0) for s, r in rows}
