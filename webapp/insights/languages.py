"""Offline language detection, and which scorer reads which language.

The detector is py3langid (a modernised langid.py): its naive Bayes model over byte n-grams,
97 languages, ships inside the PyPI package; nothing is downloaded. It is loaded once per
process on first use (about 2.5 s); its cost grows with the text's bytes, hence step 2,
DETECT_CHARS and READ_CHARS below. `detect` runs py3langid's own classifier on one text;
`detect_many` (ingest's path) runs the same model over a whole batch as numpy array work
(insights/ngram_batch.py) and gives the same answers.

The rule reads a text's first READ_CHARS characters (a long text is judged by its beginning).

Short or ambiguous texts follow one rule (`decide`), measured in docs/insights-authors-languages.md:

1. fewer than MIN_LETTERS letters once URLs, @handles and digits are removed -> `und`;
2. text whose letters are all ASCII, of at least MIN_WORDS words of which at least 2, and at least a fifth, are
   English function words found in no other detected language ("the", "and", "you", "this",
   ...) -> `en` without running the model (most mentions: the detector's cost is per byte);
   otherwise the first DETECT_CHARS characters go to the detector;
3. the detector's top language is English -> `en`;
4. another language with probability >= MIN_CONFIDENCE, in at least MIN_WORDS words (in
   Japanese, Chinese and Thai, written without spaces, each letter counts as a word) -> that
   language;
5. anything else -> `und`.

Sentiment: VADER reads English, and `und` too (short texts: "great!!", "lol", emoji, for which
VADER's lexicon and punctuation rules are the best guess we have). A mention in another language
is stored unscored unless the monitor names a scorer for that language (`language_scorers`).
"""
from __future__ import annotations

import re
import threading
from array import array
from typing import Sequence

UNDETERMINED = "und"
ENGLISH = "en"
VADER_LANGS = frozenset({ENGLISH, UNDETERMINED})
MIN_LETTERS = 10
MIN_WORDS = 3
MIN_CONFIDENCE = 0.8
DETECT_CHARS = 200  # the detector walks bytes in Python: a long text is judged by its beginning
ENGLISH_MARKERS = frozenset(
    "the and you this that with for are have has your they their what just not but from been would "
    "could should will can't don't it's i'm my me our we was were which about there".split())
_MARKER_BYTES = frozenset(word.encode() for word in ENGLISH_MARKERS)
READ_CHARS = 400  # the rule reads a text's beginning (measured: no corpus text changes language)
MAX_FIGURE = 2**62  # the largest reach or engagement figure accepted (fits a BIGINT)
# The languages the detector chooses from: 29 of the most used on the web. Restricting the model to
# them avoids confusing close neighbours on short texts (Portuguese with Galician, Russian with
# Bulgarian and Macedonian); a text in another language reads as the nearest of these or `und`.
LANGUAGES = ("ar", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
             "ko", "nl", "no", "pl", "pt", "ro", "ru", "sv", "th", "tr", "uk", "vi", "zh")
# Scripts written without spaces between words: the word rule counts their letters instead.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
LANG_CODE = re.compile(r"^(?:[a-z]{2}|und)$")

# The lookahead lets the engine pass a position that starts none of the four in one test (every
# match starts with h, w, @, # or a digit): the same matches, 0.7x the time on the bench corpus.
_NOISE = re.compile(r"(?=[hw@#\d])(?:https?://\S+|www\.\S+|[@#][\w.]+|\d+)", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NON_ASCII_WORD_CHAR = re.compile(r"[^\W\d_\x00-\x7f]")   # letters, and numerals such as "²"
_ENGLISH_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz'" else 32 for c in range(256))
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())
_lock = threading.Lock()
_identifier = None
_batch_model = None


def _get():
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from webapp.insights import language_model

                identifier = language_model.load(LANGUAGES)  # a mapped file (shared pages), see there
                _forget_other_languages(identifier)
                _identifier = identifier
    return _identifier


def _model():
    """The detector as numpy arrays for batches (insights/ngram_batch.py), made once."""
    global _batch_model
    if _batch_model is None:
        from webapp.insights.ngram_batch import Model

        _batch_model = Model(_get())
    return _batch_model


