"""Scored mentions and the rollup buckets that pages and the series API read."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_URL
from webapp.core.types import UTCDateTime, utcnow

LABELS = ("positive", "neutral", "negative")
# Rollups with this source id hold the monitor's total over all its sources.
ALL_SOURCES = 0


class Mention(db.Model):
    __tablename__ = "mentions"
    __table_args__ = (
        db.UniqueConstraint("monitor_id", "source_id", "external_id"),
        db.Index("ix_mentions_monitor_published", "monitor_id", "published_at"),
        db.Index("ix_mentions_monitor_label_published", "monitor_id", "label", "published_at"),
        db.Index("ix_mentions_monitor_lang_published", "monitor_id", "lang", "published_at"),
        # Fetched mentions are deduplicated across a monitor's sources on their canonical URL
        # (services/canonical.py); pushed and imported ones have no url_key.
        db.Index("ux_mentions_monitor_url_key", "monitor_id", "url_key", unique=True,
                 postgresql_where=db.text("url_key IS NOT NULL"),
                 sqlite_where=db.text("url_key IS NOT NULL")),
    )

    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    monitor_id = db.Column(
        db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False
    )
    source_id = db.Column(db.Integer, db.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    # Sizes as in migration 0001; the limits that every way in checks are these (core/limits.py).
    external_id = db.Column(db.String(MAX_EXTERNAL_ID), nullable=False)
    text = db.Column(db.Text, nullable=False)
    author = db.Column(db.String(MAX_AUTHOR))
    url = db.Column(db.String(MAX_URL))
    published_at = db.Column(UTCDateTime(), nullable=False)
    ingested_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    # None (with scored False) for a mention in a language that no configured scorer reads: it is
    # counted in volume, never in a sentiment figure (webapp/insights/languages.py).
    compound = db.Column(db.Float)
    pos = db.Column(db.Float)
    neu = db.Column(db.Float)
    neg = db.Column(db.Float)
    label = db.Column(db.String(8))
    # ISO 639-1 code, or "und" (undetermined: short or ambiguous text, or stored before 0015).
    lang = db.Column(db.String(8), nullable=False, default="und", server_default="und")
    scored = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # Both positive and negative parts substantial (webapp/insights/influence.py: is_mixed).
    mixed = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # The author's audience (followers, subscribers) and the mention's engagement (likes +
    # shares + comments), when the source or the pusher says; see webapp/insights/influence.py.
    reach = db.Column(db.BigInteger)
    engagement = db.Column(db.BigInteger)
    # Fetched by a backfill (history) rather than by the scheduled fetch.
    backfilled = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # sha256(canonical URL)[:32] of fetched mentions; None for pushed/imported ones or no URL.
    url_key = db.Column(db.String(32))
    # An editor's label override: `label` is always the effective label (rollups, filters and
    # the API read it); while an override is in place, `scored_label` keeps the scorer's own.
    scored_label = db.Column(db.String(8))
    overridden_by_id = db.Column(db.Integer)  # a user id; no foreign key (see migration 0008)
    overridden_at = db.Column(UTCDateTime())
    # Noise control (webapp/mentions/noise.py): a muted mention is stored but counted in no
    # rollup (so in no chart, series, insight or alert); shown under the mentions' "muted" filter.
    muted = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # An editor's relevance mark: True irrelevant, False relevant, None unmarked (trains the
    # monitor's relevance model, webapp/scoring/relevance.py).
    irrelevant = db.Column(db.Boolean)
    # The relevance model's verdict at ingest, recorded only while the monitor had it enabled.
    predicted_irrelevant = db.Column(db.Boolean)

    source = db.relationship("Source")

    @property
    def is_overridden(self) -> bool:
        return self.overridden_at is not None

    @property
    def model_label(self) -> str:
        """The label the scorer gave, whether or not an editor overrode it."""
        return self.scored_label or self.label


class Rollup(db.Model):
    """Counts and sentiment sums of one time bucket (15m, 1h or 1d) of one monitor and source."""

    __tablename__ = "rollups"
    __table_args__ = (db.UniqueConstraint("monitor_id", "source_id", "bucket", "start"),)

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(
        db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False
    )
    source_id = db.Column(db.Integer, nullable=False, default=ALL_SOURCES)
    bucket = db.Column(db.String(4), nullable=False)
    start = db.Column(UTCDateTime(), nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)
    sum_compound = db.Column(db.Float, nullable=False, default=0.0)
    positive = db.Column(db.Integer, nullable=False, default=0)
    neutral = db.Column(db.Integer, nullable=False, default=0)
    negative = db.Column(db.Integer, nullable=False, default=0)


class MuteList(db.Model):
    """A monitor's mute list: authors, URL domains and a query whose mentions are muted.

    Authors are compared case-insensitively, domains match the host and its subdomains, the
    query is the monitor query language (webapp/core/query.py). Muting is applied at ingest and,
    when the list changes, to the stored mentions (webapp/mentions/noise.py).
    """

    __tablename__ = "mute_lists"

    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    authors = db.Column(db.JSON, nullable=False, default=list)
    domains = db.Column(db.JSON, nullable=False, default=list)
    query = db.Column(db.Text, nullable=False, default="")
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class TermRollup(db.Model):
    """How many mentions of one time bucket (1h or 1d) of a monitor hold a term, and their
    sentiment sum: the term rollups (webapp/ingest/term_rollups.py) that insights read.

    `scored` counts the mentions with a compound (the average is sum_compound / scored).

    No foreign key (migration 0028): PostgreSQL would check it once per row of every fold's
    upsert. Writers lock their monitors' rows and skip a deleted monitor's (term_rollups.apply),
    and a trigger on monitors deletes a deleted monitor's rows, as ON DELETE CASCADE did."""

    __tablename__ = "term_rollups"

    monitor_id = db.Column(db.Integer, primary_key=True)
    bucket = db.Column(db.String(4), primary_key=True)
    start = db.Column(UTCDateTime(), primary_key=True)
    term = db.Column(db.String(64), primary_key=True)
    count = db.Column(db.Integer, nullable=False, default=0)
    scored = db.Column(db.Integer, nullable=False, default=0)
    sum_compound = db.Column(db.Float, nullable=False, default=0.0)


class TermDeltas(db.Model):
    """One batch's term counts of one monitor and 1h bucket, pending: ingest appends them (no
    unique index to check) and the fold moves them into the term rollups (ingest/term_deltas.py).

    The columns are every term of the batch's mentions of that hour, in order, how many terms
    each mention has and each one's compound ("nan": not scored), each joined by core.sql.SEP."""

    __tablename__ = "term_deltas"

    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    start = db.Column(UTCDateTime(), nullable=False)
    terms = db.Column(db.Text, nullable=False)
    lengths = db.Column(db.Text, nullable=False)
    compounds = db.Column(db.Text, nullable=False)
