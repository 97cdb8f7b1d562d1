"""Training a model on a labelled file made here, measuring it and VADER on the same held-out
split with known metrics, storing versions, the ensemble's fallback, and explanations."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.scoring.models import ScorerModel
from webapp.scoring import evaluation, scorers, sentiment, training
from webapp.scoring.scorers.model import score_from_probabilities
from webapp.scoring.scorers.vader import word_valences

from tests.scorers_data import EXPECTED_MODEL, EXPECTED_VADER, HELD_OUT, labelled_csv, template_label, train_model

LABELS = ["positive", "neutral", "negative"]


@pytest.fixture(scope="module")
def result():
    data = evaluation.read_labelled(labelled_csv())
    return training.train([(r.text, r.label) for r in data.rows], name="gadgets")


def test_model_and_vader_on_the_same_held_out_split(result):
    assert (result.n_train, result.n_test) == (300 - HELD_OUT, HELD_OUT)
    assert Counter(label for _, label in result.test_rows) == {"positive": 20, "neutral": 20, "negative": 20}
    model, vader = result.model_report, result.vader_report
    assert (model["n"], vader["n"]) == (HELD_OUT, HELD_OUT)
    for report, expected in ((model, EXPECTED_MODEL), (vader, EXPECTED_VADER)):
        assert report["accuracy"] == expected["accuracy"]
        assert report["macro_f1"] == expected["macro_f1"]
        assert report["confusion"]["matrix"] == expected["confusion"]
    assert model["accuracy"] > vader["accuracy"] + 0.3  # "sick", "killer", "insane" are praise here
    assert model["classes"]["positive"]["recall"] == 0.95 and vader["classes"]["positive"]["recall"] == 0.25
    # the model's only mistakes are the held-out rows whose labels were flipped on purpose
    texts = [text for text, _ in result.test_rows]
    predicted = scorers.ModelScorer("gadgets", 0, result.pipeline).score_batch(texts)
    wrong = {text for (text, label), s in zip(result.test_rows, predicted) if s.label != label}
    noisy = {text for text, label in result.test_rows if template_label(text) != label}
    assert len(noisy) == 6 and wrong == noisy


def test_vader_figures_match_a_direct_count_with_nltk(result):
    """The VADER side of the report, recounted without evaluation.py or scikit-learn."""
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer(lexicon_file=sentiment.LEXICON_RESOURCE)
    pairs = Counter((truth, sentiment.label_for(analyzer.polarity_scores(text)["compound"]))
                    for text, truth in result.test_rows)
    matrix = [[pairs[(t, p)] for p in LABELS] for t in LABELS]
    assert matrix == EXPECTED_VADER["confusion"]
    assert round(sum(matrix[i][i] for i in range(3)) / HELD_OUT, 4) == EXPECTED_VADER["accuracy"]


def test_training_is_deterministic_and_hashes_its_rows(result):
    data = evaluation.read_labelled(labelled_csv())
    again = training.train([(r.text, r.label) for r in data.rows], name="gadgets")
    assert again.training_hash == result.training_hash and len(result.training_hash) == 64
    assert again.test_rows == result.test_rows
    assert again.model_report == result.model_report
    other = evaluation.read_labelled(labelled_csv(seed=8))
    assert training.train([(r.text, r.label) for r in other.rows]).training_hash != result.training_hash


def test_extra_pairs_join_the_training_rows(result):
    data = evaluation.read_labelled(labelled_csv())
    extra = [("the Zephyr X2 is gnarly", "positive"), ("the Zephyr X2 is mid", "negative")]
    with_extra = training.train([(r.text, r.label) for r in data.rows], extra=extra)
    assert with_extra.n_train + with_extra.n_test == 302
    assert with_extra.settings["n_extra"] == 2
    assert with_extra.training_hash != result.training_hash


def test_training_refuses_what_it_cannot_learn():
    with pytest.raises(training.TrainingError, match="at least 10"):
        training.train([("good", "positive")] * 5)
    with pytest.raises(training.TrainingError, match="two different labels"):
        training.train([("good", "positive")] * 20)
    with pytest.raises(training.TrainingError, match="neutral"):
        training.train([("good", "positive")] * 10 + [("bad", "negative")] * 10 + [("a chair", "neutral")])
    for bad in ("", "has space", "-dash-first", "x" * 65, "semi;colon"):
        with pytest.raises(training.TrainingError):
            training.check_name(bad)
    assert training.check_name(" gadgets-v2.1_b ") == "gadgets-v2.1_b"


def test_store_bumps_the_version_and_the_cache_follows(app):
    first = train_model(app, "gadgets")
    with app.app_context():
        row = db.session.execute(select(ScorerModel)).scalar_one()
        assert (row.name, row.version, row.n_train, row.n_test) == ("gadgets", 1, 240, 60)
        assert row.training_hash == first.training_hash
        assert row.metrics["model"]["accuracy"] == EXPECTED_MODEL["accuracy"]
        assert row.metrics["vader"]["accuracy"] == EXPECTED_VADER["accuracy"]
        assert sorted(row.classes) == ["negative", "neutral", "positive"] and len(row.blob) > 1000
        v1 = scorers.get_scorer(db.session, "model:gadgets")
        assert v1.version == 1 and scorers.get_scorer(db.session, "model:gadgets") is v1
        db.session.remove()
    second = train_model(app, "gadgets", seed=8)
    with app.app_context():
        row = db.session.execute(select(ScorerModel)).scalar_one()
        assert row.version == 2 and row.training_hash == second.training_hash != first.training_hash
        v2 = scorers.get_scorer(db.session, "model:gadgets")
        assert v2.version == 2 and v2 is not v1
        assert scorers.names(db.session) == ["vader", "model:gadgets", "ensemble:gadgets"]


def test_unknown_scorers(app):
    with app.app_context():
        for name in ("model:nope", "ensemble:nope", "bert", "model:", "", None):
            with pytest.raises(scorers.UnknownScorer):
                scorers.get_scorer(db.session, name)
        assert scorers.check_name(db.session, " vader ") == "vader"


def test_model_scores_agree_with_the_label_rule(app):
    train_model(app)
    with app.app_context():
        model = scorers.get_scorer(db.session, "model:gadgets")
        texts = ["the new Zephyr X2 is sick", "Acme Rocket ships on tuesday", "Nimbus Pad is a waste of money",
                 "the weather", "sick", ""]
        for text, score in zip(texts, model.score_batch(texts)):
            probabilities = model.probabilities([text])[0]
            assert sentiment.label_for(score.compound) == score.label == max(probabilities, key=probabilities.get)
            assert score.pos == round(probabilities["positive"], 4)
            assert abs(score.pos + score.neu + score.neg - 1) < 1e-3
        assert [s.label for s in model.score_batch(texts[:3])] == ["positive", "neutral", "negative"]
    # the nearest compound in the predicted class's range
    assert score_from_probabilities({"positive": 0.2, "neutral": 0.7, "negative": 0.1}).compound == 0.0499
    assert score_from_probabilities({"positive": 0.4, "neutral": 0.35, "negative": 0.25}).compound == 0.15
    assert score_from_probabilities({"positive": 0.02, "neutral": 0.49, "negative": 0.49}).label == "neutral"
    assert score_from_probabilities({"positive": 0.51, "negative": 0.49}) == sentiment.Score(
        0.05, 0.51, 0.0, 0.49, "positive")


def test_ensemble_uses_the_model_when_sure_and_vader_otherwise(app):
    train_model(app)
    with app.app_context():
        model = scorers.get_scorer(db.session, "model:gadgets")
        ensemble = scorers.get_scorer(db.session, "ensemble:gadgets")
        vader = scorers.vader_scorer()
        sure, unsure = "honestly the new Kestrel 5 is sick", "what a lovely morning for a walk"
        p_sure, p_unsure = (max(p.values()) for p in model.probabilities([sure, unsure]))
        assert p_sure >= scorers.DEFAULT_THRESHOLD > p_unsure
        got = ensemble.score_batch([sure, unsure, sure])
        assert got[0] == got[2] == model.score_batch([sure])[0]
        assert got[0].label == "positive" and vader.score_batch([sure])[0].label == "negative"
        assert got[1] == vader.score_batch([unsure])[0]
        assert ensemble.confident([sure, unsure]) == [True, False]
        assert ensemble.explain(unsure) == vader.explain(unsure)
        assert ensemble.explain(sure) == model.explain(sure)


def test_vader_explanations_are_the_valences_it_summed():
    text = "The battery is great but the screen is sick and the support was not good"
    valences = word_valences(text)
    words = [w for w, _ in valences]
    assert words == ["great", "sick", "support", "good"]
    analyzer = sentiment.analyzer()
    assert dict(valences)["sick"] < 0 and dict(valences)["good"] < 0  # "not good": negation
    compound = analyzer.constants.normalize(sum(v for _, v in valences))
    assert abs(compound - sentiment.score_text(text).compound) < 1e-3
    plain = word_valences("sick")
    assert plain == [("sick", analyzer.lexicon["sick"])]
    assert scorers.vader_scorer().explain(text, top=2) == sorted(valences, key=lambda p: -abs(p[1]))[:2]
    assert word_valences("The shop opens at nine.") == []


def test_model_explanations_are_the_features_of_the_predicted_class(app):
    train_model(app)
    with app.app_context():
        model = scorers.get_scorer(db.session, "model:gadgets")
        features = model.explain("the new Zephyr X2 is sick", top=5)
        assert 0 < len(features) <= 5 and features[0][0] == "sick"
        assert all(w > 0 for _, w in features) and [w for _, w in features] == sorted((w for _, w in features), reverse=True)
        negative = dict(model.explain("Orbit Buds is a waste of money", top=20))
        assert "waste" in negative or "waste of" in negative
        assert any(name.startswith('chars "') for name in negative)
