"""Alert rules: the request shape (shared by the API and the web form), creation, descriptions.

`RuleIn` checks types and ranges (pydantic); `check_rule` the rules between fields, with every
problem keyed by the field it belongs to, so the API answers 422 and the form shows the error
next to the field.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from webapp.alerting.models import AlertEvent, AlertState, Notifier, Rule
from webapp.core import query as query_language
from webapp.alerting.conditions import DEFAULT_OP, DIGEST_DEFAULTS, VOLUME_DEFAULTS, RuleParams

WEEK_SECONDS = 7 * 24 * 3600
VOLUME_KNOBS = tuple(VOLUME_DEFAULTS)
DIGEST_KNOBS = ("query", *DIGEST_DEFAULTS)
THRESHOLD_RANGE = {"avg_sentiment": (-1.0, 1.0), "negative_share": (0.0, 100.0)}


class RuleInvalid(ValueError):
    """Problems keyed by field name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def detail(self) -> list[dict]:
        return [{"loc": k, "msg": v} for k, v in self.errors.items()]


class RuleIn(BaseModel):
    """A rule as the API and the form take it (see CONTRACT.md)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["avg_sentiment", "negative_share", "volume_spike", "mention_match"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    window: Literal["15m", "1h", "6h", "24h"] = "1h"
    op: Literal["<", "<=", ">", ">="] | None = None
    threshold: float | None = Field(default=None, description="avg_sentiment: −1 to 1; negative_share: percent")
    min_mentions: int = Field(default=5, ge=0, le=1_000_000,
                              description="fewer mentions in the window is 'no data', not an alert")
    for_seconds: int = Field(default=0, ge=0, le=WEEK_SECONDS, description="pending this long before firing")
    cooldown_seconds: int = Field(default=0, ge=0, le=WEEK_SECONDS, description="no new firing before this")
    repeat_seconds: int = Field(default=0, ge=0, le=WEEK_SECONDS, description="reminders while firing; 0 = none")
    notifiers: list[int] = Field(default_factory=list, max_length=20)
    enabled: bool = True
    z: float | None = Field(default=None, gt=0, le=100, description="volume_spike: robust z-score")
    ratio: float | None = Field(default=None, ge=1, le=1000, description="volume_spike: count / baseline median")
    min_count: int | None = Field(default=None, ge=1, le=1_000_000_000, description="volume_spike: minimum count")
    query: Annotated[str, StringConstraints(max_length=query_language.MAX_QUERY_LENGTH)] | None = Field(
        default=None, description="mention_match: the query new mentions must match")
    digest_wait_seconds: int | None = Field(default=None, ge=0, le=3600,
                                            description="mention_match: wait after the first match")
    digest_cap: int | None = Field(default=None, ge=1, le=5, description="mention_match: mentions per message")


def check_rule(spec: RuleIn) -> dict[str, str]:
    """Cross-field problems of a rule spec (empty when it is fine)."""
    errors: dict[str, str] = {}
    if spec.kind in THRESHOLD_RANGE:
        low, high = THRESHOLD_RANGE[spec.kind]
        if spec.threshold is None:
            errors["threshold"] = f"{spec.kind} needs a threshold"
        elif not math.isfinite(spec.threshold) or not low <= spec.threshold <= high:
            errors["threshold"] = f"the threshold must be from {low:g} to {high:g}"
    elif spec.op is not None or spec.threshold is not None:
        errors["op" if spec.op is not None else "threshold"] = (
            f"{spec.kind} takes no op or threshold"
            + (" (it uses z, ratio and min_count)" if spec.kind == "volume_spike" else ""))
    if spec.repeat_seconds and spec.repeat_seconds < 300:
        errors["repeat_seconds"] = "reminders at most every 5 minutes (300 seconds), or 0 for none"
    for knob in VOLUME_KNOBS:
        if spec.kind != "volume_spike" and getattr(spec, knob) is not None:
            errors[knob] = f"{knob} is a volume_spike setting"
    for knob in DIGEST_KNOBS:
        if spec.kind != "mention_match" and getattr(spec, knob) is not None:
            errors[knob] = f"{knob} is a mention_match setting"
    if spec.kind == "mention_match":
        if not (spec.query or "").strip():
            errors["query"] = "mention_match needs a query"
        else:
            try:
                query_language.validate(spec.query)
            except query_language.QueryError as exc:
                errors["query"] = str(exc)
    return errors


def settings_of(spec: RuleIn) -> dict:
    knobs = VOLUME_KNOBS if spec.kind == "volume_spike" else DIGEST_KNOBS if spec.kind == "mention_match" else ()
    return {k: getattr(spec, k) for k in knobs if getattr(spec, k) is not None}


def default_name(spec: RuleIn) -> str:
    op = spec.op or DEFAULT_OP.get(spec.kind, "")
    if spec.kind == "avg_sentiment":
        return f"Average sentiment {op} {spec.threshold:g} over {spec.window}"
    if spec.kind == "negative_share":
        return f"Negative share {op} {spec.threshold:g}% over {spec.window}"
    if spec.kind == "volume_spike":
        return f"Volume spike over {spec.window}"
    return f"Mentions matching {spec.query.strip()}"[:120]


def params_of(spec: RuleIn) -> RuleParams:
    """The pure functions' view of an unsaved rule (for backtests from the form)."""
    return RuleParams(kind=spec.kind, window=spec.window, op=spec.op or DEFAULT_OP.get(spec.kind),
                      threshold=spec.threshold, min_mentions=spec.min_mentions, for_seconds=spec.for_seconds,
                      cooldown_seconds=spec.cooldown_seconds, repeat_seconds=spec.repeat_seconds,
                      settings=settings_of(spec))


