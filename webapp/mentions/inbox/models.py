"""The mention inbox's tables: tags, status and assignee, notes, per-user reads, auto-tag rules.

Every table is keyed by the mention id (mentions belong to ingest and stay as the pipeline
stored them): a mention without a `mention_states` row is open and unassigned, a mention
without a `mention_reads` row for a user is unread for that user. Deleting a mention (pruning,
deleting its monitor) cascades to all of them.
"""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow

STATUSES = ("open", "done")
MAX_TAG = 40
MAX_NOTE = 5000


def mention_fk(**kwargs) -> db.Column:
    """A mention id column (BIGINT as mentions.id, INTEGER on SQLite) that cascades deletes."""
    return db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"),
                     db.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False, **kwargs)


class Tag(db.Model):
    """One word of a monitor's tag vocabulary (lower-case, unique per monitor)."""

    __tablename__ = "tags"
    __table_args__ = (db.UniqueConstraint("monitor_id", "name", name="uq_tags_monitor_name"),)

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(MAX_TAG), nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class MentionTag(db.Model):
    __tablename__ = "mention_tags"

    mention_id = mention_fk(primary_key=True)
    tag_id = db.Column(db.Integer, db.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True,
                       index=True)


class MentionState(db.Model):
    """Status and assignee of a mention that someone worked on (no row: open, nobody)."""

    __tablename__ = "mention_states"

    mention_id = mention_fk(primary_key=True)
    status = db.Column(db.String(8), nullable=False, default="open", server_default="open")
    assignee_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class MentionRead(db.Model):
    """User `user_id` has read the mention (unread = no row)."""

    __tablename__ = "mention_reads"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mention_id = mention_fk(primary_key=True, index=True)
    read_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class MentionNote(db.Model):
    __tablename__ = "mention_notes"

    id = db.Column(db.Integer, primary_key=True)
    mention_id = mention_fk(index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    author = db.relationship("User")


class AutoTagRule(db.Model):
    """Tag `tag_id` on every new mention of the monitor whose text matches `query` (core/query.py)."""

    __tablename__ = "autotag_rules"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    tag_id = db.Column(db.Integer, db.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    query = db.Column(db.String(2000), nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    tag = db.relationship(Tag)
