"""Alerting API: notifiers, rules, backtests, alert history, silences, deliveries (see CONTRACT.md).

Webhook secrets are write-only: a generated one is returned once, in the 201 answer.
Test sends and redeliveries are attempted at once, so the answer says how it went; a retry
goes on in the notify tasks.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from webapp.core import runtime
from webapp.people import access
from webapp.people.services import teams
from webapp.people.services.teams import TeamError
from webapp.people.auth import api_user
from webapp.core.extensions import db
from webapp.alerting.models import AlertEvent, Delivery, Notifier, Rule, Silence
from webapp.monitors.models import Monitor
from webapp.alerting import backtest, rules, silences
from webapp.alerting.kinds import RuleParams
from webapp.alerting.notifiers import Context, NotifierInvalid, delivery, dispatch, manage
from webapp.alerting.schemas import AlertsQuery, NotifierIn, SilenceIn
from webapp.core.api_errors import ApiError, aware, get_or_404, json_body

bp = Blueprint("alerting", __name__)



def _context() -> Context:
    return Context.from_config(current_app.config, runtime.egress_policy())


def _invalid(errors) -> ApiError:
    return ApiError(422, "validation_failed", errors)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- notifiers ------------------------------------------------------------------------------

@bp.get("/notifiers")
@api_user("viewer")
def list_notifiers():
    team_ids = teams.visible_team_ids(db.session, g.api_user)
    return jsonify([manage.notifier_dict(n) for n in manage.list_notifiers(db.session, team_ids)])


@bp.post("/notifiers")
@api_user("editor")
def new_notifier():
    body = NotifierIn.model_validate(json_body())
    data = body.model_dump(exclude_none=True)
    try:
        team_id = access.team_for_new(data.pop("team_id", None))
    except TeamError as exc:
        raise _invalid([{"loc": "team_id", "msg": str(exc)}]) from exc
    try:
        notifier, secret = manage.create_notifier(db.session, data, runtime.egress_policy(), g.api_user,
                                                  team_id=team_id)
    except NotifierInvalid as exc:
        raise _invalid([{"loc": exc.field, "msg": exc.message}]) from exc
    answer = manage.notifier_dict(notifier)
    if secret is not None:
        answer["secret"] = secret
    return jsonify(answer), 201


@bp.post("/notifiers/<int:notifier_id>/test")
@api_user("editor")
def test_notifier(notifier_id: int):
    notifier = access.notifier_or_404(notifier_id, "editor")
    if not notifier.enabled:
        raise ApiError(409, "notifier_disabled", notifier.disabled_reason or "the notifier is disabled")
    ctx = _context()
    created = delivery.create_test(db.session, notifier, ctx)
    report = dispatch.send_now(db.session, created.id, ctx, current_app.extensions["celery"])
    return jsonify({"outcome": report.outcome,
                    "delivery": delivery.delivery_dict(db.session.get(Delivery, created.id))})


@bp.delete("/notifiers/<int:notifier_id>")
@api_user("editor")
def delete_notifier(notifier_id: int):
    """204; rules stop sending to it, its delivery log goes with it."""
    manage.delete_notifier(db.session, access.notifier_or_404(notifier_id, "editor"))
    return "", 204


@bp.post("/notifiers/<int:notifier_id>/enable")
@api_user("editor")
def enable_notifier(notifier_id: int):
    notifier = access.notifier_or_404(notifier_id, "editor")
    manage.enable_notifier(db.session, notifier)
    return jsonify(manage.notifier_dict(notifier))


# -- rules and backtests --------------------------------------------------------------------

@bp.get("/monitors/<int:monitor_id>/rules")
@api_user("viewer")
def list_rules(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return jsonify([rules.rule_dict(r) for r in rules.rules_of(db.session, monitor.id)])


@bp.post("/monitors/<int:monitor_id>/rules")
@api_user("editor")
def new_rule(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    spec = rules.rule_in().model_validate(json_body())
    try:
        rule = rules.create_rule(db.session, monitor, spec, g.api_user)
    except rules.RuleInvalid as exc:
        raise _invalid(exc.detail()) from exc
    return jsonify(rules.rule_dict(rule)), 201


@bp.get("/rules/<int:rule_id>")
@api_user("viewer")
def get_rule(rule_id: int):
    return jsonify(rules.rule_dict(access.of_monitor_or_404(Rule, rule_id, "rule")))


@bp.delete("/rules/<int:rule_id>")
@api_user("editor")
def delete_rule(rule_id: int):
    db.session.delete(access.of_monitor_or_404(Rule, rule_id, "rule", "editor"))
    db.session.commit()
    return "", 204


def _backtest_answer(monitor_id: int, params: RuleParams):
    lag = current_app.config.get("ALERTS_LAG_SECONDS", 120)
    result = backtest.run_backtest(db.session, monitor_id, params, _now(), lag)
    points = [{"t": t.isoformat(), "value": v, "threshold": th, "state": s}
              for t, v, th, s in zip(result.times, result.values, result.thresholds, result.states)]
    return jsonify({"summary": result.summary(), "points": points})


@bp.post("/rules/<int:rule_id>/backtest")
@api_user("viewer")
def backtest_rule(rule_id: int):
    rule = access.of_monitor_or_404(Rule, rule_id, "rule")
    return _backtest_answer(rule.monitor_id, RuleParams.of(rule))


@bp.post("/monitors/<int:monitor_id>/rules/backtest")
@api_user("viewer")
def backtest_unsaved_rule(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    spec = rules.rule_in().model_validate(json_body())
    errors = rules.check_rule(spec)
    if errors:
        raise _invalid(rules.RuleInvalid(errors).detail())
    return _backtest_answer(monitor.id, rules.params_of(spec))


# -- alert history, deliveries ----------------------------------------------------------------

@bp.get("/monitors/<int:monitor_id>/alerts")
@api_user("viewer")
def list_alerts(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    q = AlertsQuery.model_validate(request.args.to_dict())
    events = rules.events_of(db.session, monitor.id, q.limit, q.offset, q.rule_id)
    return jsonify([rules.event_dict(e) for e in events])


@bp.get("/alerts/<int:event_id>/deliveries")
@api_user("viewer")
def event_deliveries(event_id: int):
    event = access.of_monitor_or_404(AlertEvent, event_id, "alert event")
    rows = db.session.execute(select(Delivery).where(Delivery.event_id == event.id).order_by(Delivery.id)).scalars()
    return jsonify([delivery.delivery_dict(d) for d in rows])


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@api_user("editor")
def redeliver(delivery_id: int):
    old = access.delivery_or_404(delivery_id, "editor")
    if not old.notifier.enabled:
        raise ApiError(409, "notifier_disabled", "enable the notifier before redelivering")
    copy = delivery.redeliver(db.session, old.id)
    report = dispatch.send_now(db.session, copy.id, _context(), current_app.extensions["celery"])
    return jsonify({"outcome": report.outcome,
                    "delivery": delivery.delivery_dict(db.session.get(Delivery, copy.id))}), 201


# -- silences -------------------------------------------------------------------------------

@bp.get("/monitors/<int:monitor_id>/silences")
@api_user("viewer")
def list_silences(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return jsonify([silences.silence_dict(s) for s in silences.active_silences(db.session, monitor.id, _now())])


@bp.post("/monitors/<int:monitor_id>/silences")
@api_user("editor")
def new_silence(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    body = SilenceIn.model_validate(json_body())
    now = _now()
    ends_at = aware(body.ends_at) if body.ends_at else now + timedelta(minutes=body.duration_minutes)
    try:
        silence = silences.create_silence(db.session, monitor, ends_at=ends_at, rule_id=body.rule_id,
                                          reason=body.reason, user=g.api_user, now=now)
    except rules.RuleInvalid as exc:
        raise _invalid(exc.detail()) from exc
    return jsonify(silences.silence_dict(silence)), 201


@bp.delete("/silences/<int:silence_id>")
@api_user("editor")
def end_silence(silence_id: int):
    silences.end_silence(db.session, access.of_monitor_or_404(Silence, silence_id, "silence", "editor"))
    return "", 204
