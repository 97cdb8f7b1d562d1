"""The delivery outbox: rows written with the alert event, sent afterwards, never sent twice.

- `outbox()` adds one pending Delivery per notifier in the caller's transaction (the one that
  records the state change), so an alert is never lost between "decided" and "queued".
- `attempt()` sends one delivery. It first *claims* it with a conditional UPDATE (pending or
  failed and due, or a stale claim) and commits; a duplicate task, e.g. redelivered by the
  broker after a worker was killed mid-send, finds the row claimed or sent and sends nothing.
  Only a claim older than LEASE (the worker died before recording the outcome) is taken over:
  at-least-once, with the same webhook-id / Message-ID so receivers can drop the repeat.
- Failures are retried with retry_decision's backoff; a delivery gives up after a day. A 410
  Gone, or a day of failures in a row, disables the notifier and tells its owner.
"""
from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from sqlalchemy import and_, or_, select, update

from webapp.alerting.models import Delivery, Notifier
from webapp.people.models import User
from webapp.core import metrics
from webapp.core.crypto import SecretUnreadable, reveal_settings
from webapp.alerting.notifiers import email as email_channel
from webapp.alerting.notifiers import get_channel
from webapp.alerting.notifiers.base import Context, Outbound, Target
from webapp.alerting.notifiers.retry import retry_decision

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)           # longer than notify.deliver's time limit
GIVE_UP_AFTER = timedelta(days=1)
DISABLE_AFTER = timedelta(days=1)
DISPATCH_GRACE = timedelta(minutes=2)  # leave due retries to their own countdown first
RETRYABLE = ("pending", "failed")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def new_webhook_id() -> str:
    return "msg_" + uuid.uuid4().hex


def outbox(session, notifiers, payload: dict, event_id: int | None, now: datetime) -> list[Delivery]:
    """Queue `payload` for every enabled notifier, in the caller's transaction (no commit)."""
    rows = [Delivery(event_id=event_id, notifier_id=n.id, type=payload["type"], payload=payload,
                     webhook_id=new_webhook_id(), status="pending", attempts=0, next_attempt_at=now,
                     created_at=now, updated_at=now)
            for n in notifiers if n.enabled]
    session.add_all(rows)
    return rows


def test_payload(notifier: Notifier, public_url: str, now: datetime) -> dict:
    return {"type": "alert.test", "timestamp": now.isoformat(), "data": {
        "rule": {"id": None, "name": "Test alert", "kind": None}, "monitor": None, "status": "test",
        "value": None, "threshold": None, "op": None, "window": None, "sample_mentions": [],
        "link": f"{public_url}/alerts", "notifier": {"id": notifier.id, "name": notifier.name}}}


def create_test(session, notifier: Notifier, ctx: Context, now: datetime | None = None) -> Delivery:
    """Queue an alert.test message to `notifier`. Commits."""
    now = _now(now)
    payload = test_payload(notifier, ctx.public_url, now)
    delivery = Delivery(notifier_id=notifier.id, type="alert.test", payload=payload,
                        webhook_id=new_webhook_id(), next_attempt_at=now, created_at=now, updated_at=now)
    session.add(delivery)
    session.commit()
    return delivery


