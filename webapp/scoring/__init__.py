"""Scoring: VADER and the fast scorer, trained models, evaluation, training, lexicon adjustments, label overrides."""
