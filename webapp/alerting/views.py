"""Alerting pages: notifiers (with "Send test"), a monitor's rules (with "Backtest"), its alert
history and silences, and the delivery log of one alert (with "Redeliver")."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select

from webapp.core.pagination import page_number
from webapp.core import runtime
from webapp.people import access
from webapp.people.services import teams
from webapp.people.auth import page_role
from webapp.core.extensions import db
from webapp.alerting.models import AlertEvent, Delivery, Notifier, Rule, Silence
from webapp.monitors.models import Monitor
from webapp.alerting import backtest, rules, silences
from webapp.alerting.kinds import RuleParams
from webapp.alerting.notifiers import Context, NotifierInvalid, delivery, dispatch, manage
from webapp.alerting.forms import ChatForm, EmailForm, RuleFormBase, SilenceForm, WebhookForm, choices, rule_form
from webapp.alerting.notifiers import CHANNELS, CHAT_KINDS, get_channel
from webapp.alerting.notifiers.wording import failure_sentence

bp = Blueprint("alerts", __name__)
PAGE_SIZE = 50



def _context() -> Context:
    return Context.from_config(current_app.config, runtime.egress_policy())


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _require_editor() -> None:
    if not current_user.can("editor"):
        abort(403)


# -- notifiers ------------------------------------------------------------------------------

# The notifier forms by the kind in their URL: the form, and the create request from it.
NOTIFIER_FORMS = {
    "webhook": (WebhookForm, lambda f: {"kind": "webhook", "url": f.url.data, "secret": f.secret.data or None}),
    "email": (EmailForm, lambda f: {"kind": "email", "to": f.to.data}),
    "chat": (ChatForm, lambda f: {"kind": f.kind.data, "url": f.url.data}),
}


def _index(webhook_form=None, email_form=None, chat_form=None, created=None, status: int = 200, chooser=None):
    notifiers = manage.list_notifiers(db.session, teams.visible_team_ids(db.session, current_user))
    recent = db.session.execute(access.visible_monitors(
        select(AlertEvent).join(Monitor, Monitor.id == AlertEvent.monitor_id)
        .order_by(AlertEvent.at.desc(), AlertEvent.id.desc()).limit(20))).scalars().all()
    monitors = db.session.execute(access.visible_monitors(select(Monitor).order_by(Monitor.name))).scalars().all()
    return render_template(
        "alerts/index.html", notifiers=notifiers, disabled=[n for n in notifiers if not n.enabled],
        webhook_form=webhook_form or WebhookForm(prefix="webhook"), email_form=email_form or EmailForm(prefix="email"),
        chat_form=chat_form or ChatForm(prefix="chat"), chat_channels=[CHANNELS[k] for k in CHAT_KINDS],
        created=created, recent=recent, monitors=monitors, chooser=chooser or access.TeamChooser(None)), status


@bp.get("/alerts")
@page_role("viewer")
def index():
    return _index()


@bp.post("/alerts/notifiers/<kind>")
@page_role("editor")
def new_notifier(kind: str):
    if kind not in NOTIFIER_FORMS:
        abort(404)
    form_class, request_of = NOTIFIER_FORMS[kind]
    form = form_class(prefix=kind)
    chooser = access.TeamChooser(request.form.get("team_id"))   # its error shows next to its select
    if form.validate_on_submit() and not chooser.error:
        data = {**request_of(form), "name": form.name.data}
        try:
            notifier, secret = manage.create_notifier(db.session, data, runtime.egress_policy(), current_user,
                                                      team_id=chooser.team_id)
        except NotifierInvalid as exc:
            field = getattr(form, exc.field, None) or form.name
            field.errors = [*field.errors, exc.message]
        else:
            flash(f"Notifier “{notifier.name}” created.")
            return _index(created={"notifier": notifier, "secret": secret},   # an empty form again
                          **{f"{kind}_form": form_class(prefix=kind, formdata=None)})
    return _index(**{f"{kind}_form": form}, status=400, chooser=chooser)


@bp.post("/alerts/notifiers/<int:notifier_id>/test")
@page_role("editor")
def test_notifier(notifier_id: int):
    notifier = access.notifier_or_404(notifier_id, "editor")
    if not notifier.enabled:
        flash(f"“{notifier.name}” is disabled; enable it first.")
        return redirect(url_for("alerts.index"))
    ctx = _context()
    created = delivery.create_test(db.session, notifier, ctx)
    report = dispatch.send_now(db.session, created.id, ctx, current_app.extensions["celery"])
    row = db.session.get(Delivery, created.id)
    if report.outcome == "sent":
        flash(get_channel(notifier.kind).sent_sentence(notifier.name, row.last_http_status, row.latency_ms))
    else:
        flash(f"Test to “{notifier.name}” failed: "
              f"{failure_sentence(notifier.kind, row.last_error or report.detail, row.last_http_status)}"
              + (" It will be retried." if report.outcome == "retry" else ""))
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/notifiers/<int:notifier_id>/delete")
@page_role("editor")
def delete_notifier(notifier_id: int):
    notifier = access.notifier_or_404(notifier_id, "editor")
    name = notifier.name
    manage.delete_notifier(db.session, notifier)
    flash(f"Notifier “{name}” deleted; rules no longer send to it.")
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/notifiers/<int:notifier_id>/enable")
@page_role("editor")
def enable_notifier(notifier_id: int):
    notifier = access.notifier_or_404(notifier_id, "editor")
    manage.enable_notifier(db.session, notifier)
    flash(f"“{notifier.name}” is enabled again.")
    return redirect(url_for("alerts.index"))


# -- rules and backtests --------------------------------------------------------------------

def _rule_form(team_id: int) -> RuleFormBase:
    """The rule form; its notifier choices are the enabled notifiers of the monitor's team."""
    form = rule_form()
    form.notifiers.choices = choices([(n.id, f"{n.name} ({n.kind})")
                                      for n in manage.list_notifiers(db.session, {team_id}) if n.enabled])
    return form


