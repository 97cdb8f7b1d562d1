"""Insight rollups written at ingest with the time rollups, so no insight query scans mentions.

`lang_rollups`: per monitor, bucket (1h, 1d) and language: mentions, scored ones, mixed ones and
the sum of their reach (reach-weighted volume). `author_rollups`: per monitor, bucket and author:
mentions, the largest reach seen, the engagement sum and the sentiment sum of scored mentions.
Muted mentions are in neither (like the time rollups).
"""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.limits import MAX_AUTHOR
from webapp.core.types import UTCDateTime


class LangRollup(db.Model):
    __tablename__ = "lang_rollups"
    __table_args__ = (db.UniqueConstraint("monitor_id", "bucket", "start", "lang",
                                          name="uq_lang_rollups_bucket_lang"),)

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    bucket = db.Column(db.String(4), nullable=False)
    start = db.Column(UTCDateTime(), nullable=False)
    lang = db.Column(db.String(8), nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)
    scored = db.Column(db.Integer, nullable=False, default=0)
    mixed = db.Column(db.Integer, nullable=False, default=0)
    reach = db.Column(db.BigInteger, nullable=False, default=0)


class AuthorRollup(db.Model):
    __tablename__ = "author_rollups"
    __table_args__ = (db.UniqueConstraint("monitor_id", "bucket", "start", "author",
                                          name="uq_author_rollups_bucket_author"),
                      # top authors (insights/audience.py), read from these indexes alone (0021): the
                      # range's largest reaches, each part's most engaged, one author's rows and figures
                      db.Index("ix_author_rollups_reach", "monitor_id", "bucket", "reach", "start", "author"),
                      db.Index("ix_author_rollups_engagement", "monitor_id", "bucket", "start", "engagement", "author"),
                      db.Index("ix_author_rollups_author", "monitor_id", "bucket", "author", "start", "mentions",
                               "reach", "engagement", "scored", "sum_compound"))

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    bucket = db.Column(db.String(4), nullable=False)
    start = db.Column(UTCDateTime(), nullable=False)
    author = db.Column(db.String(MAX_AUTHOR), nullable=False)
    mentions = db.Column(db.Integer, nullable=False, default=0)
    reach = db.Column(db.BigInteger, nullable=False, default=0)
    engagement = db.Column(db.BigInteger, nullable=False, default=0)
    scored = db.Column(db.Integer, nullable=False, default=0)
    sum_compound = db.Column(db.Float, nullable=False, default=0.0)


class AuthorTotal(db.Model):
    """Per monitor and author: the sums of every author rollup from the monitor's mark (`since`)
    on, kept by ingest's deltas (insights/author_totals.py): an upper bound of the author's figures
    over any range that starts at or after `since`."""
    __tablename__ = "author_totals"
    __table_args__ = (db.UniqueConstraint("monitor_id", "author", name="uq_author_totals_author"),
                      # top authors read the bounds in this order (threshold algorithm)
                      db.Index("ix_author_totals_score", "monitor_id", "score", "mentions", "author", "last_day"))

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    author = db.Column(db.String(MAX_AUTHOR), nullable=False)
    mentions = db.Column(db.Integer, nullable=False, default=0)
    reach = db.Column(db.BigInteger, nullable=False, default=0)
    engagement = db.Column(db.BigInteger, nullable=False, default=0)
    score = db.Column(db.BigInteger, nullable=False, default=0)     # reach + 3 x engagement
    last_day = db.Column(UTCDateTime(), nullable=False)              # the latest day with a mention


class AuthorTotalMark(db.Model):
    """A monitor's author totals are complete from `since` on (built at `built_at`); none: not built."""
    __tablename__ = "author_total_marks"

    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    since = db.Column(UTCDateTime(), nullable=False)
    built_at = db.Column(UTCDateTime(), nullable=False)
