"""Scorers by name: `vader` (the default), `model:<name>` (a trained model) and `ensemble:<name>`.

Every scorer scores a batch of texts (`score_batch(texts) -> list[Score]`) and explains one text
(`explain(text) -> [(word or feature, weight)]`); see `base.Scorer`. Trained models live in the
`scorer_models` table and are cached per process by (database, name, version), so retraining a
model reaches every worker at its next batch. The pipeline scores each monitor's mentions with
the scorer the monitor names, its lexicon adjustments layered over VADER (`score_rows`).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Mapping, Sequence

from sqlalchemy import select

from webapp.scoring.models import LexiconAdjustment
from webapp.scoring.sentiment import Score
from webapp.scoring.scorers import model as _model
from webapp.scoring.scorers.base import Explanation, Scorer, UnknownScorer
from webapp.scoring.scorers.ensemble import DEFAULT_THRESHOLD, EnsembleScorer
from webapp.scoring.scorers.model import ModelScorer
from webapp.scoring.scorers.vader import VaderScorer

DEFAULT = "vader"
KINDS = ("vader", "model", "ensemble")
log = logging.getLogger(__name__)
_VADER = VaderScorer()

__all__ = [
    "DEFAULT", "DEFAULT_THRESHOLD", "EnsembleScorer", "Explanation", "ModelScorer", "Scorer",
    "UnknownScorer", "VaderScorer", "available", "check_name", "get_scorer", "layered", "names",
    "parse", "score_rows", "vader_scorer",
]


def vader_scorer() -> VaderScorer:
    return _VADER


def parse(name: str) -> tuple[str, str | None]:
    """(kind, model name) of a scorer name; raises UnknownScorer for anything else."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if name == DEFAULT:
        return "vader", None
    kind, sep, model_name = name.partition(":")
    if sep and kind in ("model", "ensemble") and model_name:
        return kind, model_name
    raise UnknownScorer(f"unknown scorer {name!r}: use vader, model:<name> or ensemble:<name>")


def get_scorer(session, name: str) -> Scorer:
    """The scorer called `name` (trained models come from the database through the cache)."""
    kind, model_name = parse(name)
    if kind == "vader":
        return _VADER
    trained = _model.load(session, model_name)
    return trained if kind == "model" else EnsembleScorer(trained, _VADER)


def _models(session):
    from webapp.scoring.models import ScorerModel

    return session.execute(
        select(ScorerModel.name, ScorerModel.version, ScorerModel.created_at, ScorerModel.n_train,
               ScorerModel.n_test, ScorerModel.metrics, ScorerModel.classes, ScorerModel.training_hash)
        .order_by(ScorerModel.name)
    ).all()


def names(session) -> list[str]:
    """Every scorer a monitor can choose: vader, then model:<name> and ensemble:<name> per model."""
    out = [DEFAULT]
    for row in _models(session):
        out += [f"model:{row.name}", f"ensemble:{row.name}"]
    return out


def check_name(session, name: str) -> str:
    """`name` stripped, if a scorer of that name exists; raises UnknownScorer otherwise."""
    kind, model_name = parse(name)
    if kind != "vader":
        from webapp.scoring.models import ScorerModel

        found = session.execute(select(ScorerModel.id).where(ScorerModel.name == model_name)).first()
        if found is None:
            raise UnknownScorer(f"no trained model named {model_name!r}")
    return name.strip()


def available(session) -> list[dict]:
    """The scorers with what is known about them (trained models: version, data and metrics)."""
    out = [{"name": DEFAULT, "kind": "vader", "description": "NLTK VADER (lexicon and rules)"}]
    for row in _models(session):
        metrics = row.metrics or {}
        out.append({
            "name": f"model:{row.name}", "kind": "model", "model": row.name, "version": row.version,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "training_hash": row.training_hash, "n_train": row.n_train, "n_test": row.n_test,
            "classes": row.classes, "metrics": metrics,
            "description": "TF-IDF words and character n-grams, logistic regression",
        })
        out.append({"name": f"ensemble:{row.name}", "kind": "ensemble", "model": row.name,
                    "version": row.version, "threshold": DEFAULT_THRESHOLD,
                    "description": f"model:{row.name} when its top class has p >= {DEFAULT_THRESHOLD}, "
                                   "else VADER"})
    return out


def layered(session, name: str, overrides: Mapping[str, float] | None = None) -> Scorer:
    """The scorer `name` with lexicon adjustments (`overrides`, {word: valence}) over its VADER.

    Trained models have no lexicon: `model:<name>` is itself, `ensemble:<name>` falls back to
    the adjusted VADER. A scorer that cannot be loaded (a model removed from the database, a
    broken blob) falls back to VADER, with the adjustments, and a warning: mentions keep flowing.
    """
    vader = VaderScorer(overrides) if overrides else _VADER
    try:
        base = get_scorer(session, name)
    except Exception:  # noqa: BLE001 - any failure to load a model must not stop ingest
        log.warning("scorer %r cannot be loaded; scoring with VADER instead", name, exc_info=True)
        return vader
    if not overrides:
        return base
    if isinstance(base, EnsembleScorer):
        return EnsembleScorer(base.model, vader, base.threshold)
    return vader if base.kind == "vader" else base


def score_rows(session, rows: Sequence[dict]) -> list[Score | None]:
    """Scores of `rows` (each with monitor_id, text and lang): each monitor's scorer, its
    adjustments applied; None for a row in a language that none of its monitor's scorers reads.

    The monitor's `scorer` reads English and `und` (insights/languages.py); its
    `language_scorers` ({"fr": "model:<name>"}) read the languages they name. Two queries per
    batch (the monitors' scorers, their lexicon adjustments); rows are grouped by (scorer,
    adjustments) and each group is scored as one batch with `layered`.
    """
    from webapp.insights.languages import vader_reads
    from webapp.monitors.models import Monitor

    rows = list(rows)
    if not rows:
        return []
    monitor_ids = {row["monitor_id"] for row in rows}
    chosen, by_lang = {}, {}
    for monitor_id, name, per_lang in session.execute(
            select(Monitor.id, Monitor.scorer, Monitor.language_scorers).where(Monitor.id.in_(monitor_ids))):
        chosen[monitor_id], by_lang[monitor_id] = name, per_lang if isinstance(per_lang, dict) else {}
    adjusted: dict[int, dict[str, float]] = defaultdict(dict)
    for monitor_id, word, valence in session.execute(
            select(LexiconAdjustment.monitor_id, LexiconAdjustment.word, LexiconAdjustment.valence)
            .where(LexiconAdjustment.monitor_id.in_(monitor_ids))):
        adjusted[monitor_id][word] = valence
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        monitor_id, lang = row["monitor_id"], row.get("lang") or "und"
        if vader_reads(lang):
            name = chosen.get(monitor_id) or DEFAULT
            overrides = tuple(sorted(adjusted.get(monitor_id, {}).items()))
        elif by_lang.get(monitor_id, {}).get(lang):
            name, overrides = by_lang[monitor_id][lang], ()
        else:
            continue
        groups[(name, overrides)].append(index)
    out: list[Score | None] = [None] * len(rows)
    for (name, overrides), indexes in groups.items():
        scorer = layered(session, name, dict(overrides))
        for index, score in zip(indexes, scorer.score_batch([rows[i]["text"] for i in indexes])):
            out[index] = score
    return out
