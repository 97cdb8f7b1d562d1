"""Silences: until their end time, a rule's (or a whole monitor's) notifications are suppressed.

Evaluation goes on while silenced; the events are recorded with `suppressed` set, so the
history shows what would have been sent.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp.alerting.models import Rule, Silence
from webapp.alerting.rules import RuleInvalid

MAX_SILENCE = timedelta(days=90)


def create_silence(session, monitor, *, ends_at: datetime, rule_id: int | None = None, reason: str = "",
                   user=None, now: datetime | None = None) -> Silence:
    """Validate and store a silence. Commits."""
    now = now or datetime.now(timezone.utc)
    errors = {}
    if ends_at.tzinfo is None:
        ends_at = ends_at.replace(tzinfo=timezone.utc)
    if ends_at <= now:
        errors["ends_at"] = "the silence must end in the future"
    elif ends_at - now > MAX_SILENCE:
        errors["ends_at"] = "a silence lasts at most 90 days"
    if rule_id is not None:
        rule = session.get(Rule, rule_id)
        if rule is None or rule.monitor_id != monitor.id:
            errors["rule_id"] = f"monitor {monitor.id} has no rule {rule_id}"
    if len(reason or "") > 500:
        errors["reason"] = "at most 500 characters"
    if errors:
        raise RuleInvalid(errors)
    silence = Silence(monitor_id=monitor.id, rule_id=rule_id, starts_at=now, ends_at=ends_at,
                      reason=(reason or "").strip(), created_by_id=getattr(user, "id", None), created_at=now)
    session.add(silence)
    session.commit()
    return silence


def active_silences(session, monitor_id: int, now: datetime) -> list[Silence]:
    return list(session.execute(
        select(Silence).where(Silence.monitor_id == monitor_id, Silence.starts_at <= now, Silence.ends_at > now)
        .order_by(Silence.ends_at)).scalars())


def end_silence(session, silence: Silence, now: datetime | None = None) -> None:
    """End a silence now. Commits."""
    now = now or datetime.now(timezone.utc)
    if silence.ends_at > now:
        silence.ends_at = now
    session.commit()


def silence_dict(s: Silence) -> dict:
    return {"id": s.id, "monitor_id": s.monitor_id, "rule_id": s.rule_id, "starts_at": s.starts_at.isoformat(),
            "ends_at": s.ends_at.isoformat(), "reason": s.reason}
