"""Tables of the embedded bus: an append-only log, consumer-group offsets, dead letters."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow


class BusRecord(db.Model):
    """One record of the SQL log; `id` is its offset (a single partition per topic)."""

    __tablename__ = "bus_log"
    __table_args__ = (db.Index("ix_bus_log_topic_id", "topic", "id"),)

    id = db.Column(db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    topic = db.Column(db.String(64), nullable=False)
    key = db.Column(db.String(128))
    payload = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class BusOffset(db.Model):
    """The next offset a consumer group reads, with a lease so one consumer reads at a time."""

    __tablename__ = "bus_offsets"

    group = db.Column(db.String(64), primary_key=True)
    topic = db.Column(db.String(64), primary_key=True)
    next_offset = db.Column(db.BigInteger, nullable=False, default=0)
    lease_owner = db.Column(db.String(128))
    lease_until = db.Column(UTCDateTime())


class DeadLetter(db.Model):
    """A record that kept failing, kept with its error so that it can be inspected and replayed."""

    __tablename__ = "dead_letters"

    id = db.Column(db.Integer, primary_key=True)
    topic = db.Column(db.String(64), nullable=False)
    key = db.Column(db.String(128))
    payload = db.Column(db.Text, nullable=False)
    error = db.Column(db.Text, nullable=False)
    attempts = db.Column(db.Integer, nullable=False, default=1)
    source_offset = db.Column(db.String(64))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    replayed_at = db.Column(UTCDateTime())
