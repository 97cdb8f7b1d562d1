"""Tests of webapp/scoring/: VADER, the fast scorer, trained scorers, lexicon, overrides."""
