"""Relevance: editors' marks train a per-monitor model whose hold-out precision is shown before it
hides anything; enabled, it mutes what it predicts irrelevant at ingest; disabled, those come back.
Also `train-scorer` on a four-class (entity-sentiment) file: sentiment and relevance reported."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import ALL_SOURCES, Mention, Rollup
from webapp.scoring import evaluation, relevance
from webapp.scoring.models import RelevanceModel, ScorerModel

from tests.helpers import mention, new_monitor

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc)
SPAM = ["casino bonus spins win now", "free casino chips bonus today", "win big casino jackpot spins",
        "casino promo code bonus spins", "jackpot spins casino free bonus", "bonus casino spins for free",
        "huge casino jackpot win tonight", "free spins casino promo bonus", "casino win jackpot promo code",
        "spins bonus casino jackpot free", "casino chips free bonus promo", "jackpot casino bonus win spins"]
REAL = ["the new skateboard deck rides smoothly", "my board wheels wore out after a month",
        "customer support replaced my broken deck", "love the grip tape on this skateboard",
        "the trucks on this board feel loose", "shipping of my skateboard took two weeks",
        "this deck is light and strong", "bearings squeak on the new board", "great skateboard for beginners",
        "the board arrived with a scratched deck", "wheels are soft and quiet on the deck",
        "skateboard trucks are sturdy and smooth"]


def test_relevance_report_is_precision_and_recall_of_the_irrelevant_class():
    truth = ["irrelevant", "irrelevant", "relevant", "relevant", "irrelevant"]
    predicted = ["irrelevant", "relevant", "irrelevant", "relevant", "irrelevant"]
    report = relevance.relevance_report(truth, predicted)
    assert (report["precision"], report["recall"], report["n"]) == (round(2 / 3, 4), round(2 / 3, 4), 5)
    assert report["confusion"]["matrix"] == [[2, 1], [1, 1]]


def _ids(app, monitor_id):
    with app.app_context():
        found = {m.external_id: m.id for m in db.session.execute(
            select(Mention).where(Mention.monitor_id == monitor_id)).scalars()}
        db.session.remove()
    return found


def _total_count(app, monitor_id):
    with app.app_context():
        value = sum(r.count for r in db.session.execute(select(Rollup).where(
            Rollup.monitor_id == monitor_id, Rollup.source_id == ALL_SOURCES, Rollup.bucket == "1d")).scalars())
        db.session.remove()
    return value


@pytest.mark.both_databases
def test_marks_train_a_model_shown_before_it_hides_and_enabled_it_mutes_at_ingest(app, client, auth, drain):
    monitor_id, _ = new_monitor(app, name="Skate")
    base = f"/api/v1/monitors/{monitor_id}"
    items = [mention(i, text, published_at=T0.isoformat()) for i, text in enumerate(SPAM + REAL)]
    assert client.post(f"{base}/mentions", json=items, headers=auth).status_code == 202
    drain()
    ids = _ids(app, monitor_id)
    # too few marks: a clear 409
    refused = client.post(f"{base}/relevance/train", headers=auth)
    assert refused.status_code == 409 and "irrelevant" in refused.get_json()["detail"]
    for i in range(len(SPAM)):
        response = client.put(f"{base}/mentions/{ids[f'm{i}']}/relevance", json={"irrelevant": True}, headers=auth)
        assert response.status_code == 200, response.get_json()
    assert client.put(f"{base}/mentions/{2**63 + 1}/relevance", json={"irrelevant": True},
                      headers=auth).status_code == 404
    assert client.put(f"{base}/mentions/{ids['m0']}/relevance", json={"irrelevant": "yes"},
                      headers=auth).status_code == 422
    # enabling before training is refused: the figures come first
    assert client.put(f"{base}/relevance", json={"enabled": True}, headers=auth).status_code == 409
    trained = client.post(f"{base}/relevance/train", headers=auth)
    assert trained.status_code == 201, trained.get_json()
    status = trained.get_json()
    assert status["marked_irrelevant"] == len(SPAM)
    model = status["model"]
    assert model["enabled"] is False and model["n_test"] == 6
    assert model["metrics"]["precision"] == 1.0 and model["metrics"]["recall"] == 1.0
    assert sum(model["metrics"]["support"].values()) == model["n_test"]
    # not enabled: a new spam mention is stored and counted
    before = _total_count(app, monitor_id)
    client.post(f"{base}/mentions", json=[mention(100, "casino jackpot bonus spins free", published_at=T0.isoformat())],
                headers=auth)
    drain()
    assert _total_count(app, monitor_id) == before + 1
    enabled = client.put(f"{base}/relevance", json={"enabled": True}, headers=auth).get_json()
    assert enabled["model"]["enabled"] is True and enabled["muted"] == 0  # only ingest predicts
    client.post(f"{base}/mentions", json=[mention(101, "win casino bonus spins jackpot", published_at=T0.isoformat()),
                                          mention(102, "my skateboard deck is great", published_at=T0.isoformat())],
                headers=auth)
    drain()
    with app.app_context():
        new = {m.external_id: (m.muted, m.predicted_irrelevant) for m in db.session.execute(
            select(Mention).where(Mention.monitor_id == monitor_id, Mention.external_id.in_(["m101", "m102"]))).scalars()}
        db.session.remove()
    assert new == {"m101": (True, True), "m102": (False, False)}
    assert _total_count(app, monitor_id) == before + 2
    listed = client.get(f"{base}/mentions?muted=only", headers=auth).get_json()
    assert [i["external_id"] for i in listed["items"]] == ["m101"]
    disabled = client.put(f"{base}/relevance", json={"enabled": False}, headers=auth).get_json()
    assert disabled["unmuted"] == 1 and _total_count(app, monitor_id) == before + 3


ENTITY_ROWS = (
    [(i, "Skate", "Positive", t) for i, t in enumerate(["love this deck, wonderful ride", "great wheels, awesome",
                                                        "amazing board, so happy", "best skateboard ever, love it",
                                                        "fantastic grip, excellent", "superb trucks, great job"])]
    + [(10 + i, "Skate", "Negative", t) for i, t in enumerate(["terrible deck, awful", "worst wheels, hate them",
                                                              "broken board, horrible", "awful trucks, bad",
                                                              "hate this grip, terrible", "bad bearings, worst"])]
    + [(20 + i, "Skate", "Neutral", t) for i, t in enumerate(["the deck is eight inches", "wheels ship in a box",
                                                             "board comes in blue", "trucks are aluminium",
                                                             "grip tape is black", "bearings are size 608"])]
    + [(30 + i, "Skate", "Irrelevant", t) for i, t in enumerate(["casino bonus spins", "free casino chips",
                                                                "jackpot casino win", "casino promo code",
                                                                "spins casino free", "casino jackpot bonus",
                                                                "win casino spins", "casino chips promo"])]
)


def entity_file(path) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(ENTITY_ROWS)
    path.write_text(buffer.getvalue())


def test_a_headerless_four_class_file_is_read_with_its_irrelevant_class(tmp_path):
    path = tmp_path / "twitter_training.csv"
    entity_file(path)
    data = evaluation.read_labelled_path(path)
    assert data.headerless and data.four_class and not data.bad
    assert len(data.rows) == len(ENTITY_ROWS) and data.rows[0].line == 1
    assert sum(r.irrelevant for r in data.rows) == 8
    assert {r.label for r in data.rows if r.irrelevant} == {"neutral"}
    # a file with a header row is read as before
    assert not evaluation.read_labelled("text,label\nhello,positive\n").headerless


def test_train_scorer_on_a_four_class_file_reports_sentiment_and_relevance(app, runner, tmp_path):
    path = tmp_path / "twitter_training.csv"
    entity_file(path)
    monitor_id, _ = new_monitor(app, name="Entity")
    result = runner.invoke(args=["train-scorer", str(path), "--name", "entity", "--json", "--test-size", "0.3",
                                 "--relevance-monitor", str(monitor_id), "--irrelevant", "drop"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert {"model", "vader", "relevance", "name", "n_train", "n_test", "classes"} <= set(report)
    assert sorted(report["classes"]) == ["negative", "neutral", "positive"]
    assert report["n_train"] + report["n_test"] == 18  # the three sentiment classes only
    rel = report["relevance"]
    assert rel["n_train"] + rel["n_test"] == len(ENTITY_ROWS)
    assert rel["support"]["irrelevant"] >= 2 and 0 <= rel["precision"] <= 1 and 0 <= rel["recall"] <= 1
    assert rel["monitor_id"] == monitor_id and rel["version"] == 1
    with app.app_context():
        stored = db.session.get(RelevanceModel, monitor_id)
        assert stored.enabled is False and stored.metrics["precision"] == rel["precision"]
        assert db.session.execute(select(ScorerModel.classes).where(ScorerModel.name == "entity")).scalar() \
            == report["classes"]
        db.session.remove()
    plain = runner.invoke(args=["train-scorer", str(path), "--name", "entity2", "--test-size", "0.3"])
    assert plain.exit_code == 0, plain.output
    assert "trained on 18 rows, measured on 8 held-out" in plain.output  # irrelevant rows read as neutral by default
    assert "relevance: trained on" in plain.output and "not stored" in plain.output
    missing = runner.invoke(args=["train-scorer", str(path), "--name", "e3", "--relevance-monitor", "999999"])
    assert missing.exit_code != 0 and "no monitor" in missing.output


def test_the_worker_modules_do_not_import_sklearn():
    code = ("import sys; import webapp.ingest.store, webapp.ingest.pipeline, webapp.mentions.noise, "
            "webapp.scoring.relevance; assert 'sklearn' not in sys.modules, 'sklearn imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_file_with_too_few_irrelevant_rows_still_trains_its_sentiment_model(app, runner, tmp_path):
    path = tmp_path / "one_irrelevant.csv"
    rows = [r for r in ENTITY_ROWS if r[2] != "Irrelevant"] + [ENTITY_ROWS[-1]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue())
    result = runner.invoke(args=["train-scorer", str(path), "--name", "few", "--json", "--test-size", "0.3"])
    assert result.exit_code == 0, result.output
    report = json.loads([line for line in result.stdout.splitlines() if line.strip()][0])
    assert report["model"]["n"] == report["n_test"] and "error" in report["relevance"]
