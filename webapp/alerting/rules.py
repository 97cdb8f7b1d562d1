"""Alert rules: the request shape (shared by the API and the web form), creation, descriptions.

The request model `RuleIn` is built from the fields the registered kinds declare
(`webapp.alerting.kinds`), so a new kind's fields are accepted, documented and asked for by the
form without editing this module. `rule_in()` gives the model for the kinds registered now
(`rules.RuleIn` is the same); it checks types and ranges (pydantic). `check_rule` checks the
rules between fields, with every problem keyed by the field it belongs to, so the API answers
422 and the form shows the error next to the field.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from sqlalchemy import select

from webapp.alerting.kinds import RuleParams, all_kinds, get_kind
from webapp.alerting.kinds.base import COMMON_FIELDS, KindField, kind_fields
from webapp.alerting.models import AlertEvent, AlertState, Notifier, Rule

MIN_REPEAT_SECONDS = 300
SCALARS = {"float": float, "int": int, "seconds": int, "bool": bool}


class RuleInvalid(ValueError):
    """Problems keyed by field name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def detail(self) -> list[dict]:
        return [{"loc": k, "msg": v} for k, v in self.errors.items()]


class RuleSpec(BaseModel):
    """A rule as the API and the form take it (see CONTRACT.md)."""

    # The base of the model `_model` builds (named RuleIn); its fields come from the kinds.
    model_config = ConfigDict(extra="forbid")


def _annotation(f: KindField):
    """The pydantic type of a declared field (constraints of text fields included)."""
    if f.type == "text":
        return Annotated[str, StringConstraints(**dict(f.limits))]
    if f.type == "choice":
        return Literal[tuple(value for value, _ in f.choices)]
    return list[int] if f.type == "ids" else SCALARS[f.type]


def _kind_description(decls: list[tuple]) -> str:
    """Which kinds take the field, what it means to each, and the default when it is absent."""
    helps = " ".join(dict.fromkeys(f.help for _, f in decls if f.help))
    default = decls[0][1].default
    return (f"{', '.join(k.name for k, _ in decls)}: {helps}"
            + (f" Default: {default}." if default is not None else "")).strip()


def _pydantic_field(f: KindField, description: str | None, optional: bool) -> tuple:
    """(annotation, FieldInfo); an optional field is None when not given (the kind's default applies)."""
    info = dict(description=description or None, **({} if f.type == "text" else dict(f.limits)))
    if optional or f.default is None:
        return _annotation(f) | None, Field(default=None, **info)
    if f.type == "ids":
        return _annotation(f), Field(default_factory=list, **info)
    return _annotation(f), Field(default=f.default, **info)


def _shared(name: str, decls: list[tuple]) -> KindField:
    """The one declaration of a field that several kinds declare (they must agree on its shape)."""
    first = decls[0][1]
    if any((f.type, f.limits, f.choices, f.column) != (first.type, first.limits, first.choices, first.column)
           for _, f in decls):
        raise TypeError(f"rule kinds declare the field {name!r} differently")
    return first


@lru_cache(maxsize=8)
def _model(kinds: tuple) -> type[RuleSpec]:
    fields = {"kind": (Literal[tuple(k.name for k in kinds)], ...)}
    fields.update({f.name: _pydantic_field(f, f.help if f.type != "text" else "", optional=False)
                   for f in COMMON_FIELDS})
    fields.update({name: _pydantic_field(_shared(name, decls), _kind_description(decls), optional=True)
                   for name, decls in kind_fields(kinds).items()})
    return create_model("RuleIn", __base__=RuleSpec, __doc__=RuleSpec.__doc__, **fields)


def rule_in() -> type[RuleSpec]:
    """The request model for the kinds registered now (built once per set of kinds)."""
    return _model(all_kinds())


def __getattr__(name: str):
    if name == "RuleIn":   # `rules.RuleIn` follows the registry (PEP 562)
        return rule_in()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _foreign(spec: RuleSpec, kind) -> dict[str, str]:
    """Fields of other kinds given with this one; fields that several kinds share (op and
    threshold) get one error together."""
    groups: dict[tuple, list[str]] = {}
    for name, decls in kind_fields(all_kinds()).items():
        if name not in kind.field_names():
            groups.setdefault(tuple(k.name for k, _ in decls), []).append(name)
    errors = {}
    for owners, names in groups.items():
        given = [n for n in names if getattr(spec, n) is not None]
        if given and len(owners) == 1:
            errors.update({n: f"{n} is a {owners[0]} setting" for n in given})
        elif given:
            errors[given[0]] = kind.refusal(names)
    return errors


def check_rule(spec: RuleSpec) -> dict[str, str]:
    """Cross-field problems of a rule spec (empty when it is fine)."""
    kind = get_kind(spec.kind)
    errors = kind.check(spec)
    if spec.repeat_seconds and spec.repeat_seconds < MIN_REPEAT_SECONDS:
        errors["repeat_seconds"] = "reminders at most every 5 minutes (300 seconds), or 0 for none"
    for name, message in _foreign(spec, kind).items():
        errors.setdefault(name, message)
    return errors


def params_of(spec: RuleSpec) -> RuleParams:
    """The pure functions' view of an unsaved rule (for backtests from the form)."""
    kind = get_kind(spec.kind)
    return RuleParams(kind=spec.kind, window=spec.window, op=spec.op or kind.default_op,
                      threshold=spec.threshold, min_mentions=spec.min_mentions, for_seconds=spec.for_seconds,
                      cooldown_seconds=spec.cooldown_seconds, repeat_seconds=spec.repeat_seconds,
                      settings=kind.settings_of(spec))


def describe(rule: Rule):
    """The rule's condition as the rules page shows it (its kind's wording)."""
    return get_kind(rule.kind).describe(RuleParams.of(rule))


def validate(session, spec: RuleSpec, team_id: int | None = None) -> list[Notifier]:
    """Raise RuleInvalid for cross-field problems or unknown notifiers; returns the notifiers.
    With `team_id` (the monitor's team), another team's notifier counts as unknown."""
    errors = check_rule(spec)
    wanted = list(dict.fromkeys(spec.notifiers))
    query = select(Notifier).where(Notifier.id.in_(wanted))
    if team_id is not None:
        query = query.where(Notifier.team_id == team_id)
    found = list(session.execute(query).scalars()) if wanted else []
    missing = sorted(set(wanted) - {n.id for n in found})
    if missing:
        errors["notifiers"] = f"no notifier with id {', '.join(map(str, missing))}"
    if errors:
        raise RuleInvalid(errors)
    return found


def create_rule(session, monitor, spec: RuleSpec, user=None, now: datetime | None = None) -> Rule:
    """Validate and store a rule with its initial (Normal) state. Commits."""
    notifiers = validate(session, spec, monitor.team_id)
    now = now or datetime.now(timezone.utc)
    params = params_of(spec)
    name = spec.name or get_kind(spec.kind).default_name(spec, params.op or "")
    rule = Rule(monitor_id=monitor.id, name=name, kind=spec.kind,
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
