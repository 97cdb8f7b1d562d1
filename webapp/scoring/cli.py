"""`flask --app wsgi evaluate-scorer` and `train-scorer`: measure a scorer, train one on your labels.

With `--json` exactly one JSON object goes to stdout; progress and notes go to stderr.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp.core.cli import echo_bad_rows
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.scoring import evaluation, relevance, scorers, training



def _read(file: Path) -> evaluation.LabelledFile:
    try:
        return evaluation.read_labelled_path(file)
    except evaluation.LabelledFileError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc


def _f(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def report_table(report: dict) -> str:
    """A readable table of one evaluation report."""
    lines = [
        f"scorer     {report.get('scorer', '')}",
        f"n          {report['n']}" + (f"   ({report['bad_rows']} malformed rows)" if "bad_rows" in report else ""),
        f"accuracy   {_f(report['accuracy'])}",
        f"macro-F1   {_f(report['macro_f1'])}" + (f"   (over {', '.join(report['macro_over'])})"
                                                   if report.get("macro_over") else ""),
    ]
    if report.get("pearson_r") is not None or "pearson_n" in report:
        lines.append(f"Pearson r  {_f(report.get('pearson_r'))}")
    lines += ["", f"{'class':<10} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for label, c in report["classes"].items():
        lines.append(f"{label:<10} {_f(c['precision']):>9} {_f(c['recall']):>7} {_f(c['f1']):>7} {c['support']:>8}")
    labels = report["confusion"]["labels"]
    lines += ["", "confusion (rows: truth, columns: predicted)",
              " " * 10 + "".join(f"{label:>10}" for label in labels)]
    for label, counts in zip(labels, report["confusion"]["matrix"]):
        lines.append(f"{label:<10}" + "".join(f"{n:>10}" for n in counts))
    if report.get("by_language"):
        lines += ["", f"{'language':<10} {'n':>6} {'accuracy':>9} {'macro-F1':>9}  VADER reads it"]
        for row in report["by_language"]:
            lines.append(f"{row['lang']:<10} {row['n']:>6} {_f(row['accuracy']):>9} {_f(row['macro_f1']):>9}  "
                         f"{'yes' if row['read_by_vader'] else 'no (unscored at ingest)'}")
    return "\n".join(lines)


def comparison_table(model: dict, vader: dict) -> str:
    """The model's and VADER's figures side by side."""
    rows = [("accuracy", model["accuracy"], vader["accuracy"]), ("macro-F1", model["macro_f1"], vader["macro_f1"])]
    for label in evaluation.LABELS:
        rows.append((f"F1 {label}", model["classes"][label]["f1"], vader["classes"][label]["f1"]))
    lines = [f"{'':<12} {model.get('scorer', 'model'):>16} {'vader':>10}"]
    lines += [f"{name:<12} {_f(a):>16} {_f(b):>10}" for name, a, b in rows]
    return "\n".join(lines)


def relevance_table(summary: dict) -> str:
    """The relevance model's hold-out figures (the `irrelevant` class)."""
    if "error" in summary:
        return f"\nrelevance: not trained ({summary['error']})"
    stored = (f"stored as monitor {summary['monitor_id']}'s relevance model (disabled until enabled)"
              if summary.get("monitor_id") else "not stored (give --relevance-monitor ID to keep it)")
    return "\n".join([
        "", f"relevance: trained on {summary['n_train']} rows, measured on {summary['n_test']}; {stored}",
        f"precision  {_f(summary['precision'])}   (of the mentions it would hide, the share really irrelevant)",
        f"recall     {_f(summary['recall'])}   (of the irrelevant mentions, the share it finds)",
        f"f1         {_f(summary['f1'])}"])


def _train_relevance(data: evaluation.LabelledFile, test_size: float, seed: int, monitor_id: int | None,
                     say) -> dict | None:
    """A four-class file's relevance model (irrelevant vs the rest): trained, measured, maybe stored."""
    if not data.four_class:
        return None
    pairs = [(r.text, relevance.IRRELEVANT if r.irrelevant else relevance.RELEVANT) for r in data.rows]
    try:
        result = relevance.train_relevance(pairs, test_size=test_size, random_state=seed, progress=say)
    except relevance.RelevanceError as exc:  # the sentiment model stands; say why there is no relevance one
        say(f"no relevance model: {exc}")
        return {"error": str(exc), "monitor_id": monitor_id}
    summary = {**result.report, "n_train": result.n_train, "n_test": result.n_test,
               "training_hash": result.training_hash, "monitor_id": monitor_id}
    if monitor_id is not None:
        stored = relevance.store(db.session, monitor_id, result, {"test_size": test_size, "random_state": seed,
                                                                  "source": "train-scorer"})
        summary["version"] = stored.version
    return summary


