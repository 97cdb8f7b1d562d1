"""The default scorer: NLTK's VADER (`webapp.services.sentiment`), plus per-word explanations."""
from __future__ import annotations

from typing import Sequence

from .. import sentiment
from .base import Explanation

NAME = "vader"


class VaderScorer:
    """VADER as a scorer; stateless, so one instance serves every caller."""

    name = NAME
    kind = "vader"

    def score_batch(self, texts: Sequence[str]) -> list[sentiment.Score]:
        return sentiment.score_texts(list(texts))

    def explain(self, text: str, top: int = 10) -> Explanation:
        """The valence VADER gave each word of `text`, strongest first (words with none left out)."""
        ranked = sorted(word_valences(text), key=lambda pair: -abs(pair[1]))
        return ranked[:top]


def word_valences(text: str) -> Explanation:
    """Per-word valences as VADER's `polarity_scores` computes them, in text order.

    Uses the analyzer's own tokenisation (`SentiText`) and its own per-word rules (lexicon
    valence, capitals, boosters and dampeners, negation, "but"), so the words shown are the
    ones whose valences VADER summed into the compound score. Words without valence are left out.
    """
    from nltk.sentiment.vader import SentiText

    analyzer = sentiment.analyzer()
    constants = analyzer.constants
    sentitext = SentiText(text, constants.PUNC_LIST, constants.REGEX_REMOVE_PUNCTUATION)
    words = sentitext.words_and_emoticons
    first_index: dict[str, int] = {}
    for index, word in enumerate(words):
        first_index.setdefault(word, index)
    valences: list[float] = []
    for word in words:
        i = first_index[word]
        lower = word.lower()
        if (i < len(words) - 1 and lower == "kind" and words[i + 1].lower() == "of") \
                or lower in constants.BOOSTER_DICT:
            valences.append(0)
            continue
        valences = analyzer.sentiment_valence(0, sentitext, word, i, valences)
    valences = analyzer._but_check(words, valences)  # the analyzer's own "but" rule
    return [(word, round(float(v), 4)) for word, v in zip(words, valences) if v]
