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

from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.ingest.rollups import BUCKETS, bucket_start
from webapp.insights.influence import ENGAGEMENT_WEIGHT, influence
from webapp.insights.models import AuthorRollup, LangRollup

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}
DEFAULT_RANGE = "7d"
RANGE_BUCKET = {"24h": "1h", "7d": "1h", "30d": "1d", "90d": "1d"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
CACHE_SECONDS = 30
CANDIDATE_ROWS = 3000      # per-bucket candidate rows read per range (see _from_candidates)
MAX_CANDIDATES = 5000      # more distinct candidates than this: group every row instead
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


def fingerprint(session, monitor_id: int, w: Window) -> tuple:
    """The monitor's time-rollup sums over the window (all sources): what any change of its
    mentions moves (cheap: one row per bucket of the range)."""
    row = session.execute(
        select(func.count(), func.sum(Rollup.count), func.sum(Rollup.sum_compound),
               func.sum(Rollup.positive), func.sum(Rollup.negative))
        .where(*_where(Rollup, monitor_id, w), Rollup.source_id == ALL_SOURCES)
    ).one()
    return tuple(round(v, 6) if isinstance(v, float) else v for v in row)


def top_authors(session, monitor_id: int, w: Window, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """`{"author", "mentions", "reach", "engagement", "influence", "avg_compound"}`, by influence
    (the cached answer while the monitor's rollups over the window are unchanged)."""
    key = (str(session.get_bind().url), monitor_id, w, limit, fingerprint(session, monitor_id, w))
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = _top_authors(session, monitor_id, w, limit)
        with _cache_lock:
            _cache[key] = found
    return [dict(row) for row in found]


def _top_authors(session, monitor_id: int, w: Window, limit: int) -> list[dict]:
    """Exact top authors: on day buckets (30d, 90d: many rows per author) from the candidates
    when their bound proves it; else (and on hours, fewer rows) by grouping every row."""
    found = _from_candidates(session, monitor_id, w, limit) if w.bucket == "1d" else None
    return found if found is not None else _rank(session, monitor_id, w, limit)


def _rank(session, monitor_id: int, w: Window, limit: int, authors: list[str] | None = None) -> list[dict]:
    """Group the range's rows per author (all of them, or only `authors`) and rank by influence."""
    reach, engagement = func.max(AuthorRollup.reach), func.sum(AuthorRollup.engagement)
    mentions, scored = func.sum(AuthorRollup.mentions), func.sum(AuthorRollup.scored)
    where = _where(AuthorRollup, monitor_id, w)
    if authors is not None:
        where += (AuthorRollup.author.in_(authors),)
        if session.get_bind().dialect.name == "postgresql":
            # a prepared statement's generic plan for a long IN list scans every row (seconds)
            session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = session.execute(
        select(AuthorRollup.author, mentions, reach, engagement, scored, func.sum(AuthorRollup.sum_compound))
        .where(*where)
        .group_by(AuthorRollup.author)
        .having(mentions > 0)
        .order_by(desc(reach + ENGAGEMENT_WEIGHT * engagement), desc(mentions), AuthorRollup.author)
        .limit(limit)
    ).all()
    return [{"author": author, "mentions": int(n), "reach": int(r or 0), "engagement": int(e or 0),
             "influence": influence(r, e), "avg_compound": round(total / s, 4) if s else None}
            for author, n, r, e, s, total in rows]


def _starts(w: Window) -> list[datetime]:
    step, start, starts = BUCKETS[w.bucket], w.start, []
    while start < w.end:
        starts.append(start)
        start += step
    return starts


@lru_cache(maxsize=32)
def _tops_statement(buckets: int, k: int, column: str):
    """One statement: the `k` rows with the largest `column` in each of `buckets` buckets (each
    part reads k entries of an index); built once per shape, the starts are parameters."""
    value = AuthorRollup.__table__.c[column]
    parts = []
    for i in range(buckets):
        sub = (select(AuthorRollup.start, AuthorRollup.author, value.label("value"))
               .where(AuthorRollup.monitor_id == bindparam("monitor_id"),
                      AuthorRollup.bucket == bindparam("bucket"),
                      AuthorRollup.start == bindparam(f"start{i}", type_=AuthorRollup.start.type))
               .order_by(desc(value)).limit(k).subquery())
        parts.append(select(sub.c.start, sub.c.author, sub.c.value))
    return union_all(*parts)


def _bucket_tops(session, monitor_id: int, w: Window, column: str, k: int) -> list[tuple[datetime, str, int]]:
    """(start, author, value) of the `k` rows with the largest `column` in each bucket of the range."""
    starts = _starts(w)
    if session.get_bind().dialect.name == "postgresql":   # one small plan instead of a union per bucket
        return session.execute(_PG_TOPS[column], {
            "monitor_id": monitor_id, "bucket": w.bucket, "k": k,
            "starts": [s.astimezone(timezone.utc).replace(tzinfo=None) for s in starts]}).all()
    params = {"monitor_id": monitor_id, "bucket": w.bucket} | {f"start{i}": s for i, s in enumerate(starts)}
    return session.execute(_tops_statement(len(starts), k, column), params).all()


_PG_TOPS = {column: text(
    "SELECT s.start, t.author, t.value FROM unnest(CAST(:starts AS timestamp[])) AS s(start) "
    "CROSS JOIN LATERAL (SELECT author, " + column + " AS value FROM author_rollups "
    "WHERE monitor_id = :monitor_id AND bucket = :bucket AND start = s.start "
    "ORDER BY " + column + " DESC LIMIT :k) AS t") for column in ("reach", "engagement")}


def bound(tops: list[tuple[datetime, str, int]], k: int, combine) -> tuple[set[str], int | None]:
    """(authors in the lists, the most any other author can have of the column over the range,
    None if there is no other author): in a bucket whose list is full, an author outside it has
    at most its k-th value; in one that is not full, nothing (every author of the bucket is in
    the list). `combine` is max (reach) or sum (engagement). Pure."""
    per_bucket: dict[datetime, list[int]] = {}
    for start, _author, value in tops:
        per_bucket.setdefault(start, []).append(int(value or 0))
    full = [min(values) for values in per_bucket.values() if len(values) >= k]
    return {author for _s, author, _v in tops}, (combine(full) if full else None)


def candidates_per_bucket(buckets: int, limit: int) -> int:
    """How many of each bucket's loudest authors are candidates: about 3,000 rows per range."""
    return max(limit, CANDIDATE_ROWS // max(buckets, 1))


def _from_candidates(session, monitor_id: int, w: Window, limit: int) -> list[dict] | None:
    """The top `limit` authors among each bucket's loudest (by reach and by engagement), or None
    when an author outside them could rank (then every row must be grouped). An outsider's
    reach + 3 x engagement is at most the largest per-bucket reach bound plus 3 x the sum of
    the per-bucket engagement bounds; the answer is exact when the last author beats that."""
    k = candidates_per_bucket(len(_starts(w)), limit)
    by_reach, reach_bound = bound(_bucket_tops(session, monitor_id, w, "reach", k), k, max)
    by_engagement, engagement_bound = bound(_bucket_tops(session, monitor_id, w, "engagement", k), k, sum)
    authors = sorted(by_reach | by_engagement)
    if len(authors) > MAX_CANDIDATES:
        return None
    ranked = _rank(session, monitor_id, w, limit, authors)
    if reach_bound is None or engagement_bound is None:
        return ranked      # no list was full: every author of the range is a candidate
    if len(ranked) < limit:
        return None
    last = ranked[-1]["reach"] + ENGAGEMENT_WEIGHT * ranked[-1]["engagement"]
    return ranked if last > reach_bound + ENGAGEMENT_WEIGHT * engagement_bound else None


def languages(session, monitor_id: int, w: Window) -> list[dict]:
    """`{"lang", "count", "scored", "mixed", "reach"}` per language, most mentions first;
    `scored` is how many of them have a sentiment score (the others are volume only)."""
    count = func.sum(LangRollup.count)
    rows = session.execute(
        select(LangRollup.lang, count, func.sum(LangRollup.scored), func.sum(LangRollup.mixed),
               func.sum(LangRollup.reach))
        .where(*_where(LangRollup, monitor_id, w))
        .group_by(LangRollup.lang).having(count > 0)
        .order_by(desc(count), LangRollup.lang)
    ).all()
    return [{"lang": lang, "count": int(n), "scored": int(s), "mixed": int(m), "reach": int(r or 0)}
            for lang, n, s, m, r in rows]


def reach_series(session, monitor_id: int, bucket: str, start: datetime, end: datetime) -> dict[datetime, int]:
    """Reach-weighted volume per bucket start (1h or 1d) over [start, end): the sum of the reach
    of the mentions in it (mentions without reach add nothing)."""
    rows = session.execute(
        select(LangRollup.start, func.sum(LangRollup.reach))
        .where(LangRollup.monitor_id == monitor_id, LangRollup.bucket == bucket,
               LangRollup.start >= start, LangRollup.start < end)
        .group_by(LangRollup.start)
    ).all()
    return {(s if s.tzinfo else s.replace(tzinfo=timezone.utc)): int(r or 0) for s, r in rows}
