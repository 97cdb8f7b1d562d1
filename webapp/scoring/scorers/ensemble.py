"""A trained model that defers to VADER when it is unsure.

For each text the model's top-class probability decides: at or above the threshold the model's
score is used, below it VADER's. Texts that fall back are scored by VADER in one batch.
"""
from __future__ import annotations

from typing import Sequence

from webapp.scoring.sentiment import Score
from webapp.scoring.scorers.base import Explanation
from webapp.scoring.scorers.model import ModelScorer, score_from_probabilities
from webapp.scoring.scorers.vader import VaderScorer

DEFAULT_THRESHOLD = 0.6


class EnsembleScorer:
    kind = "ensemble"

    def __init__(self, model: ModelScorer, vader: VaderScorer, threshold: float = DEFAULT_THRESHOLD):
        self.model = model
        self.vader = vader
        self.threshold = threshold
        self.name = f"ensemble:{model.model_name}"

    def confident(self, texts: Sequence[str]) -> list[bool]:
        """Whether the model is sure enough of each text to be trusted with it."""
        return [max(p.values()) >= self.threshold for p in self.model.probabilities(list(texts))]

    def score_batch(self, texts: Sequence[str]) -> list[Score]:
        texts = list(texts)
        probabilities = self.model.probabilities(texts)
        sure = [max(p.values()) >= self.threshold for p in probabilities]
        fallback = iter(self.vader.score_batch([t for t, ok in zip(texts, sure) if not ok]))
        return [score_from_probabilities(p) if ok else next(fallback) for p, ok in zip(probabilities, sure)]

    def explain(self, text: str, top: int = 10) -> Explanation:
        """The explanation of whichever scorer decides this text."""
        return (self.model if self.confident([text])[0] else self.vader).explain(text, top)