def _bad_rows(data: evaluation.LabelledFile) -> None:
    echo_bad_rows(data.bad)


@click.command("evaluate-scorer")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--scorer", "scorer_name", default=scorers.DEFAULT, show_default=True,
              help="vader, model:<name> or ensemble:<name>")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def evaluate_scorer(file: Path, scorer_name: str, as_json: bool) -> None:
    """Score a labelled CSV/TSV (a text column and a label or score column) and report metrics."""
    try:
        scorer = scorers.get_scorer(db.session, scorer_name)
    except scorers.UnknownScorer as exc:
        raise click.ClickException(str(exc)) from exc
    data = _read(file)
    with click.progressbar(length=len(data.rows), label=f"scoring {file.name} with {scorer.name}",
                           file=sys.stderr) as bar:
        report = evaluation.evaluate_scorer(scorer, data, scorer.name, progress=bar.update)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(report_table(report))
    if data.bad:
        click.echo(f"{len(data.bad)} malformed rows:", err=True)
        _bad_rows(data)


@click.command("train-scorer")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="the model's name; use it as model:<name> or ensemble:<name>")
@click.option("--test-size", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=training.DEFAULT_TEST_SIZE, show_default=True, help="share of rows held out")
@click.option("--seed", type=int, default=training.RANDOM_STATE, show_default=True,
              help="random state of the split and the solver")
@click.option("--save-holdout", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="write the held-out rows (text,label) to this CSV, for evaluate-scorer")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--irrelevant", "irrelevant_rows", type=click.Choice(["neutral", "drop"]), default="neutral",
              show_default=True, help="four-class files: the sentiment model reads `irrelevant` rows as neutral "
                                      "(as evaluate-scorer does) or leaves them out")
@click.option("--relevance-monitor", "relevance_monitor", type=click.IntRange(1, 2**31 - 1), default=None,
              help="four-class files: store the relevance model as this monitor's (disabled until enabled)")
def train_scorer(file: Path, name: str, test_size: float, seed: int, save_holdout: Path | None,
                 as_json: bool, irrelevant_rows: str, relevance_monitor: int | None) -> None:
    """Train a model on a labelled file, hold out a split, report it beside VADER, store it.

    A four-class file (an `irrelevant` class, e.g. the Twitter entity-sentiment data set) trains
    the sentiment model on the three sentiment classes (`irrelevant` rows read as neutral, or
    left out with --irrelevant drop) and a relevance model on irrelevant against the rest; both
    are reported ("relevance" beside "model" and "vader" with --json).
    """
    try:
        name = training.check_name(name)
    except training.TrainingError as exc:
        raise click.BadParameter(str(exc), param_hint="--name") from exc
    data = _read(file)
    if relevance_monitor is not None and db.session.get(Monitor, relevance_monitor) is None:
        raise click.BadParameter(f"no monitor {relevance_monitor}", param_hint="--relevance-monitor")
    extra = training.labelled_overrides(db.session)
    say = lambda message: click.echo(message, err=True)  # noqa: E731
    try:
        row, result = training.train_and_store(
            db.session, name, [(r.text, r.label) for r in data.rows
                                  if not (r.irrelevant and irrelevant_rows == "drop")], extra=extra,
            test_size=test_size, random_state=seed, progress=say)
        relevance_summary = _train_relevance(data, test_size, seed, relevance_monitor, say)
    except training.TrainingError as exc:
        raise click.ClickException(str(exc)) from exc
    if save_holdout:
        with save_holdout.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(result.test_rows)
    summary = {"name": row.name, "scorer": f"model:{row.name}", "version": row.version,
               "training_hash": row.training_hash, "n_train": row.n_train, "n_test": row.n_test,
               "classes": row.classes, "bad_rows": len(data.bad),
               "model": result.model_report, "vader": result.vader_report}
    if relevance_summary is not None:
        summary["relevance"] = relevance_summary
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"model:{row.name} version {row.version}: trained on {row.n_train} rows, "
               f"measured on {row.n_test} held-out rows (training data sha256 {row.training_hash[:12]}…)")
    click.echo(comparison_table(result.model_report, result.vader_report))
    if relevance_summary is not None:
        click.echo(relevance_table(relevance_summary))
    if data.bad:
        click.echo(f"{len(data.bad)} malformed rows skipped:", err=True)
        _bad_rows(data)


COMMANDS = (evaluate_scorer, train_scorer)
