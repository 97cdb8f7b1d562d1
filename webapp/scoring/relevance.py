"""Per-monitor relevance: editors mark mentions irrelevant; a model learns it; enabled, it mutes.

Editors mark a mention irrelevant (or relevant) on the mentions page or through the API. With
enough marks, `train_for_monitor` trains the monitor's relevance model with the sentiment
training code (training.fit_split: the same TF-IDF + logistic regression pipeline and stratified
split), on irrelevant mentions against relevant ones (marked relevant, or unmarked and not
muted), and stores it with its precision and recall on the held-out split. The model hides
nothing until an editor, having seen those figures, enables it: from then on ingest records its
verdict (`Mention.predicted_irrelevant`) and mutes what it predicts irrelevant
(webapp/mentions/noise.py). Disabling unmutes those mentions again.

scikit-learn is imported only to train or when a monitor of the batch has a model enabled.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

from sqlalchemy import func, select, update

from webapp.core.types import utcnow
from webapp.ingest.models import Mention
from webapp.scoring import training
from webapp.scoring.models import RelevanceModel

IRRELEVANT, RELEVANT = "irrelevant", "relevant"
MIN_IRRELEVANT = 5
MIN_RELEVANT = 5
MAX_RELEVANT = 5000   # the newest relevant mentions that train the model (bounded work)
TEST_SIZE = 0.25
_cache: dict[tuple, object] = {}
_lock = threading.Lock()


class RelevanceError(ValueError):
    """The monitor cannot train or enable a relevance model (too few marks, no model)."""


@dataclass
class RelevanceResult:
    pipeline: object
    training_hash: str
    n_train: int
    n_test: int
    report: dict
    test_rows: list[tuple[str, str]] = field(default_factory=list)


def relevance_report(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    """Precision, recall and F1 of the `irrelevant` class, accuracy and the confusion (pure)."""
    tp = sum(t == IRRELEVANT and p == IRRELEVANT for t, p in zip(truth, predicted))
    fp = sum(t == RELEVANT and p == IRRELEVANT for t, p in zip(truth, predicted))
    fn = sum(t == IRRELEVANT and p == RELEVANT for t, p in zip(truth, predicted))
    tn = sum(t == RELEVANT and p == RELEVANT for t, p in zip(truth, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = len(truth)
    return {"n": n, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "accuracy": round((tp + tn) / n, 4) if n else None,
            "support": {IRRELEVANT: tp + fn, RELEVANT: fp + tn},
            "confusion": {"labels": [IRRELEVANT, RELEVANT], "matrix": [[tp, fn], [fp, tn]]}}


def train_relevance(pairs: Sequence[tuple[str, str]], test_size: float = TEST_SIZE,
                    random_state: int = training.RANDOM_STATE,
                    progress: Callable[[str], None] | None = None) -> RelevanceResult:
    """Fit irrelevant-vs-relevant on a stratified split of (text, label) pairs; measure the rest."""
    rows = [(t, l) for t, l in pairs if isinstance(t, str) and t.strip() and l in (IRRELEVANT, RELEVANT)]
    try:
        pipeline, train_rows, test_rows = training.fit_split(rows, test_size, random_state,
                                                             progress or (lambda _m: None))
    except training.TrainingError as exc:
        raise RelevanceError(str(exc)) from exc
    predicted = list(pipeline.predict([t for t, _ in test_rows])) if test_rows else []
    return RelevanceResult(pipeline, training.training_hash(rows), len(train_rows), len(test_rows),
                           relevance_report([l for _, l in test_rows], predicted), list(test_rows))


def marked_pairs(session, monitor_id: int) -> list[tuple[str, str]]:
    """(text, irrelevant|relevant) of the monitor's mentions, for training (oldest id first)."""
    irrelevant = session.execute(select(Mention.id, Mention.text).where(
        Mention.monitor_id == monitor_id, Mention.irrelevant.is_(True))).all()
    relevant = session.execute(select(Mention.id, Mention.text).where(
        Mention.monitor_id == monitor_id,
        (Mention.irrelevant.is_(False)) | (Mention.irrelevant.is_(None) & Mention.muted.is_(False)))
        .order_by(Mention.irrelevant.is_(None), Mention.id.desc()).limit(MAX_RELEVANT)).all()
    rows = [(i, t, IRRELEVANT) for i, t in irrelevant] + [(i, t, RELEVANT) for i, t in relevant]
    return [(t, label) for _, t, label in sorted(rows)]


