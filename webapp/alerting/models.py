"""Alerting: notifiers, rules, each rule's state, state-change events, silences and the delivery outbox.

A rule is evaluated once per (rule, slot): the slot is claimed by a conditional UPDATE of
`AlertState.last_slot`. A state change is written as an `AlertEvent` together with one
`Delivery` row per notifier in the same transaction (the outbox); `notify.deliver` tasks send
them afterwards. Times are UTC (`UTCDateTime`).
"""
from __future__ import annotations

from sqlalchemy.orm import validates

from webapp.core.crypto import SecretUnreadable, reveal_settings, seal
from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.core.types import UTCDateTime, utcnow
from webapp.people.models import default_team_id

WINDOWS = ("15m", "1h", "6h", "24h")
OPS = ("<", "<=", ">", ">=")
STATES = ("normal", "pending", "firing", "resolved", "nodata")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "permanent_failure")
EVENT_TYPES = ("alert.firing", "alert.resolved", "alert.test")

rule_notifiers = db.Table(
    "alert_rule_notifiers",
    db.Column("rule_id", db.Integer, db.ForeignKey("alert_rules.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("notifier_id", db.Integer, db.ForeignKey("notifiers.id", ondelete="CASCADE"),
              primary_key=True),
)


class Notifier(db.Model):
    """Where alerts go: an email list, a webhook URL (with its signing secret) or a chat
    service's incoming webhook. Secrets at rest (webapp.core.crypto): the signing secret and the
    URL are stored sealed (a chat webhook URL is its credential; a webhook URL may carry a
    token); the delivery's target (`notifiers.delivery.target_of`) and `plain_settings` reveal them."""

    __tablename__ = "notifiers"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    name = db.Column(db.String(120), nullable=False, default="")
    settings = db.Column(db.JSON, nullable=False, default=dict)   # {"url"} or {"to": [...]}
    secret = db.Column(db.String(255))   # webhooks only; write-only in the API
    enabled = db.Column(db.Boolean, nullable=False, default=True)
    disabled_reason = db.Column(db.Text)
    disabled_at = db.Column(UTCDateTime())
    # Start of the current run of failed attempts; a day of them disables the notifier.
    failing_since = db.Column(UTCDateTime())
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    # The team whose rules may use it and who may see and change it (webapp/people/access.py).
    team_id = db.Column(db.Integer, db.ForeignKey("teams.id"), nullable=False, index=True,
                        default=default_team_id)

    created_by = db.relationship("User")

    @property
    def target(self) -> str:
        """What the notifier sends to, for lists and logs (never the secret)."""
        from webapp.alerting.notifiers import get_channel   # the channels need no models

        return get_channel(self.kind).target(self.plain_settings)

    @validates("secret")
    def _seal_secret(self, _key, value):
        """Stored encrypted (webapp.core.crypto); the webhook channel reveals it only to sign."""
        return seal(value)

    @validates("settings")
    def _seal_url(self, _key, value):
        """The URL is stored encrypted (migration 0029); other settings (an email list) as given."""
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return {**value, "url": seal(value["url"])}
        return value

    @property
    def plain_settings(self) -> dict:
        """The settings with the URL opened, for what the pages and the API show of them (a chat
        URL masked, by its channel). A URL no configured key opens shows as empty."""
        try:
            return reveal_settings(self.settings or {})
        except SecretUnreadable:
            return {**(self.settings or {}), "url": ""}


class Rule(db.Model):
    """One alert rule of a monitor: what to watch, over which window, and when to notify."""

    __tablename__ = "alert_rules"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(
        db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = db.Column(db.String(120), nullable=False)
    kind = db.Column(db.String(32), nullable=False)   # a registered kind: webapp.alerting.kinds
    window = db.Column(db.String(4), nullable=False, default="1h")
    op = db.Column(db.String(2))
    threshold = db.Column(db.Float)
    min_mentions = db.Column(db.Integer, nullable=False, default=0)
    for_seconds = db.Column(db.Integer, nullable=False, default=0)        # pending duration
    cooldown_seconds = db.Column(db.Integer, nullable=False, default=0)   # before firing again
    repeat_seconds = db.Column(db.Integer, nullable=False, default=0)     # reminders; 0 = none
    settings = db.Column(db.JSON, nullable=False, default=dict)           # kind-specific knobs
    enabled = db.Column(db.Boolean, nullable=False, default=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    monitor = db.relationship("Monitor")
    notifiers = db.relationship(Notifier, secondary=rule_notifiers, order_by=Notifier.id)
    state = db.relationship("AlertState", uselist=False, back_populates="rule",
                            cascade="all, delete-orphan", passive_deletes=True)


class AlertState(db.Model):
    """The current state of one rule, and the last evaluation slot (the idempotency claim)."""

    __tablename__ = "alert_states"

    rule_id = db.Column(db.Integer, db.ForeignKey("alert_rules.id", ondelete="CASCADE"),
                        primary_key=True)
    state = db.Column(db.String(16), nullable=False, default="normal")
    since = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_slot = db.Column(db.BigInteger)
    last_value = db.Column(db.Float)
    last_evaluated_at = db.Column(UTCDateTime())
    last_fired_at = db.Column(UTCDateTime())
    last_notified_at = db.Column(UTCDateTime())
    # mention_match: the (ingested_at, id) of the last mention looked at (a keyset cursor).
    cursor_at = db.Column(UTCDateTime())
    cursor_id = db.Column(db.BigInteger, nullable=False, default=0)

    rule = db.relationship(Rule, back_populates="state")


class AlertEvent(db.Model):
    """A state change of a rule (or a firing reminder); the alert history."""

    __tablename__ = "alert_events"
    __table_args__ = (db.Index("ix_alert_events_monitor_at", "monitor_id", "at"),)

    id = db.Column(db.Integer, primary_key=True)
    rule_id = db.Column(db.Integer, db.ForeignKey("alert_rules.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"),
                           nullable=False)
    from_state = db.Column(db.String(16), nullable=False)
    to_state = db.Column(db.String(16), nullable=False)
    value = db.Column(db.Float)
    threshold = db.Column(db.Float)
    slot = db.Column(db.BigInteger)
    at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    notification = db.Column(db.String(16))    # firing | resolved | reminder | None
    suppressed = db.Column(db.Boolean, nullable=False, default=False)
    details = db.Column(db.JSON, nullable=False, default=dict)

    rule = db.relationship(Rule)


# mention_match rules read new mentions by ingestion time; this index keeps that a range scan.
# It belongs to alerting, so it is declared here and created by the alerts migration.
db.Index("ix_mentions_monitor_ingested", Mention.monitor_id, Mention.ingested_at, Mention.id)


class Silence(db.Model):
    """Until `ends_at`, notifications of one rule (or of every rule of a monitor) are suppressed."""

    __tablename__ = "alert_silences"

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    rule_id = db.Column(db.Integer, db.ForeignKey("alert_rules.id", ondelete="CASCADE"))
    starts_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    ends_at = db.Column(UTCDateTime(), nullable=False)
    reason = db.Column(db.String(500), nullable=False, default="")
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class Delivery(db.Model):
    """One message to one notifier (the outbox row); its status and the last attempt's outcome.

    `payload` is the exact message ({type, timestamp, data}); `webhook_id` stays the same on
    every attempt (and names the email's Message-ID), so receivers can drop duplicates.
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (db.Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),)

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.Integer, db.ForeignKey("alert_events.id", ondelete="CASCADE"),
                         index=True)   # None for alert.test
    notifier_id = db.Column(db.Integer, db.ForeignKey("notifiers.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    type = db.Column(db.String(32), nullable=False)
    payload = db.Column(db.JSON, nullable=False)
    webhook_id = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(20), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    claimed_until = db.Column(UTCDateTime())
    last_http_status = db.Column(db.Integer)
    latency_ms = db.Column(db.Integer)
    response_excerpt = db.Column(db.String(1000))
    last_error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    sent_at = db.Column(UTCDateTime())

    notifier = db.relationship(Notifier)
    event = db.relationship(AlertEvent)
