"""The dashboard's mention feed: the latest mentions of the range and the most influential ones.

"Most influential" ranks by the audience a mention reached when the source said so (`reach`,
`engagement` on the mention, where those columns exist), else by how strongly it is worded
(|compound|). Only the newest CANDIDATES mentions of the range are ranked, read through the
(monitor, published_at) index, so a monitor with millions of mentions opens as fast as a small one.
"""
from __future__ import annotations

from collections import namedtuple
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, select

from webapp.core import sql
from webapp.core.rows_lru import RowsLRU
from webapp.ingest.models import Mention
from webapp.insights.influence import influence

LATEST = 6
Candidate = namedtuple("Candidate", "id reach engagement compound")   # RANK_COLUMNS
FeedRow = namedtuple("FeedRow", "id text author url label compound published_at reach engagement lang")   # FEED_COLUMNS
_rankings = RowsLRU(64)
CANDIDATES = 500
RANK_COLUMNS = (Mention.id, Mention.reach, Mention.engagement, Mention.compound)
FEED_COLUMNS = (Mention.id, Mention.text, Mention.author, Mention.url, Mention.label, Mention.compound,
                Mention.published_at, Mention.reach, Mention.engagement, Mention.lang)


def rank(mention) -> float:
    """A mention's rank for the feed: 1 + its influence score (insights/influence.py, 0-10 from
    reach and engagement) when the source gave either, else its |compound| (0 to 1, below any
    reach figure; 0 for an unscored mention)."""
    if mention.reach or mention.engagement:
        return 1 + influence(mention.reach, mention.engagement)
    return abs(mention.compound or 0.0)


def top(mentions: list, limit: int = LATEST) -> list:
    """The `limit` most influential of `mentions` (newest first among equals)."""
    return sorted(mentions, key=lambda m: (-rank(m), -m.published_at.timestamp(), -m.id))[:limit]


@cache
def _statements() -> tuple:
    """(the ranked candidates of a range, the shown rows by id): built once, values are parameters."""
    candidates = (select(*RANK_COLUMNS)
                  .where(Mention.monitor_id == bindparam("monitor_id"), Mention.published_at >= bindparam("start"),
                         Mention.published_at < bindparam("end"), Mention.muted.is_(False))
                  .order_by(Mention.published_at.desc(), Mention.id.desc()).limit(CANDIDATES))
    return candidates, select(*FEED_COLUMNS).where(Mention.id.in_(bindparam("ids", expanding=True)))


def _ranking(ranked: tuple) -> tuple[list[int], str]:
    """(ids of the LATEST most influential candidates, "reach" or "strength"): pure in the
    candidate rows, so remembered by them (per process): an unchanged range ranks once, and any
    new, muted or re-scored candidate is another key."""
    found = _rankings.get(ranked)
    if found is None:
        rows = [Candidate(*r) for r in ranked]
        best = sorted(range(len(rows)), key=lambda i: -rank(rows[i]))[:LATEST]  # stable: ties stay newest first
        found = ([rows[i].id for i in best],
                 "reach" if any(m.reach or m.engagement for m in rows) else "strength")
        _rankings.put(ranked, found)
    return found


def mention_feed(session, monitor_id: int, start: datetime, end: datetime) -> dict:
    """{"latest": [...], "influential": [...]} of the monitor's unmuted mentions in [start, end).

    The candidates are read with only what ranks them (in the index's order: newest first, then
    highest id, the order `top` breaks ties by), and the dozen shown rows in a second query: 500
    rows of text and times cost more than the extra round trip."""
    return feed_of(*feed_rows(session, monitor_id, start, end))


def feed_rows(session, monitor_id: int, start: datetime, end: datetime, raw: bool = False) -> tuple[tuple, tuple]:
    """(the ranked candidates, the shown rows of FEED_COLUMNS) as plain tuples: what the feed is
    made of (`feed_of`), hashable, so the dashboard keys its rendered page by them (`raw`:
    core.sql.rows; the candidates' columns are numbers either way)."""
    candidates, shown_rows = _statements()
    ranked = sql.rows(session, candidates, {"monitor_id": monitor_id, "start": start, "end": end}, raw, binary=True)
    if not ranked:
        return ranked, ranked
    top_ids, _ = _ranking(tuple(ranked))   # plain tuples: compared in C
    ids = sorted({r[0] for r in ranked[:LATEST]} | set(top_ids))
    # always 2 x LATEST ids (the last repeated): one SQL text, which the server keeps prepared
    return ranked, sql.rows(session, shown_rows, {"ids": ids + ids[-1:] * (2 * LATEST - len(ids))}, raw)


def feed_of(ranked: tuple, shown_rows: tuple) -> dict:
    """`mention_feed` from `feed_rows` (pure)."""
    top_ids, ranked_by = _ranking(tuple(ranked)) if ranked else ([], "strength")
    shown = {r[0]: FeedRow(*r) for r in shown_rows}
    return {"latest": [row(shown[r[0]]) for r in ranked[:LATEST]], "influential": [row(shown[i]) for i in top_ids],
            "ranked_by": ranked_by,
            "candidates": len(ranked), "capped": len(ranked) == CANDIDATES}


def row(m) -> dict:
    """What the feed shows of one mention (a Mention or a row of FEED_COLUMNS) as plain data (the
    page cache keeps it across requests)."""
    return {"id": m.id, "text": m.text, "author": m.author, "url": m.url, "label": m.label,
            "compound": m.compound, "published_at": m.published_at,
            "reach": m.reach, "engagement": m.engagement, "lang": m.lang}