def mark(session, monitor_id: int, mention_id: int, irrelevant: bool | None) -> dict:
    """Mark one mention irrelevant (True), relevant (False) or unmarked (None); commits."""
    done = session.execute(update(Mention).where(Mention.id == mention_id, Mention.monitor_id == monitor_id)
                           .values(irrelevant=irrelevant).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.rollback()
        raise LookupError(f"no mention {mention_id} in monitor {monitor_id}")
    session.commit()
    return {"id": mention_id, "irrelevant": irrelevant}


def train_for_monitor(session, monitor_id: int, random_state: int = training.RANDOM_STATE) -> RelevanceModel:
    """Train and store the monitor's relevance model from its marks; commits. Keeps `enabled`."""
    pairs = marked_pairs(session, monitor_id)
    n_irrelevant = sum(label == IRRELEVANT for _, label in pairs)
    if n_irrelevant < MIN_IRRELEVANT or len(pairs) - n_irrelevant < MIN_RELEVANT:
        raise RelevanceError(f"mark at least {MIN_IRRELEVANT} mentions irrelevant (marked: {n_irrelevant}) "
                             f"and keep at least {MIN_RELEVANT} relevant ones (found: {len(pairs) - n_irrelevant})")
    result = train_relevance(pairs, random_state=random_state)
    return store(session, monitor_id, result, {"n_irrelevant": n_irrelevant,
                                               "n_relevant": len(pairs) - n_irrelevant,
                                               "test_size": TEST_SIZE, "random_state": random_state})


def store(session, monitor_id: int, result: RelevanceResult, notes: dict) -> RelevanceModel:
    """Save `result` as the monitor's relevance model (the next version; `enabled` kept); commits."""
    from webapp.scoring.scorers.model import dumps

    row = session.get(RelevanceModel, monitor_id, with_for_update=True)
    if row is None:
        row = RelevanceModel(monitor_id=monitor_id, version=0, enabled=False)
        session.add(row)
    row.version = (row.version or 0) + 1
    row.created_at = utcnow()
    row.training_hash = result.training_hash
    row.n_train, row.n_test = result.n_train, result.n_test
    row.metrics = {**result.report, **notes}
    row.blob = dumps(result.pipeline)
    session.commit()
    return row


def is_enabled(session, monitor_id: int) -> bool:
    return bool(session.execute(select(RelevanceModel.enabled).where(
        RelevanceModel.monitor_id == monitor_id)).scalar())


def set_enabled(session, monitor_id: int, enabled: bool) -> dict:
    """Let the model mute what it predicts irrelevant at ingest, or stop it; commits once.

    Disabling unmutes the mentions the model muted (unless the mute list matches them).
    """
    from webapp.mentions.noise import service as noise

    row = session.get(RelevanceModel, monitor_id, with_for_update=True)
    if row is None:
        session.rollback()
        raise RelevanceError("train the relevance model first: its precision is shown before it hides anything")
    row.enabled = bool(enabled)
    session.flush()
    moved = noise.reapply(session, monitor_id, model_enabled=row.enabled)
    session.commit()
    return {"enabled": row.enabled, **moved}


def status(session, monitor_id: int) -> dict:
    """Marks so far, and the model's version, hold-out figures and whether it is enabled."""
    marks = dict(session.execute(select(Mention.irrelevant, func.count()).where(
        Mention.monitor_id == monitor_id, Mention.irrelevant.is_not(None)).group_by(Mention.irrelevant)).all())
    row = session.get(RelevanceModel, monitor_id)
    model = None if row is None else {
        "version": row.version, "created_at": row.created_at.isoformat(), "n_train": row.n_train,
        "n_test": row.n_test, "metrics": row.metrics, "enabled": row.enabled}
    return {"marked_irrelevant": marks.get(True, 0), "marked_relevant": marks.get(False, 0),
            "min_irrelevant": MIN_IRRELEVANT, "model": model}


def _pipeline(session, row) -> object:
    """The unpickled pipeline of a stored model, cached per process by (database, monitor, version)."""
    from webapp.scoring.scorers.model import loads

    key = (str(session.get_bind().url), row.monitor_id, row.version)
    with _lock:
        found = _cache.get(key)
    if found is None:
        blob = session.execute(select(RelevanceModel.blob).where(RelevanceModel.monitor_id == row.monitor_id)).scalar()
        found = loads(blob)
        with _lock:
            for stale in [k for k in _cache if k[:2] == key[:2]]:
                del _cache[stale]
            _cache[key] = found
    return found


def predict_rows(session, batch: list[dict]) -> list[bool | None]:
    """Per row: the enabled relevance model's verdict (True irrelevant), or None without one."""
    ids = {row["monitor_id"] for row in batch}
    enabled = session.execute(select(RelevanceModel.monitor_id, RelevanceModel.version).where(
        RelevanceModel.monitor_id.in_(ids), RelevanceModel.enabled.is_(True))).all()
    out: list[bool | None] = [None] * len(batch)
    for row in enabled:
        pipeline = _pipeline(session, row)
        at = [i for i, r in enumerate(batch) if r["monitor_id"] == row.monitor_id]
        for i, label in zip(at, pipeline.predict([batch[i]["text"] for i in at])):
            out[i] = label == IRRELEVANT
    return out
