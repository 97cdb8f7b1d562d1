"""Trained models as scorers: a scikit-learn pipeline stored in the database, cached per process.

A model's class probabilities become a `Score`: pos / neu / neg are p(positive), p(neutral),
p(negative) (0 for a class the model was not trained on), the label is the most probable class,
and compound is p(positive) - p(negative) moved, when needed, into the range that the usual
rule gives that label (>= 0.05 positive, <= -0.05 negative, neutral in between), so compound
and label agree for trained models exactly as they do for VADER.

The pipeline is pickled with joblib into the `scorer_models` row, so that workers on other
machines load the very model that was trained. Pickles execute code when loaded: only
Sentimon itself writes that column (editors train through the app), never user uploads.
"""
from __future__ import annotations

import io
import threading
from typing import Sequence

from sqlalchemy import select

from webapp.scoring.sentiment import NEGATIVE_AT, POSITIVE_AT, Score
from webapp.scoring.scorers.base import Explanation, UnknownScorer

_cache: dict[tuple, "ModelScorer"] = {}
_lock = threading.Lock()


def dumps(pipeline) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def loads(blob: bytes):
    import joblib

    return joblib.load(io.BytesIO(blob))


# The compound of a neutral prediction stays strictly inside (-0.05, 0.05).
NEUTRAL_BOUND = 0.0499


def predicted_label(probabilities: dict[str, float]) -> str:
    """The most probable class (ties go to the first of positive, neutral, negative)."""
    order = [c for c in ("positive", "neutral", "negative") if c in probabilities]
    return max(order, key=lambda c: probabilities[c])


def score_from_probabilities(probabilities: dict[str, float]) -> Score:
    """A Score whose label is the predicted class and whose compound agrees with it.

    compound is p(positive) - p(negative), moved to the nearest value that the label rule
    gives the predicted class (>= 0.05 positive, <= -0.05 negative, in between neutral), so
    `label_for(compound) == label` holds for trained models as it does for VADER.
    """
    p_pos, p_neu, p_neg = (probabilities.get(c, 0.0) for c in ("positive", "neutral", "negative"))
    label = predicted_label(probabilities)
    compound = p_pos - p_neg
    if label == "positive":
        compound = max(compound, POSITIVE_AT)
    elif label == "negative":
        compound = min(compound, NEGATIVE_AT)
    else:
        compound = min(max(compound, -NEUTRAL_BOUND), NEUTRAL_BOUND)
    compound = round(compound, 4)
    return Score(compound, round(p_pos, 4), round(p_neu, 4), round(p_neg, 4), label)


class ModelScorer:
    """A fitted text-classification pipeline (classes among positive / neutral / negative)."""

    kind = "model"

    def __init__(self, model_name: str, version: int, pipeline):
        self.model_name = model_name
        self.name = f"model:{model_name}"
        self.version = version
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self._feature_names = None

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Class probabilities per text, in input order; identical texts are computed once."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return []
        rows = self.pipeline.predict_proba(unique)
        by_text = {t: {c: float(p) for c, p in zip(self.classes, row)} for t, row in zip(unique, rows)}
        return [by_text[t] for t in texts]

    def score_batch(self, texts: Sequence[str]) -> list[Score]:
        return [score_from_probabilities(p) for p in self.probabilities(list(texts))]

    def predicted_class(self, text: str) -> str:
        """The class a text is labelled with: the most probable one."""
        return predicted_label(self.probabilities([text])[0])

    def explain(self, text: str, top: int = 10) -> Explanation:
        """The features of `text` that weigh most towards its predicted class (tf-idf x weight)."""
        import numpy as np

        cls = self.predicted_class(text)
        clf = self.pipeline[-1]
        coef = clf.coef_
        k = self.classes.index(cls)
        weights = (coef[0] if k == 1 else -coef[0]) if coef.shape[0] == 1 else coef[k]
        row = self.pipeline[:-1].transform([text]).tocsr()
        contributions = row.data * weights[row.indices]
        order = np.argsort(-contributions)[:top]
        names = self.feature_names()
        return [(names[row.indices[i]], round(float(contributions[i]), 4))
                for i in order if contributions[i] > 0]

    def feature_names(self) -> list[str]:
        """Readable feature names: word n-grams as they are, character n-grams quoted."""
        if self._feature_names is None:
            raw = self.pipeline[:-1].get_feature_names_out()
            self._feature_names = [_readable(str(n)) for n in raw]
        return self._feature_names


def _readable(feature: str) -> str:
    group, _, gram = feature.partition("__")
    if not gram:
        return feature
    return gram if group == "words" else f'chars "{gram}"'


def load(session, name: str) -> ModelScorer:
    """The newest version of trained model `name`, cached per process by (database, name, version)."""
    from webapp.scoring.models import ScorerModel

    for _ in range(3):  # a retrain between the two queries replaces the row: look again
        head = session.execute(
            select(ScorerModel.version, ScorerModel.created_at).where(ScorerModel.name == name)
        ).first()
        if head is None:
            raise UnknownScorer(f"no trained model named {name!r}")
        key = (str(session.get_bind().url), name, head.version, head.created_at)
        found = _cache.get(key)
        if found is not None:
            return found
        blob = session.execute(
            select(ScorerModel.blob).where(ScorerModel.name == name, ScorerModel.version == head.version)
        ).scalar_one_or_none()
        if blob is None:
            continue
        scorer = ModelScorer(name, head.version, loads(blob))
        with _lock:
            for stale in [k for k in _cache if k[:2] == key[:2]]:
                del _cache[stale]
            _cache[key] = scorer
        return scorer
    raise UnknownScorer(f"trained model {name!r} keeps changing; try again")
