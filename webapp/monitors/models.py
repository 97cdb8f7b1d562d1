"""Monitors (a query plus sources) and their sources."""
from __future__ import annotations

from sqlalchemy.orm import validates

from webapp.core.crypto import seal_settings
from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow
from webapp.people.models import default_team_id

# Sources that are not fetched: they name where pushed and imported mentions came from.
SYSTEM_KINDS = ("push", "import")


class Monitor(db.Model):
    __tablename__ = "monitors"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    query = db.Column(db.String(2000), nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    # The scorer of its mentions: "vader", "model:<name>" or "ensemble:<name>" (services/scorers).
    scorer = db.Column(db.String(80), nullable=False, default="vader", server_default="vader")
    # Scorers for other languages, {"fr": "model:<name>"}: a mention in a language that neither
    # `scorer` (English, und) nor this map reads is stored unscored (insights/languages.py).
    language_scorers = db.Column(db.JSON, nullable=False, default=dict, server_default="{}")
    # The team that sees and runs it (webapp/people/access.py scopes every page and API by it).
    team_id = db.Column(db.Integer, db.ForeignKey("teams.id"), nullable=False, index=True,
                        default=default_team_id)
    # Raw mentions older than this many days are pruned (None: kept forever); rollups stay.
    retention_days = db.Column(db.Integer)
    # Raw mentions published before this were pruned (pages and exports say so).
    pruned_before = db.Column(UTCDateTime())
    # Term rollups: the days before this are folded into 1d (and whole weeks into 1w) rows
    # (webapp/ingest/term_fold.py); None: nothing folded yet.
    terms_folded_before = db.Column(UTCDateTime())

    sources = db.relationship(
        "Source", back_populates="monitor", cascade="all, delete-orphan",
        passive_deletes=True, order_by="Source.id",
    )

    @property
    def fetched_sources(self):
        return [s for s in self.sources if s.kind not in SYSTEM_KINDS]


class Source(db.Model):
    __tablename__ = "sources"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(
        db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind = db.Column(db.String(32), nullable=False)
    settings = db.Column(db.JSON, nullable=False, default=dict)
    every = db.Column(db.Integer, nullable=False, default=300)
    enabled = db.Column(db.Boolean, nullable=False, default=True)
    # Scheduling: the last slot (floor(epoch / every)) whose fetch completed.
    last_slot = db.Column(db.BigInteger)
    # The last slot handed to a fetch task, so that beat dispatches each slot once.
    dispatched_slot = db.Column(db.BigInteger)
    cursor = db.Column(db.JSON, nullable=False, default=dict)
    last_fetch_at = db.Column(UTCDateTime())
    last_status = db.Column(db.String(16))
    last_error = db.Column(db.Text)
    last_items = db.Column(db.Integer)
    # Circuit breaker and rate limits: failures in a row, and no fetch before paused_until.
    consecutive_failures = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    paused_until = db.Column(UTCDateTime())
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    monitor = db.relationship(Monitor, back_populates="sources")

    @validates("settings")
    def _seal_credentials(self, _key, value):
        """Credential keys (crypto.CREDENTIAL_KEYS) are stored encrypted; adapters reveal them."""
        return seal_settings(value)

    @property
    def is_system(self) -> bool:
        return self.kind in SYSTEM_KINDS

    @property
    def display_name(self) -> str:
        detail = (self.settings or {}).get("url") or ""
        return f"{self.kind} {detail}".strip()


class SourceFetch(db.Model):
    """One fetch of a source: when, how it went, how much it brought (source health history)."""

    __tablename__ = "source_fetches"
    __table_args__ = (
        db.Index("ix_source_fetches_source_started", "source_id", "started_at"),
        db.Index("ix_source_fetches_monitor_started", "monitor_id", "started_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    source_id = db.Column(db.Integer, db.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    started_at = db.Column(UTCDateTime(), nullable=False)
    duration_ms = db.Column(db.Integer, nullable=False, default=0)
    status = db.Column(db.String(16), nullable=False)  # ok | error | rate_limited | paused
    items = db.Column(db.Integer, nullable=False, default=0)
    published = db.Column(db.Integer, nullable=False, default=0)
    error_code = db.Column(db.String(64))
    error = db.Column(db.Text)
