"""Sentiment scoring with NLTK's VADER.

The lexicon is installed offline by `scripts/install_nltk_data.py` (run by `make`) into an NLTK
data folder; `nltk.download` never runs. The analyzer is built once per process, lazily.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
LEXICON_RESOURCE = "sentiment/vader_lexicon.zip/vader_lexicon/vader_lexicon.txt"

_lock = threading.Lock()
_analyzer = None


class LexiconMissing(RuntimeError):
    """The VADER lexicon is not installed where NLTK looks."""


@dataclass(frozen=True)
class Score:
    compound: float
    pos: float
    neu: float
    neg: float
    label: str

    def as_dict(self) -> dict:
        return asdict(self)


def label_for(compound: float) -> str:
    """The label of a compound score, with VADER's customary thresholds."""
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def configure(data_dirs: Iterable[str] = ()) -> None:
    """Put extra NLTK data folders first on NLTK's search path (idempotent)."""
    import nltk

    for folder in reversed([d for d in data_dirs if d]):
        if folder not in nltk.data.path:
            nltk.data.path.insert(0, folder)


def analyzer():
    """The process-wide VADER analyzer (thread-safe lazy construction)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                from nltk.sentiment.vader import SentimentIntensityAnalyzer

                try:
                    _analyzer = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
                except LookupError as exc:
                    raise LexiconMissing(
                        "The VADER lexicon is not installed. Run `make install` (or "
                        "`python scripts/install_nltk_data.py`) or set NLTK_DATA to the folder "
                        "that holds sentiment/vader_lexicon.zip."
                    ) from exc
    return _analyzer


def score_text(text: str) -> Score:
    raw = analyzer().polarity_scores(text)
    return Score(raw["compound"], raw["pos"], raw["neu"], raw["neg"], label_for(raw["compound"]))


def score_texts(texts: Sequence[str]) -> list[Score]:
    """Score a batch; identical texts (retweets, reposts) are scored once."""
    seen: dict[str, Score] = {}
    out = []
    for text in texts:
        score = seen.get(text)
        if score is None:
            score = seen[text] = score_text(text)
        out.append(score)
    return out
