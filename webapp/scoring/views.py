"""Scorer pages: the list of scorers, evaluate a labelled file, train a model, explain a text,
and choose a monitor's scorer (re-scoring its stored mentions in the background, with progress);
and "Classify your own text" (`/classify`): any text scored with the scorer the pipeline uses.

Viewers may look and evaluate; training and changing a monitor's scorer need an editor.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.people import access
from webapp.people.auth import page_role
from webapp.core.extensions import db
from webapp.scoring.forms import ClassifyForm, EvaluateForm, ExplainForm, MonitorScorerForm, TrainForm
from webapp.monitors.models import Monitor
from webapp.scoring import charts as charts_scorers, evaluation, rescoring, scorers, sentiment, training

bp = Blueprint("scorers", __name__)
classify_bp = Blueprint("classify", __name__)
MAX_UPLOAD = 5 * 1024 * 1024
TASK_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RESCORE_TASK = "scoring.rescore_monitor"


def _choices(form_field) -> None:
    form_field.choices = [(name, name) for name in scorers.names(db.session)]


def _upload(form) -> evaluation.LabelledFile | None:
    """The uploaded labelled file, read; None (with the error on the field) when it cannot be."""
    limit = current_app.config.get("SCORER_UPLOAD_MAX_BYTES", MAX_UPLOAD)
    raw = form.file.data.stream.read(limit + 1)
    if len(raw) > limit:
        form.file.errors = [*form.file.errors, f"the file is larger than {limit // (1024 * 1024)} MB; "
                                               "use the evaluate-scorer / train-scorer commands for big files"]
        return None
    try:
        return evaluation.read_labelled(raw.decode("utf-8-sig", errors="replace"))
    except evaluation.LabelledFileError as exc:
        form.file.errors = [*form.file.errors, str(exc)]
        return None


@bp.get("/scorers")
@page_role("viewer")
def index():
    return render_template("scorers/index.html", scorers=scorers.available(db.session),
                           threshold=scorers.DEFAULT_THRESHOLD)


@bp.route("/scorers/evaluate", methods=["GET", "POST"])
@page_role("viewer")
def evaluate():
    form = EvaluateForm()
    _choices(form.scorer)
    report = figure = None
    if form.validate_on_submit():
        data = _upload(form)
        if data is not None:
            try:
                scorer = scorers.get_scorer(db.session, form.scorer.data)
            except scorers.UnknownScorer as exc:
                form.scorer.errors = [*form.scorer.errors, str(exc)]
            else:
                report = evaluation.evaluate_scorer(scorer, data, scorer.name)
                figure = charts_scorers.confusion_heatmap(report)
    status = 400 if form.errors else 200
    return render_template("scorers/evaluate.html", form=form, report=report, figure=figure), status


@bp.route("/scorers/train", methods=["GET", "POST"])
@page_role("editor")
def train():
    form = TrainForm()
    result = row = figures = None
    bad_rows = []
    if form.validate_on_submit():
        data = _upload(form)
        if data is not None:
            try:
                row, result = training.train_and_store(
                    db.session, form.name.data, [(r.text, r.label) for r in data.rows],
                    extra=training.labelled_overrides(db.session),
                    test_size=form.test_size.data or training.DEFAULT_TEST_SIZE)
            except training.TrainingError as exc:
                form.file.errors = [*form.file.errors, str(exc)]
            else:
                bad_rows = [{"line": line, "reason": reason} for line, reason in data.bad]
                figures = {"comparison": charts_scorers.comparison(result.model_report, result.vader_report),
                           "model": charts_scorers.confusion_heatmap(result.model_report),
                           "vader": charts_scorers.confusion_heatmap(result.vader_report)}
    status = 400 if form.errors else 200
    return render_template("scorers/train.html", form=form, result=result, row=row, figures=figures,
                           bad_rows=bad_rows[:evaluation.MAX_BAD_SHOWN], n_bad=len(bad_rows)), status


@bp.route("/scorers/explain", methods=["GET", "POST"])
@page_role("viewer")
def explain():
    form = ExplainForm()
    _choices(form.scorer)
    score = features = None
    if form.validate_on_submit():
        try:
            scorer = scorers.get_scorer(db.session, form.scorer.data)
        except scorers.UnknownScorer as exc:
            form.scorer.errors = [*form.scorer.errors, str(exc)]
        else:
            score = scorer.score_batch([form.text.data])[0]
            features = scorer.explain(form.text.data, 12)
    status = 400 if form.errors else 200
    return render_template("scorers/explain.html", form=form, score=score, features=features), status



@bp.route("/monitors/<int:monitor_id>/scorer", methods=["GET", "POST"])
@page_role("viewer")
def monitor_scorer(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    form = MonitorScorerForm(scorer=monitor.scorer)
    _choices(form.scorer)
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        access.require(monitor, "editor")
        if form.validate_on_submit():
            try:
                rescoring.change_scorer(db.session, monitor, form.scorer.data)
            except scorers.UnknownScorer as exc:
                form.scorer.errors = [*form.scorer.errors, str(exc)]
            else:
                if not form.rescore.data:
                    flash(f"New mentions of “{monitor.name}” are scored with {monitor.scorer}.")
                    return redirect(url_for("scorers.monitor_scorer", monitor_id=monitor.id))
                try:
                    task = current_app.extensions["celery"].send_task(RESCORE_TASK, args=[monitor.id])
                except Exception as exc:  # noqa: BLE001 - a broker outage is reported, not a 500
                    current_app.logger.warning("could not queue re-scoring: %s", exc)
                    flash("The scorer is changed, but re-scoring could not be queued; try again later.")
                    return redirect(url_for("scorers.monitor_scorer", monitor_id=monitor.id))
                flash(f"Re-scoring the mentions of “{monitor.name}” with {monitor.scorer}.")
                return redirect(url_for("scorers.monitor_scorer", monitor_id=monitor.id, task=task.id))
    task_id = request.args.get("task", "")
    task_id = task_id if TASK_ID.fullmatch(task_id) else None
    status = 400 if form.errors else 200
    return render_template("scorers/monitor.html", monitor=monitor, form=form, task_id=task_id,
                           can_edit=access.can_change(monitor)), status


@bp.get("/monitors/<int:monitor_id>/scorer/progress")
@page_role("viewer")
def rescore_progress(monitor_id: int):
    """JSON {state, done, total} of a re-scoring task, polled by static/js/rescore.js."""
    access.monitor_or_404(monitor_id)
    task_id = request.args.get("task", "")
    if not TASK_ID.fullmatch(task_id):
        return jsonify({"error": "bad_request", "detail": "task must be a task id"}), 400
    result = current_app.extensions["celery"].AsyncResult(task_id)
    state, info = result.state, result.info
    body = {"state": state, "done": None, "total": None}
    if isinstance(info, dict):
        if info.get("monitor_id") not in (None, monitor_id):
            return jsonify({"error": "not_found", "detail": "no such task for this monitor"}), 404
        body.update(done=info.get("done"), total=info.get("total"))
        if info.get("status") == "superseded":
            body["detail"] = "stopped: the scorer was changed again"
    elif state == "FAILURE":
        body["detail"] = type(info).__name__
    return jsonify(body)


@classify_bp.route("/classify", methods=["GET", "POST"])
@page_role("viewer")
def classify():
    form = ClassifyForm()
    score = sentiment.score_text(form.text.data) if form.validate_on_submit() else None
    return render_template("classify.html", form=form, score=score), (400 if form.errors else 200)
