"""Train a text classifier on labelled rows, measure it beside VADER on a hold-out split, store it.

The model is a scikit-learn Pipeline: a FeatureUnion of TF-IDF word 1-2-grams and character
2-5-grams (`char_wb`, robust to spelling, hashtags and product names) feeding a
LogisticRegression with balanced class weights. Everything is deterministic for a given
`random_state`: the stratified split, the features and the solver. The fitted pipeline is
stored with its version, the SHA-256 of the normalised training rows and the metrics of the
model and of VADER on the same held-out rows.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from sqlalchemy import select

from webapp.scoring.models import ScorerModel
from webapp.core.types import utcnow
from webapp.scoring import evaluation
from webapp.scoring.scorers import ModelScorer, vader_scorer
from webapp.scoring.scorers.model import dumps

DEFAULT_TEST_SIZE = 0.2
RANDOM_STATE = 0
MIN_ROWS = 10
MIN_PER_CLASS = 2
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class TrainingError(ValueError):
    """The rows cannot train a model (too few, one class only, a bad name...)."""


@dataclass
class TrainingResult:
    pipeline: object
    classes: list[str]
    training_hash: str
    n_train: int
    n_test: int
    model_report: dict
    vader_report: dict
    test_rows: list[tuple[str, str]] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        """What is stored with the model and printed by `train-scorer --json`."""
        return {"model": self.model_report, "vader": self.vader_report, **self.settings}


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_PATTERN.fullmatch(name):
        raise TrainingError("a model name is 1 to 64 letters, digits, '.', '_' or '-', starting with "
                            "a letter or digit")
    return name


def build_pipeline(random_state: int = RANDOM_STATE):
    """TF-IDF words (1-2) + char_wb (2-5) n-grams -> logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=200_000)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                  max_features=300_000)),
    ])
    classifier = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000, random_state=random_state)
    return Pipeline([("features", features), ("classifier", classifier)])


def training_hash(pairs: Sequence[tuple[str, str]]) -> str:
    """SHA-256 of the normalised (text, label) rows in training order: which data made the model."""
    digest = hashlib.sha256()
    for text, label in pairs:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x1f")
        digest.update(label.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def labelled_overrides(session, monitor_id: int | None = None) -> list[tuple[str, str]]:
    """Hook: (text, label) pairs from label overrides made on mentions.

    Mentions have no override column or table yet, so there is nothing to return. When one
    exists, select (Mention.text, override label) here, optionally for one monitor, and pass
    the result as `extra` to `train`: the CLI and the train page already do.
    """
    return []


def _check(pairs: Sequence[tuple[str, str]], test_size: float) -> None:
    if not 0 < test_size < 1:
        raise TrainingError("the test size is a fraction between 0 and 1")
    if len(pairs) < MIN_ROWS:
        raise TrainingError(f"at least {MIN_ROWS} labelled rows are needed, got {len(pairs)}")
    counts: dict[str, int] = {}
    for _, label in pairs:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        raise TrainingError("the rows must hold at least two different labels")
    small = sorted(label for label, n in counts.items() if n < MIN_PER_CLASS)
    if small:
        raise TrainingError(f"each label needs at least {MIN_PER_CLASS} rows for a stratified split: "
                            f"{', '.join(small)}")
    n_test = round(len(pairs) * test_size)
    if n_test < len(counts) or len(pairs) - n_test < len(counts):
        raise TrainingError("the split leaves too few rows on one side for every label: "
                            "use more rows or another test size")


def fit_split(rows: Sequence[tuple[str, str]], test_size: float, random_state: int,
              say: Callable[[str], None]) -> tuple[object, list, list]:
    """Check `rows`, split them (stratified), fit the pipeline on one side: (pipeline, train, test).

    Shared by the sentiment model (`train`) and the per-monitor relevance model
    (scoring/relevance.py), whatever their classes.
    """
    from sklearn.model_selection import train_test_split

    _check(rows, test_size)
    train_rows, test_rows = train_test_split(
        list(rows), test_size=test_size, random_state=random_state, stratify=[l for _, l in rows])
    say(f"training on {len(train_rows)} rows")
    pipeline = build_pipeline(random_state)
    pipeline.fit([t for t, _ in train_rows], [l for _, l in train_rows])
    say(f"measuring on {len(test_rows)} held-out rows")
    return pipeline, train_rows, test_rows


def train(pairs: Iterable[tuple[str, str]], *, extra: Iterable[tuple[str, str]] = (),
          test_size: float = DEFAULT_TEST_SIZE, random_state: int = RANDOM_STATE,
          name: str = "new", progress: Callable[[str], None] | None = None) -> TrainingResult:
    """Fit a model on a stratified (1 - test_size) share of `pairs` + `extra`; report on the rest.

    `pairs` and `extra` are (text, label) with labels among positive / neutral / negative;
    `extra` is where label overrides made on mentions join the file's rows.
    """
    extra = list(extra)
    rows = [(t, l) for t, l in [*pairs, *extra] if isinstance(t, str) and t.strip() and l in evaluation.LABELS]
    say = progress or (lambda _message: None)
    pipeline, train_rows, test_rows = fit_split(rows, test_size, random_state, say)
    truth, texts = [l for _, l in test_rows], [t for t, _ in test_rows]
    model = ModelScorer(name, 0, pipeline)
    model_report = {"scorer": f"model:{name}", **evaluation.evaluate(truth, model.score_batch(texts))}
    vader_report = {"scorer": "vader", **evaluation.evaluate(truth, vader_scorer().score_batch(texts))}
    return TrainingResult(
        pipeline=pipeline, classes=list(model.classes), training_hash=training_hash(rows),
        n_train=len(train_rows), n_test=len(test_rows), model_report=model_report,
        vader_report=vader_report, test_rows=list(test_rows),
        settings={"test_size": test_size, "random_state": random_state, "n_extra": len(extra)},
    )


def store(session, name: str, result: TrainingResult) -> ScorerModel:
    """Save `result` as model `name`: a new row, or the next version of an existing one. Commits."""
    from sqlalchemy.exc import IntegrityError

    name = check_name(name)
    blob = dumps(result.pipeline)
    for attempt in range(2):  # two first trainings of one name at once: the loser becomes version 2
        row = session.execute(select(ScorerModel).where(ScorerModel.name == name)).scalar_one_or_none()
        if row is None:
            row = ScorerModel(name=name, version=0)
            session.add(row)
        row.version = (row.version or 0) + 1
        row.created_at = utcnow()
        row.training_hash = result.training_hash
        row.n_train, row.n_test = result.n_train, result.n_test
        row.metrics = result.metrics()
        row.classes = result.classes
        row.blob = blob
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            if attempt:
                raise
            continue
        return row
    raise AssertionError("unreachable")


def train_and_store(session, name: str, pairs: Iterable[tuple[str, str]], **options) -> tuple[ScorerModel, TrainingResult]:
    """`train` then `store` under `name` (checked first, before any work)."""
    name = check_name(name)
    result = train(pairs, name=name, **options)
    return store(session, name, result), result
