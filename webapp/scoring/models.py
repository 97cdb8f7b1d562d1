"""Trained scorer models: the fitted pipeline (pickled), its training data's hash and its metrics."""
from __future__ import annotations

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow


class ScorerModel(db.Model):
    """The current version of one trained model; retraining the same name replaces it and bumps `version`.

    `blob` holds the joblib-pickled scikit-learn pipeline so that workers on any machine load
    the same model from the database. `metrics` holds the hold-out reports of the model and of
    VADER on the same split (`{"model": {...}, "vader": {...}, ...}`).
    """

    __tablename__ = "scorer_models"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    training_hash = db.Column(db.String(64), nullable=False)
    n_train = db.Column(db.Integer, nullable=False)
    n_test = db.Column(db.Integer, nullable=False)
    metrics = db.Column(db.JSON, nullable=False, default=dict)
    classes = db.Column(db.JSON, nullable=False, default=list)
    blob = db.Column(db.LargeBinary, nullable=False)
