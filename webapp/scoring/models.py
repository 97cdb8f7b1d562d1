"""Scoring's tables: trained scorer models (the fitted pipeline, pickled, its training data's hash
and its metrics) and per-monitor lexicon adjustments for the VADER scorer.

(Label overrides live on the mention itself: see `Mention.scored_label` in webapp/ingest/models.py.)
"""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow


class TrainedColumns:
    """The columns every stored trained pipeline has: its version, when, which data, how it measured."""

    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    training_hash = db.Column(db.String(64), nullable=False)
    n_train = db.Column(db.Integer, nullable=False)
    n_test = db.Column(db.Integer, nullable=False)
    metrics = db.Column(db.JSON, nullable=False, default=dict)


class ScorerModel(TrainedColumns, db.Model):
    """The current version of one trained model; retraining the same name replaces it and bumps `version`.

    `blob` holds the joblib-pickled scikit-learn pipeline so that workers on any machine load
    the same model from the database. `metrics` holds the hold-out reports of the model and of
    VADER on the same split (`{"model": {...}, "vader": {...}, ...}`).
    """

    __tablename__ = "scorer_models"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    classes = db.Column(db.JSON, nullable=False, default=list)
    blob = db.Column(db.LargeBinary, nullable=False)


# Valences in VADER's lexicon run from -4 (most negative) to +4 (most positive).
VALENCE_MIN, VALENCE_MAX = -4.0, 4.0


class LexiconAdjustment(db.Model):
    """One word's valence for one monitor, layered over VADER's lexicon for its new mentions.

    E.g. "sick" at +2.5 for a skate brand. The word is stored lower-case, as VADER looks words
    up. Adjustments apply when mentions are scored (ingest), not to stored ones.
    """

    __tablename__ = "lexicon_adjustments"
    __table_args__ = (db.UniqueConstraint("monitor_id", "word"),)

    id = db.Column(db.Integer, primary_key=True)
    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False)
    word = db.Column(db.String(64), nullable=False)
    valence = db.Column(db.Float, nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    created_by = db.relationship("User")


class RelevanceModel(TrainedColumns, db.Model):
    """A monitor's relevance model (irrelevant vs relevant), trained on its editors' marks.

    Stored like ScorerModel (the pickled pipeline, its training data's hash, its hold-out
    precision and recall in `metrics`); it hides mentions only once an editor sets `enabled`
    after seeing those figures (webapp/scoring/relevance.py).
    """

    __tablename__ = "relevance_models"

    monitor_id = db.Column(db.Integer, db.ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True)
    blob = db.Column(db.LargeBinary, nullable=False)
    enabled = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
