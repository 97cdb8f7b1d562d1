"""Sentiment scoring with NLTK's VADER.

The lexicon is installed offline by `scripts/install_nltk_data.py` (run by `make`) into an NLTK
data folder; `nltk.download` never runs. The analyzer is built once per process, lazily.

Scores come from `vader_fast.FastVader`, which returns exactly what NLTK's stock
`SentimentIntensityAnalyzer.polarity_scores` returns (tests/test_vader_fast.py) several times
faster, and caches repeated texts. `analyzer()` is still NLTK's own analyzer (the lexicon source
and the reference); `fast_analyzer(overrides)` is the fast one, one per set of per-monitor
lexicon adjustments.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping, Sequence

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
LEXICON_RESOURCE = "sentiment/vader_lexicon.zip/vader_lexicon/vader_lexicon.txt"

#: Fast analyzers kept per distinct set of lexicon overrides (the oldest dropped first).
MAX_OVERRIDE_ANALYZERS = 64
#: Texts each analyzer remembers (the default one; override analyzers keep fewer).
TEXT_CACHE = 20_000
OVERRIDE_TEXT_CACHE = 2_000

_lock = threading.Lock()
_analyzer = None
_data_dirs: list[str] = []  # extra NLTK data folders (configure), searched first
_fast: OrderedDict = OrderedDict()  # frozenset(overrides.items()) -> FastVader


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
    """Search these NLTK data folders first (idempotent). NLTK itself is not imported here: its
    search path gets them when the stock analyzer is first built (see services/vader_data.py)."""
    for folder in reversed([d for d in data_dirs if d]):
        if folder not in _data_dirs:
            _data_dirs.insert(0, folder)
    if "nltk" in sys.modules:
        _nltk_search_path()


def _nltk_search_path() -> None:
    import nltk.data

    for folder in reversed(_data_dirs):
        if folder not in nltk.data.path:
            nltk.data.path.insert(0, folder)


def base_lexicon() -> dict[str, float]:
    """VADER's lexicon, read from NLTK's data folder without importing NLTK when possible."""
    from webapp.scoring import vader_data

    found = vader_data.read_lexicon(vader_data.data_folders(_data_dirs))
    return found if found is not None else analyzer().lexicon


def analyzer():
    """The process-wide VADER analyzer (thread-safe lazy construction)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                from nltk.sentiment.vader import SentimentIntensityAnalyzer

                _nltk_search_path()

                try:
                    _analyzer = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
                except LookupError as exc:
                    raise LexiconMissing(
                        "The VADER lexicon is not installed. Run `make install` (or "
                        "`python scripts/install_nltk_data.py`) or set NLTK_DATA to the folder "
                        "that holds sentiment/vader_lexicon.zip."
                    ) from exc
    return _analyzer


def _overrides_key(overrides: Mapping[str, float] | None) -> frozenset:
    """Overrides as a hashable set, words lower-cased and stripped (a later spelling wins)."""
    if not overrides:
        return frozenset()
    return frozenset({str(word).strip().lower(): float(valence)
                      for word, valence in overrides.items()}.items())


def fast_analyzer(overrides: Mapping[str, float] | None = None):
    """The process-wide `vader_fast.FastVader` for these lexicon overrides ({word: valence}).

    One analyzer per distinct set of overrides (words compared lower-cased and stripped), built
    on first use from NLTK's lexicon and kept (up to MAX_OVERRIDE_ANALYZERS sets, the oldest
    dropped first), each with its own cache of scored texts. Thread-safe.
    """
    key = _overrides_key(overrides)
    fast = _fast.get(key)
    if fast is not None:
        return fast
    from webapp.scoring.vader_fast import FastVader

    lexicon = base_lexicon()
    with _lock:
        fast = _fast.get(key)
        if fast is None:
            fast = FastVader(lexicon, dict(key), cache_size=OVERRIDE_TEXT_CACHE if key else TEXT_CACHE)
            _fast[key] = fast
            while len(_fast) > MAX_OVERRIDE_ANALYZERS + 1:
                oldest = next(k for k in _fast if k)  # never drop the analyzer without overrides
                del _fast[oldest]
    return fast


def clear_caches() -> None:
    """Forget every fast analyzer's scored texts (benchmarks measure cold runs with this)."""
    for fast in list(_fast.values()):
        fast.cache_clear()


def score_text(text: str, overrides: Mapping[str, float] | None = None) -> Score:
    """VADER's score of `text` (identical to NLTK's `polarity_scores`), with its label.

    `overrides` ({word: valence}) patches the lexicon, e.g. {"sick": 2.0} for a monitor whose
    audience means it as praise.
    """
    compound, pos, neu, neg = fast_analyzer(overrides).scores(text)
    return Score(compound, pos, neu, neg, label_for(compound))


def score_texts(texts: Sequence[str], overrides: Mapping[str, float] | None = None) -> list[Score]:
    """Score a batch; identical texts (retweets, reposts) are scored once (the same Score)."""
    scores = fast_analyzer(overrides).scores
    seen: dict[str, Score] = {}
    out = []
    for text in texts:
        score = seen.get(text)
        if score is None:
            compound, pos, neu, neg = scores(text)
            score = seen[text] = Score(compound, pos, neu, neg, label_for(compound))
        out.append(score)
    return out
