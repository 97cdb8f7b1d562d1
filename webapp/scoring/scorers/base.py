"""What every scorer offers: score a batch of texts, explain one text.

A scorer is any object with `name`, `score_batch(texts) -> list[Score]` (the `Score` of
`webapp.scoring.sentiment`, in input order) and `explain(text, top) -> list[(feature, weight)]`.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from webapp.scoring.sentiment import Score

Explanation = list[tuple[str, float]]


class Scorer(Protocol):
    name: str

    def score_batch(self, texts: Sequence[str]) -> list[Score]:
        ...

    def explain(self, text: str, top: int = 10) -> Explanation:
        ...


class UnknownScorer(LookupError):
    """No scorer has that name (or its trained model is not in the database)."""
