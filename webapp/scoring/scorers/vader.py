"""The default scorer: NLTK's VADER (`webapp.scoring.sentiment`), plus per-word explanations."""
from __future__ import annotations

from typing import Mapping, Sequence

from webapp.scoring import sentiment
from webapp.scoring.scorers.base import Explanation

NAME = "vader"


class VaderScorer:
    """VADER as a scorer; stateless, so one instance serves every caller.

    `overrides` ({word: valence}, e.g. a monitor's lexicon adjustments) patches the lexicon for
    this scorer's scores and explanations; None is stock VADER.
    """

    name = NAME
    kind = "vader"

    def __init__(self, overrides: Mapping[str, float] | None = None):
        self.overrides = dict(overrides) if overrides else None

    def score_batch(self, texts: Sequence[str]) -> list[sentiment.Score]:
        return sentiment.score_texts(list(texts), self.overrides)

    def explain(self, text: str, top: int = 10) -> Explanation:
        """The valence VADER gave each word of `text`, strongest first (words with none left out)."""
        ranked = sorted(word_valences(text, self.overrides), key=lambda pair: -abs(pair[1]))
        return ranked[:top]


def word_valences(text: str, overrides: Mapping[str, float] | None = None) -> Explanation:
    """Per-word valences as VADER's `polarity_scores` computes them, in text order.

    VADER's own tokens and per-word rules (lexicon valence, capitals, boosters and dampeners,
    negation, "least", idioms, "but"; see `vader_fast.FastVader.explain`), so the words shown
    are the ones whose valences VADER summed into the compound score, rounded to 4 places.
    Words without valence are left out.
    """
    return [(word, round(float(v), 4))
            for word, v in sentiment.fast_analyzer(overrides).explain(text) if v]
