"""`flask evaluate-scorer` and `flask train-scorer` as in CONTRACT.md (with --json: one JSON object)."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from webapp.core.extensions import db
from webapp.scoring.models import ScorerModel

from tests.scorers_data import EXPECTED_MODEL, EXPECTED_VADER, HELD_OUT, labelled_csv


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout  # exactly one JSON object on stdout
    return json.loads(lines[0])


def test_train_then_evaluate_the_same_held_out_split(app, runner, tmp_path):
    source = tmp_path / "gadgets.csv"
    source.write_text(labelled_csv())
    holdout = tmp_path / "holdout.csv"
    trained = _json(runner.invoke(args=["train-scorer", str(source), "--name", "gadgets", "--json",
                                        "--save-holdout", str(holdout)]))
    assert (trained["name"], trained["version"], trained["n_test"], trained["bad_rows"]) == ("gadgets", 1, HELD_OUT, 0)
    for side, expected in (("model", EXPECTED_MODEL), ("vader", EXPECTED_VADER)):
        assert trained[side]["accuracy"] == expected["accuracy"]
        assert trained[side]["macro_f1"] == expected["macro_f1"]
        assert trained[side]["confusion"]["matrix"] == expected["confusion"]
        assert set(trained[side]["classes"]) == {"positive", "neutral", "negative"}
    # evaluate-scorer on the saved hold-out gives the very figures training reported, for both scorers
    for scorer, side in (("model:gadgets", "model"), ("vader", "vader")):
        report = _json(runner.invoke(args=["evaluate-scorer", str(holdout), "--scorer", scorer, "--json"]))
        assert report["scorer"] == scorer and report["n"] == HELD_OUT and report["bad_rows"] == 0
        for key in ("accuracy", "macro_f1", "classes", "confusion"):
            assert report[key] == trained[side][key]
        assert report["pearson_r"] is None
    ensemble = _json(runner.invoke(args=["evaluate-scorer", str(holdout), "--scorer", "ensemble:gadgets", "--json"]))
    assert ensemble["n"] == HELD_OUT and ensemble["accuracy"] > EXPECTED_VADER["accuracy"]

    again = _json(runner.invoke(args=["train-scorer", str(source), "--name", "gadgets", "--json"]))
    assert again["version"] == 2 and again["training_hash"] == trained["training_hash"]
    with app.app_context():
        assert db.session.execute(select(ScorerModel.version)).scalar_one() == 2


def test_evaluate_reports_broken_rows(runner, tmp_path):
    path = tmp_path / "broken.tsv"
    path.write_text("text\tlabel\tscore\n"
                    "I love it\tpositive\t0.8\n"
                    "\tpositive\t0.1\n"
                    "awful service\tnegative\tnope\n"
                    "a chair\tneutral\n"
                    "so so\tmeh\t0\n"
                    "terrible\t\t-0.9\n")
    report = _json(runner.invoke(args=["evaluate-scorer", str(path), "--json"]))
    assert report["n"] == 2 and report["rows_read"] == 6 and report["bad_rows"] == 4
    assert report["bad"] == [
        {"line": 3, "reason": "empty text"},
        {"line": 4, "reason": "score 'nope' is not a number"},
        {"line": 5, "reason": "expected 3 fields, found 2"},
        {"line": 6, "reason": "unknown label 'meh'"},
    ]
    assert report["accuracy"] == 1.0 and report["pearson_r"] == 1.0 and report["pearson_n"] == 2
    table = runner.invoke(args=["evaluate-scorer", str(path)])
    assert table.exit_code == 0
    assert "accuracy   1.0000" in table.stdout and "(4 malformed rows)" in table.stdout
    assert "line 5: expected 3 fields, found 2" in table.stderr


def test_readable_tables(runner, tmp_path):
    source = tmp_path / "gadgets.csv"
    source.write_text(labelled_csv())
    result = runner.invoke(args=["train-scorer", str(source), "--name", "gadgets"])
    assert result.exit_code == 0, result.output
    assert "model:gadgets version 1" in result.stdout
    assert re.search(rf"^accuracy +{EXPECTED_MODEL['accuracy']:.4f} +{EXPECTED_VADER['accuracy']:.4f}$",
                     result.stdout, re.M)
    report = runner.invoke(args=["evaluate-scorer", str(source), "--scorer", "model:gadgets"])
    assert report.exit_code == 0
    assert "confusion (rows: truth, columns: predicted)" in report.stdout


def test_cli_errors(runner, tmp_path):
    good = tmp_path / "g.csv"
    good.write_text(labelled_csv(30))
    unknown = runner.invoke(args=["evaluate-scorer", str(good), "--scorer", "model:nope"])
    assert unknown.exit_code != 0 and "no trained model named 'nope'" in unknown.output
    headless = tmp_path / "h.csv"
    headless.write_text("1,positive,hello\n")
    result = runner.invoke(args=["evaluate-scorer", str(headless)])
    assert result.exit_code != 0 and "no text column" in result.output
    bad_name = runner.invoke(args=["train-scorer", str(good), "--name", "no spaces please"])
    assert bad_name.exit_code != 0 and "--name" in bad_name.output
    tiny = tmp_path / "t.csv"
    tiny.write_text("text,label\na,positive\nb,negative\n")
    too_few = runner.invoke(args=["train-scorer", str(tiny), "--name", "tiny"])
    assert too_few.exit_code != 0 and "at least 10" in too_few.output