def validate(session, spec: RuleIn) -> list[Notifier]:
    """Raise RuleInvalid for cross-field problems or unknown notifiers; returns the notifiers."""
    errors = check_rule(spec)
    wanted = list(dict.fromkeys(spec.notifiers))
    found = list(session.execute(select(Notifier).where(Notifier.id.in_(wanted))).scalars()) if wanted else []
    missing = sorted(set(wanted) - {n.id for n in found})
    if missing:
        errors["notifiers"] = f"no notifier with id {', '.join(map(str, missing))}"
    if errors:
        raise RuleInvalid(errors)
    return found


def create_rule(session, monitor, spec: RuleIn, user=None, now: datetime | None = None) -> Rule:
    """Validate and store a rule with its initial (Normal) state. Commits."""
    notifiers = validate(session, spec)
    now = now or datetime.now(timezone.utc)
    params = params_of(spec)
    rule = Rule(monitor_id=monitor.id, name=spec.name or default_name(spec), kind=spec.kind,
                window=spec.window, op=params.op, threshold=spec.threshold, min_mentions=spec.min_mentions,
                for_seconds=spec.for_seconds, cooldown_seconds=spec.cooldown_seconds,
                repeat_seconds=spec.repeat_seconds, settings=params.settings, enabled=spec.enabled,
                created_by_id=getattr(user, "id", None), created_at=now, notifiers=notifiers)
    rule.state = AlertState(state="normal", since=now, cursor_at=now, cursor_id=0)
    session.add(rule)
    session.commit()
    return rule


def rules_of(session, monitor_id: int) -> list[Rule]:
    return list(session.execute(select(Rule).where(Rule.monitor_id == monitor_id).order_by(Rule.id)).scalars())


def _iso(t):
    return t.isoformat() if t else None


def rule_dict(rule: Rule) -> dict:
    state = rule.state
    return {
        "id": rule.id, "monitor_id": rule.monitor_id, "name": rule.name, "kind": rule.kind,
        "window": rule.window, "op": rule.op, "threshold": rule.threshold,
        "min_mentions": rule.min_mentions, "for_seconds": rule.for_seconds,
        "cooldown_seconds": rule.cooldown_seconds, "repeat_seconds": rule.repeat_seconds,
        **(rule.settings or {}), "notifiers": [n.id for n in rule.notifiers], "enabled": rule.enabled,
        "state": {"state": state.state, "since": _iso(state.since), "last_value": state.last_value,
                  "last_evaluated_at": _iso(state.last_evaluated_at),
                  "last_fired_at": _iso(state.last_fired_at)} if state else None,
        "created_at": _iso(rule.created_at),
    }


def events_of(session, monitor_id: int, limit: int = 100, offset: int = 0,
              rule_id: int | None = None) -> list[AlertEvent]:
    """A monitor's alert events (state changes and reminders), newest first."""
    filters = [AlertEvent.monitor_id == monitor_id] + ([AlertEvent.rule_id == rule_id] if rule_id else [])
    return list(session.execute(
        select(AlertEvent).where(*filters).order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
        .limit(limit).offset(offset)).scalars())


def event_dict(e: AlertEvent) -> dict:
    return {"id": e.id, "rule_id": e.rule_id, "rule": e.rule.name if e.rule else None,
            "monitor_id": e.monitor_id, "from": e.from_state, "to": e.to_state, "value": e.value,
            "threshold": e.threshold, "slot": e.slot, "at": _iso(e.at), "notification": e.notification,
            "suppressed": e.suppressed, "details": e.details or {}}