def _attach(form: RuleFormBase, errors: dict[str, str]) -> list[str]:
    """Put errors on their fields; returns those that belong to no field."""
    loose = []
    for name, message in errors.items():
        field = form.field_for(name) if name else None
        if field is None:
            loose.append(f"{name}: {message}" if name else message)
        else:
            field.errors = [*field.errors, message]
    return loose


def _rules_page(monitor: Monitor, form: RuleFormBase, status: int = 200, **extra):
    return render_template("alerts/rules.html", monitor=monitor, rules=rules.rules_of(db.session, monitor.id),
                           form=form, describe=rules.describe, **extra), status


@bp.route("/monitors/<int:monitor_id>/rules", methods=["GET", "POST"])
@page_role("viewer")
def rules_page(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    form = _rule_form(monitor.team_id)
    if request.method == "GET":
        return _rules_page(monitor, form)
    action = "backtest" if request.form.get("action") == "backtest" else "save"
    if action == "save":
        _require_editor()
        access.require(monitor, "editor")
    if not form.validate_on_submit():
        return _rules_page(monitor, form, 400)
    try:
        spec = rules.rule_in().model_validate(form.spec())
    except ValidationError as exc:
        loose = _attach(form, {str(e["loc"][0]) if e["loc"] else "": e["msg"]
                               for e in exc.errors(include_url=False)})
        return _rules_page(monitor, form, 400, form_errors=loose)
    if action == "backtest":
        errors = rules.check_rule(spec)
        if errors:
            return _rules_page(monitor, form, 400, form_errors=_attach(form, errors))
        return _backtest_page(monitor, form, rules.params_of(spec), "this rule (not saved)")
    try:
        rule = rules.create_rule(db.session, monitor, spec, current_user)
    except rules.RuleInvalid as exc:
        return _rules_page(monitor, form, 400, form_errors=_attach(form, exc.errors))
    flash(f"Rule “{rule.name}” saved; it is evaluated every minute on closed 15-minute buckets.")
    return redirect(url_for("alerts.rules_page", monitor_id=monitor.id))


def _backtest_page(monitor: Monitor, form: RuleFormBase, params: RuleParams, label: str):
    lag = current_app.config.get("ALERTS_LAG_SECONDS", 120)
    result = backtest.run_backtest(db.session, monitor.id, params, _now(), lag)
    return _rules_page(monitor, form, backtest_label=label, summary=result.summary(),
                       figure=backtest.figure(result))


@bp.get("/monitors/<int:monitor_id>/rules/<int:rule_id>/backtest")
@page_role("viewer")
def backtest_rule(monitor_id: int, rule_id: int):
    monitor = access.monitor_or_404(monitor_id)
    rule = access.of_monitor_or_404(Rule, rule_id, "rule", monitor_id=monitor_id)
    if rule.monitor_id != monitor.id:
        abort(404)
    return _backtest_page(monitor, _rule_form(monitor.team_id), RuleParams.of(rule), f"“{rule.name}”")


@bp.post("/monitors/<int:monitor_id>/rules/<int:rule_id>/delete")
@page_role("editor")
def delete_rule(monitor_id: int, rule_id: int):
    rule = access.of_monitor_or_404(Rule, rule_id, "rule", "editor", monitor_id=monitor_id)
    if rule.monitor_id != monitor_id:
        abort(404)
    name = rule.name
    db.session.delete(rule)
    db.session.commit()
    flash(f"Rule “{name}” deleted.")
    return redirect(url_for("alerts.rules_page", monitor_id=monitor_id))


# -- alert history, silences, deliveries ----------------------------------------------------

def _silence_form(monitor: Monitor) -> SilenceForm:
    form = SilenceForm()
    form.rule_id.choices = choices([(0, "every rule of this monitor")] + [
        (r.id, r.name) for r in rules.rules_of(db.session, monitor.id)])
    return form


def _history(monitor: Monitor, form: SilenceForm, status: int = 200):
    page = page_number(request.args)
    events = rules.events_of(db.session, monitor.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    return render_template("alerts/history.html", monitor=monitor, events=events[:PAGE_SIZE], page=page,
                           more=len(events) > PAGE_SIZE, form=form,
                           silences=silences.active_silences(db.session, monitor.id, _now()),
                           rule_names={r.id: r.name for r in rules.rules_of(db.session, monitor.id)}), status


@bp.get("/monitors/<int:monitor_id>/alerts")
@page_role("viewer")
def history(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return _history(monitor, _silence_form(monitor))


@bp.post("/monitors/<int:monitor_id>/silences")
@page_role("editor")
def new_silence(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    form = _silence_form(monitor)
    if form.validate_on_submit():
        now = _now()
        try:
            silences.create_silence(db.session, monitor, ends_at=now + timedelta(hours=form.hours.data),
                                    rule_id=form.rule_id.data or None, reason=form.reason.data or "",
                                    user=current_user, now=now)
        except rules.RuleInvalid as exc:
            form.hours.errors = [*form.hours.errors, *exc.errors.values()]
        else:
            flash("Silenced: notifications are suppressed until the silence ends; evaluation goes on.")
            return redirect(url_for("alerts.history", monitor_id=monitor.id))
    return _history(monitor, form, 400)


@bp.post("/monitors/<int:monitor_id>/silences/<int:silence_id>/end")
@page_role("editor")
def end_silence(monitor_id: int, silence_id: int):
    silence = access.of_monitor_or_404(Silence, silence_id, "silence", "editor", monitor_id=monitor_id)
    if silence.monitor_id != monitor_id:
        abort(404)
    silences.end_silence(db.session, silence)
    flash("Silence ended.")
    return redirect(url_for("alerts.history", monitor_id=monitor_id))


@bp.get("/alerts/events/<int:event_id>")
@page_role("viewer")
def event(event_id: int):
    found = access.of_monitor_or_404(AlertEvent, event_id, "alert event")
    rows = db.session.execute(
        select(Delivery).where(Delivery.event_id == found.id).order_by(Delivery.id)).scalars().all()
    return render_template("alerts/event.html", event=found, monitor=db.session.get(Monitor, found.monitor_id),
                           deliveries=rows)


@bp.post("/alerts/deliveries/<int:delivery_id>/redeliver")
@page_role("editor")
def redeliver(delivery_id: int):
    old = access.delivery_or_404(delivery_id, "editor")
    back = url_for("alerts.event", event_id=old.event_id) if old.event_id else url_for("alerts.index")
    if not old.notifier.enabled:
        flash("That notifier is disabled; enable it first.")
        return redirect(back)
    copy = delivery.redeliver(db.session, old.id)
    report = dispatch.send_now(db.session, copy.id, _context(), current_app.extensions["celery"])
    flash(f"Redelivered: {report.outcome}" + (f" ({report.detail})" if report.detail else "") + ".")
    return redirect(back)