def claim(session, delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt (commits). False: not due, done, or someone else's."""
    taken = session.execute(
        update(Delivery).where(
            Delivery.id == delivery_id,
            or_(and_(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now),
                and_(Delivery.status == "sending", Delivery.claimed_until < now)),
        ).values(status="sending", attempts=Delivery.attempts + 1, claimed_until=now + LEASE,
                 updated_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    session.commit()
    return taken


def target_of(notifier: Notifier) -> Target:
    """What a channel sends with: the notifier's settings with the URL opened (it is stored
    sealed; the webhook channel opens the signing secret itself, to sign)."""
    return Target(notifier.id, notifier.kind, notifier.name, reveal_settings(dict(notifier.settings or {})),
                  notifier.secret)


@dataclass
class AttemptReport:
    delivery_id: int
    outcome: str                      # sent | retry | failed | not_due | skipped
    retry_in: float | None = None     # seconds until the next attempt (retry, not_due)
    detail: str | None = None
    notifier_disabled: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def attempt(session, delivery_id: int, ctx: Context, now: datetime | None = None, *,
            rand=random.random) -> AttemptReport:
    """Send one delivery once, if it is due and not taken; record the outcome (commits)."""
    now = _now(now)
    if not claim(session, delivery_id, now):
        row = session.get(Delivery, delivery_id)
        if row is not None and row.status in RETRYABLE:
            wait = max((row.next_attempt_at - now).total_seconds(), 0.0)
            session.rollback()
            return AttemptReport(delivery_id, "not_due", retry_in=wait)
        status = row.status if row is not None else "gone"
        session.rollback()
        return AttemptReport(delivery_id, "skipped", detail=f"delivery is {status}")
    delivery = session.get(Delivery, delivery_id)
    notifier = delivery.notifier
    if not notifier.enabled:
        _finish(delivery, now, status="permanent_failure", error="the notifier is disabled")
        session.commit()
        return AttemptReport(delivery_id, "failed", detail="the notifier is disabled")
    try:
        target = target_of(notifier)
    except SecretUnreadable as exc:      # the keys changed since the URL was sealed: no retry helps
        _finish(delivery, now, status="permanent_failure", error=str(exc))
        session.commit()
        return AttemptReport(delivery_id, "failed", detail=str(exc))
    message = Outbound(delivery.id, delivery.webhook_id, dict(delivery.payload))
    session.commit()   # no transaction stays open while the network is used

    result = get_channel(target.kind).send(target, message, ctx)

    delivery = session.get(Delivery, delivery_id)
    notifier = session.get(Notifier, target.id)
    fields = dict(http_status=result.status, latency_ms=result.latency_ms, excerpt=result.excerpt)
    if result.ok:
        _finish(delivery, now, status="sent", error=None, **fields)
        delivery.sent_at = now
        notifier.failing_since = None
        session.commit()
        return AttemptReport(delivery_id, "sent")

    retry, delay = retry_decision(result.outcome, delivery.attempts, result.retry_after, rand=rand)
    gave_up = now - delivery.created_at >= GIVE_UP_AFTER
    notifier.failing_since = notifier.failing_since or now
    disable = None
    if result.gone:
        disable = result.gone
    elif now - notifier.failing_since >= DISABLE_AFTER:
        disable = f"every delivery failed for a day (last: {result.error})"
    if retry and not gave_up and not disable:
        _finish(delivery, now, status="failed", error=result.error, **fields)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        session.commit()
        return AttemptReport(delivery_id, "retry", retry_in=delay, detail=result.error)
    reason = "gave up after a day" if retry and gave_up else result.error
    _finish(delivery, now, status="permanent_failure", error=reason, **fields)
    if disable and notifier.enabled:
        _disable(session, notifier, disable, now)
    session.commit()
    if disable:
        tell_owner(session, target.id, ctx)
    return AttemptReport(delivery_id, "failed", detail=reason, notifier_disabled=bool(disable))


def _finish(delivery: Delivery, now: datetime, *, status: str, error: str | None,
            http_status: int | None = None, latency_ms: int | None = None, excerpt: str | None = None) -> None:
    metrics.alert_delivery(status)  # sent | failed (retried) | permanent_failure
    delivery.status = status
    delivery.last_error = error
    delivery.last_http_status = http_status
    delivery.latency_ms = latency_ms
    delivery.response_excerpt = excerpt
    delivery.claimed_until = None
    delivery.updated_at = now


def _disable(session, notifier: Notifier, reason: str, now: datetime) -> None:
    notifier.enabled = False
    notifier.disabled_reason = reason
    notifier.disabled_at = now
    session.execute(
        update(Delivery).where(Delivery.notifier_id == notifier.id, Delivery.status.in_(RETRYABLE))
        .values(status="permanent_failure", last_error="the notifier was disabled", updated_at=now)
        .execution_options(synchronize_session=False))


def tell_owner(session, notifier_id: int, ctx: Context) -> bool:
    """Email the notifier's creator that it was disabled (best effort: False if that failed)."""
    notifier = session.get(Notifier, notifier_id)
    owner = session.get(User, notifier.created_by_id) if notifier and notifier.created_by_id else None
    if owner is None:
        session.rollback()
        return False
    to, name, reason, target = owner.email, " ".join(notifier.name.split()), notifier.disabled_reason, notifier.target
    session.rollback()
    msg = EmailMessage()
    msg["Subject"] = f"[Sentimon] Notifier “{name}” was disabled"
    msg["From"] = ctx.smtp_from
    msg["To"] = to
    msg["Message-ID"] = email_channel.message_id(f"notifier-disabled-{notifier_id}-{uuid.uuid4().hex}", ctx.smtp_from)
    msg.set_content(f"Sentimon stopped sending alerts to the notifier “{name}” ({target}).\n\n"
                    f"Reason: {reason}\n\nFix the endpoint, then enable the notifier again at "
                    f"{ctx.public_url}/alerts\n")
    try:
        email_channel.send_mail(ctx.smtp_url, ctx.smtp_from, [to], msg, ctx.smtp_timeout)
    except Exception as exc:   # telling the owner must never break delivery bookkeeping
        log.warning("could not email the owner of notifier %s: %s", notifier_id, exc)
        return False
    return True


def redeliver(session, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Queue the same message again (same payload and webhook-id) as a new delivery. Commits.

    A delivery still being retried is superseded by the new one, so it is not sent twice.
    """
    now = _now(now)
    old = session.get(Delivery, delivery_id)
    if old is None:
        return None
    copy = Delivery(event_id=old.event_id, notifier_id=old.notifier_id, type=old.type, payload=old.payload,
                    webhook_id=old.webhook_id, next_attempt_at=now, created_at=now, updated_at=now)
    session.add(copy)
    session.flush()
    session.execute(
        update(Delivery).where(Delivery.id == old.id, Delivery.status.in_(RETRYABLE))
        .values(status="permanent_failure", last_error=f"superseded by redelivery #{copy.id}", updated_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
    return copy


def due_for_dispatch(session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries whose task went missing: due for a while, or claimed by a worker that died."""
    now = _now(now)
    return list(session.execute(
        select(Delivery.id).where(or_(
            and_(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now - DISPATCH_GRACE),
            and_(Delivery.status == "sending", Delivery.claimed_until < now)))
        .order_by(Delivery.next_attempt_at).limit(limit)).scalars())


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def delivery_dict(d: Delivery) -> dict:
    iso = _iso
    return {"id": d.id, "event_id": d.event_id, "notifier_id": d.notifier_id, "type": d.type,
            "webhook_id": d.webhook_id, "status": d.status, "attempts": d.attempts,
            "next_attempt_at": iso(d.next_attempt_at) if d.status in RETRYABLE else None,
            "last_http_status": d.last_http_status, "latency_ms": d.latency_ms,
            "response_excerpt": d.response_excerpt, "last_error": d.last_error,
            "created_at": iso(d.created_at), "sent_at": iso(d.sent_at)}