def _forget_other_languages(identifier) -> None:
    """`set_languages` keeps the whole 97-language table (28 MB) beside the restricted copy, for a
    later reset that never comes here: keep only the copy (about 12 MB as float32, the batch
    detector's layout). Its two per-state lists of Python ints become arrays (4 MB
    less, as fast to index). Best effort: a detector without these attributes keeps them and
    works the same."""
    try:
        import numpy as np

        # float32, stored class by class (the batch detector's layout); py3langid reads the
        # transposed view (features x classes) with the same results (float16 -> 32 is exact)
        identifier.nb_ptc = np.ascontiguousarray(identifier.nb_ptc.T, dtype=np.float32).T
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
        identifier._rowbase = array("q", identifier._rowbase)
        identifier.tk_output = array("l", identifier.tk_output)
    except (AttributeError, TypeError, OverflowError):
        pass


def clean(text: str) -> str:
    """The text without URLs, @handles, hashtags and digits (they carry no language)."""
    return _NOISE.sub(" ", text or "")


def letters(text: str) -> int:
    """How many letters (`str.isalpha`) `text` has; its ASCII part is counted in C (pure)."""
    count = len(text.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS))
    if not text.isascii():
        count += len([ch for ch in _NON_ASCII_WORD_CHAR.findall(text) if ch.isalpha()])
    return count


def _non_ascii_letter(text: str) -> bool:
    """Has `text` a letter outside ASCII? (the regex finds candidates, `str.isalpha` decides)"""
    return not text.isascii() and any(m.group().isalpha() for m in _NON_ASCII_WORD_CHAR.finditer(text))


def decide(cleaned: str, top: str, probability: float) -> str:
    """The stored language of a cleaned text given the detector's answer (the rule above; pure)."""
    if letters(cleaned) < MIN_LETTERS:
        return UNDETERMINED
    if top == ENGLISH:
        return ENGLISH
    words = len(_WORD.findall(cleaned)) + len(_UNSPACED.findall(cleaned))
    if probability >= MIN_CONFIDENCE and words >= MIN_WORDS and LANG_CODE.match(top):
        return top
    return UNDETERMINED


def plainly_english(cleaned: str) -> bool:
    """Step 2 of the rule: ASCII text whose English function words leave no doubt (pure)."""
    if _non_ascii_letter(cleaned):
        return False   # emoji and punctuation may stay
    # The words are the runs of [A-Za-z'], lower-cased: with every letter ASCII, lower() changes
    # ASCII letters only, and every other character becomes a space (bytes, in C).
    words = cleaned.lower().encode("ascii", "replace").translate(_ENGLISH_WORD_BYTES).split()
    markers = sum(map(_MARKER_BYTES.__contains__, words))
    return len(words) >= MIN_WORDS and markers >= 2 and markers * 5 >= len(words)


def _without_model(text: str) -> tuple[str, str | None]:
    """(the text as the detector reads it, its language when steps 1-2 decide it without the model)."""
    cleaned = clean(text[:READ_CHARS])
    if letters(cleaned) < MIN_LETTERS:
        return cleaned, UNDETERMINED
    if plainly_english(cleaned):
        return cleaned, ENGLISH
    return cleaned[:DETECT_CHARS], None


def detect(text: str) -> str:
    """The ISO 639-1 code of `text`, or `und` (see the rule in the module docstring); one text
    through py3langid's own classifier (the reference the batch detector is tested against)."""
    cleaned, lang = _without_model(text)
    if lang is not None:
        return lang
    top, probability = _get().classify(cleaned)
    return decide(cleaned, top, float(probability))


def detect_many(texts: Sequence[str]) -> list[str]:
    """`detect` of each text, the model run once over all the texts that need it (numpy,
    insights/ngram_batch.py); identical texts (reposts) are judged once."""
    from webapp.insights.ngram_batch import classify_many

    found: dict[str, str | None] = {}
    pending: dict[str, str] = {}   # text -> its cleaned beginning, for the model
    for text in texts:
        if text not in found:
            cleaned, found[text] = _without_model(text)
            if found[text] is None:
                pending[text] = cleaned
    if pending:
        for (text, cleaned), (top, probability) in zip(pending.items(), classify_many(_model(), list(pending.values()))):
            found[text] = decide(cleaned, top, probability)
    return [found[text] for text in texts]


def normalize_code(value) -> str:
    """A lang field as given (ISO 639-1, any case, or `und`), lower-cased; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("lang must be a string: an ISO 639-1 code such as 'en', or 'und'")
    code = value.strip().lower()
    if not LANG_CODE.match(code):
        raise ValueError("lang must be an ISO 639-1 code of two letters (such as 'en', 'fr') or 'und'")
    return code


def vader_reads(lang: str) -> bool:
    return lang in VADER_LANGS
