"""Language and author rollups (insights/models.py), written with the time rollups.

Ingest adds the deltas of the rows it really inserted, in the same transaction; muting,
un-muting and deleting a source take them out again (negated deltas), and re-scoring rebuilds
them. Buckets are 1h and 1d: the 24h and 7d ranges read hours, 30d and 90d read days.
An author's `reach` is the largest audience seen in the bucket (an audience is the author's,
not the mention's: taking a mention out leaves it).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete

from webapp.core.sql import insert_for, insert_rows
from webapp.ingest.models import Mention
from webapp.ingest.rollups import bucket_start
from webapp.insights import author_totals
from webapp.insights.models import AuthorRollup, LangRollup

BUCKETS = ("1h", "1d")
# The mention columns the deltas read (besides monitor_id, published_at, compound and label).
COLUMNS = (Mention.author, Mention.lang, Mention.scored, Mention.mixed, Mention.reach, Mention.engagement)


@dataclass
class LangDelta:
    count: int = 0
    scored: int = 0
    mixed: int = 0
    reach: int = 0


@dataclass
class AuthorDelta:
    mentions: int = 0
    reach: int = 0
    engagement: int = 0
    scored: int = 0
    sum_compound: float = 0.0


def deltas(rows: Iterable, sign: int = 1) -> tuple[dict, dict]:
    """(language deltas, author deltas) of `rows` (mappings with the mention's columns), keyed
    (monitor, bucket, start, lang) and (monitor, bucket, start, author); `sign` -1 takes rows out."""
    langs: dict[tuple, LangDelta] = defaultdict(LangDelta)
    authors: dict[tuple, AuthorDelta] = defaultdict(AuthorDelta)
    for row in rows:
        scored = row["label"] is not None
        for bucket in BUCKETS:
            start = bucket_start(row["published_at"], bucket)
            d = langs[(row["monitor_id"], bucket, start, row["lang"] or "und")]
            d.count += sign
            d.scored += sign * scored
            d.mixed += sign * bool(row["mixed"])
            d.reach += sign * (row["reach"] or 0)
            if row["author"]:
                a = authors[(row["monitor_id"], bucket, start, row["author"])]
                a.mentions += sign
                a.reach = max(a.reach, row["reach"] or 0) if sign > 0 else 0
                a.engagement += sign * (row["engagement"] or 0)
                a.scored += sign * scored
                a.sum_compound += sign * (row["compound"] or 0.0) if scored else 0.0
    return dict(langs), dict(authors)


def apply(session, changes: tuple[dict, dict]) -> None:
    """Add the deltas to the rollup rows (upserts in a fixed order, one statement per table:
    `core.sql.insert_rows`)."""
    langs, authors = changes
    bind = session.get_bind()
    if langs:
        table = LangRollup.__table__
        stmt = insert_for(bind)(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["monitor_id", "bucket", "start", "lang"],
            set_={name: table.c[name] + stmt.excluded[name] for name in ("count", "scored", "mixed", "reach")})
        insert_rows(session, stmt, [
            {"monitor_id": k[0], "bucket": k[1], "start": k[2], "lang": k[3],
             "count": d.count, "scored": d.scored, "mixed": d.mixed, "reach": d.reach}
            for k, d in sorted(langs.items())])
    if authors:
        table = AuthorRollup.__table__
        stmt = insert_for(bind)(table)
        set_ = {name: table.c[name] + stmt.excluded[name]
                for name in ("mentions", "engagement", "scored", "sum_compound")}
        set_["reach"] = author_totals.greatest(bind, table.c.reach, stmt.excluded.reach)
        stmt = stmt.on_conflict_do_update(index_elements=["monitor_id", "bucket", "start", "author"], set_=set_)
        insert_rows(session, stmt, [
            {"monitor_id": k[0], "bucket": k[1], "start": k[2], "author": k[3], "mentions": d.mentions,
             "reach": d.reach, "engagement": d.engagement, "scored": d.scored, "sum_compound": d.sum_compound}
            for k, d in sorted(authors.items())])
        author_totals.add(session, authors)     # the bounds top authors read, same transaction


def clear(session, monitor_id: int, since=None) -> None:
    """Delete a monitor's language and author rollups (before a rebuild adds its mentions again);
    with `since`, only the buckets from then on (retention pruned the mentions of earlier ones)."""
    author_totals.clear(session, monitor_id, since)
    for table in (LangRollup, AuthorRollup):
        stale = delete(table).where(table.monitor_id == monitor_id)
        session.execute(stale if since is None else stale.where(table.start >= since))
