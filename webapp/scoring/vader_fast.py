"""A faster VADER whose scores are identical to NLTK's `SentimentIntensityAnalyzer`.

`FastVader(lexicon, overrides)` computes exactly what NLTK 3.10's
`nltk.sentiment.vader.SentimentIntensityAnalyzer.polarity_scores` computes (same tokens, same
rules, same floating-point operations in the same order, same rounding), but:

- tokenising does not build NLTK's per-text `{punctuation + word: word}` dictionary (17 entries
  per distinct word, plus a guarded regex pass over the whole text); the mapping of a raw token
  to its VADER word depends on the token alone, so it is computed once per distinct token and
  kept in a bounded process-wide table (`_token`);
- each rule is a set or dict lookup on precomputed facts (lower case, ALL CAPS, negation word)
  instead of repeated `.lower()` calls, list scans and string joins;
- a word that repeats in a text is valued once (NLTK values every repeat at the index of its
  first occurrence, so repeats always get the first occurrence's value);
- whole texts are memoised in an LRU cache (retweets and reposts repeat texts verbatim).

NLTK quirks kept on purpose (the tests pin each one): a token loses at most one leading or
trailing punctuation mark from NLTK's PUNC_LIST, and only when the rest has no ASCII punctuation
at all ("good!" -> "good", "good!!!!" and "(good)" stay as they are); one-character tokens are
dropped; a repeated word is valued with the context of its first occurrence; lexicon lookups
are lower case (so ":D" never matches the lexicon's ":D"); "never so/this" and idioms compare
case-sensitively; the idiom rule runs only when the word three back is not a lexicon word; only
the first "but" splits the text; "!" and "?" are counted over the raw text.
"""
from __future__ import annotations

import math
import string
from functools import lru_cache
from typing import Mapping

__all__ = ["FastVader", "TOKEN_TABLE_LIMIT"]

#: Distinct raw tokens remembered by the process-wide token table before it is cleared
#: (about 250 bytes each, so at most ~25 MB).
TOKEN_TABLE_LIMIT = 100_000
#: Texts longer than this are scored but never cached (the cache keys are the texts, so a
#: 20,000-text cache holds at most ~25 MB; retweets and reposts are short).
MAX_CACHED_CHARS = 1_000

_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SO_THIS = ("so", "this")
_constants = None


def _nltk_constants():
    """NLTK's own VADER constants, read from its source (services/vader_data.py: importing NLTK
    would pull in scikit-learn and SciPy), or from NLTK itself when that cannot be read."""
    global _constants
    if _constants is None:
        from webapp.scoring.vader_data import read_constants

        c = read_constants()
        if c is None:
            from nltk.sentiment.vader import VaderConstants

            from webapp.scoring.vader_data import CONSTANT_NAMES

            c = {name: getattr(VaderConstants, name) for name in CONSTANT_NAMES}
        _constants = {
            "B_INCR": c["B_INCR"], "B_DECR": c["B_DECR"], "C_INCR": c["C_INCR"], "N_SCALAR": c["N_SCALAR"],
            "NEGATE": frozenset(c["NEGATE"]), "BOOSTER": dict(c["BOOSTER_DICT"]),
            "PUNC": frozenset(c["PUNC_LIST"]),
            # Tokens never hold whitespace, so "a b" == " ".join(tokens) iff tokens == ("a", "b").
            "IDIOMS": {tuple(k.split(" ")): v for k, v in c["SPECIAL_CASE_IDIOMS"].items()},
            "BOOSTER_PAIRS": frozenset(tuple(k.split(" ")) for k in c["BOOSTER_DICT"] if " " in k),
        }
    return _constants


# raw token -> (VADER word, its lower case, word.isupper(), lower case is a negation)
_token: dict[str, tuple[str, str, bool, bool]] = {}


def _token_facts(raw: str) -> tuple[str, str, bool, bool]:
    """What NLTK's `SentiText` makes of one whitespace-separated token (len > 1), and its facts.

    NLTK maps "p+w" and "w+p" to w, for p in PUNC_LIST and w a word of the text with its ASCII
    punctuation removed and longer than one character. Such a w is always the token itself with
    its punctuation removed, so the mapping depends on the token alone.
    """
    facts = _token.get(raw)
    if facts is not None:
        return facts
    word = raw
    bare = raw.translate(_ASCII_PUNCTUATION)
    if len(bare) > 1 and bare != raw:
        punc = _nltk_constants()["PUNC"]
        if raw.endswith(bare) and raw[: len(raw) - len(bare)] in punc:
            word = bare
        elif raw.startswith(bare) and raw[len(bare):] in punc:
            word = bare
    lower = word.lower()
    facts = (word, lower, word.isupper(),
             lower in _nltk_constants()["NEGATE"] or "n't" in lower)
    if len(_token) >= TOKEN_TABLE_LIMIT:
        _token.clear()
    _token[raw] = facts
    return facts


class FastVader:
    """VADER with NLTK's exact results, for one lexicon (plus optional overrides).

    `lexicon` is NLTK's lexicon dict (`SentimentIntensityAnalyzer().lexicon`); `overrides` maps
    words to valences and patches a copy of it (keys are lower-cased and stripped, because VADER
    looks words up in lower case). Scores equal those of a stock analyzer whose `.lexicon` dict
    was patched the same way. Thread-safe; build one per lexicon and keep it.
    """

    def __init__(self, lexicon: Mapping[str, float], overrides: Mapping[str, float] | None = None,
                 cache_size: int = 20_000):
        c = _nltk_constants()
        self.overrides = {str(w).strip().lower(): float(v) for w, v in (overrides or {}).items()}
        self.lexicon = lex = {**lexicon, **self.overrides}
        self._booster = c["BOOSTER"]
        self._idiom_values = c["IDIOMS"]
        self._booster_pairs = c["BOOSTER_PAIRS"]
        self._b_decr = c["B_DECR"]
        self._c_incr = c["C_INCR"]
        self._n_scalar = c["N_SCALAR"]
        self._least_rule = "least" not in lex
        self._cached = lru_cache(maxsize=cache_size)(self._compute)

    # -- public -----------------------------------------------------------------------------

    def scores(self, text: str) -> tuple[float, float, float, float]:
        """(compound, pos, neu, neg) of `text`, rounded as NLTK rounds them (4, 3, 3, 3)."""
        if len(text) > MAX_CACHED_CHARS:
            return self._compute(text)
        return self._cached(text)

    def polarity_scores(self, text: str) -> dict:
        """Drop-in for NLTK's `polarity_scores`: {"neg", "neu", "pos", "compound"}."""
        compound, pos, neu, neg = self.scores(text)
        return {"neg": neg, "neu": neu, "pos": pos, "compound": compound}

    def scores_batch(self, texts) -> list[tuple[float, float, float, float]]:
        """`scores` of each text, in order (repeated texts are computed once)."""
        scores = self.scores
        return [scores(text) for text in texts]

    def explain(self, text: str) -> list[tuple[str, float]]:
        """Every VADER word of `text`, in text order, with the valence VADER summed for it.

        The valence is after every rule (capitals, boosters and dampeners, negation, "least",
        "never so", idioms, "but"), before the "!"/"?" emphasis that applies to the whole text;
        words without sentiment have 0. Tokens are VADER's: one-character tokens are dropped and
        one leading or trailing punctuation mark may be stripped. Not rounded.
        """
        words, _, sentiments = self._valences(_as_text(text))
        return list(zip(words, sentiments))

    def cache_info(self):
        return self._cached.cache_info()

    def cache_clear(self) -> None:
        self._cached.cache_clear()

    # -- the computation ----------------------------------------------------------------------

    def _compute(self, text: str) -> tuple[float, float, float, float]:
        text = _as_text(text)
        _, _, sentiments = self._valences(text)
        return _score_valence(sentiments, text)

    def _valences(self, text: str):
        """(words, lower-case words, sentiments) as NLTK's `polarity_scores` builds them."""
        facts = [_token.get(raw) or _token_facts(raw) for raw in text.split() if len(raw) > 1]
        n = len(facts)
        if not n:
            return [], [], []
        words = [f[0] for f in facts]
        lowers = [f[1] for f in facts]
        caps = sum(1 for f in facts if f[2])
        is_cap_diff = 0 < n - caps < n
        lex = self.lexicon
        booster = self._booster
        sentiments = []
        first: dict[str, float] = {}
        for i, word in enumerate(words):
            value = first.get(word)
            if value is None:
                lower = lowers[i]
                if lower in booster or (lower == "kind" and i < n - 1 and lowers[i + 1] == "of"):
                    value = 0
                else:
                    valence = lex.get(lower)
                    value = 0 if valence is None else self._rules(
                        valence, i, words, lowers, facts, is_cap_diff)
                first[word] = value
            sentiments.append(value)
        if "but" in lowers:  # NLTK's _but_check: the first "but" halves before, boosts after
            bi = lowers.index("but")
            for sidx, sentiment in enumerate(sentiments):
                if sidx < bi:
                    sentiments[sidx] = sentiment * 0.5
                elif sidx > bi:
                    sentiments[sidx] = sentiment * 1.5
        return words, lowers, sentiments

    def _rules(self, valence, i, words, lowers, facts, is_cap_diff):
        """NLTK's `sentiment_valence` for a lexicon word at index i, operation for operation."""
        lex = self.lexicon
        c_incr = self._c_incr
        n_scalar = self._n_scalar
        if is_cap_diff and facts[i][2]:
            if valence > 0:
                valence += c_incr
            else:
                valence -= c_incr
        for start_i in (0, 1, 2):
            j = i - (start_i + 1)
            if j < 0:
                break
            if lowers[j] in lex:
                continue
            # scalar_inc_dec of the word j
            s = 0.0
            scalar = self._booster.get(lowers[j])
            if scalar is not None:
                s = scalar
                if valence < 0:
                    s *= -1
                if facts[j][2] and is_cap_diff:
                    if valence > 0:
                        s += c_incr
                    else:
                        s -= c_incr
            if start_i == 1 and s != 0:
                s = s * 0.95
            if start_i == 2 and s != 0:
                s = s * 0.9
            valence = valence + s
            # _never_check
            if start_i == 0:
                if facts[i - 1][3]:
                    valence = valence * n_scalar
            elif start_i == 1:
                if words[i - 2] == "never" and words[i - 1] in _SO_THIS:
                    valence = valence * 1.5
                elif facts[i - 2][3]:
                    valence = valence * n_scalar
            else:
                if (words[i - 3] == "never" and words[i - 2] in _SO_THIS) or words[i - 1] in _SO_THIS:
                    valence = valence * 1.25
                elif facts[i - 3][3]:
                    valence = valence * n_scalar
                valence = self._idiom_check(valence, i, words)
        # _least_check
        if self._least_rule and i > 0 and lowers[i - 1] == "least":
            if i > 1:
                if lowers[i - 2] != "at" and lowers[i - 2] != "very":
                    valence = valence * n_scalar
            else:
                valence = valence * n_scalar
        return valence

    def _idiom_check(self, valence, i, words):
        """NLTK's `_idioms_check` (i >= 3), with tuple lookups instead of joined strings."""
        idioms = self._idiom_values
        w3, w2, w1, w0 = words[i - 3], words[i - 2], words[i - 1], words[i]
        for seq in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
            if seq in idioms:
                valence = idioms[seq]
                break
        n = len(words)
        if n - 1 > i:
            seq = (w0, words[i + 1])
            if seq in idioms:
                valence = idioms[seq]
        if n - 1 > i + 1:
            seq = (w0, words[i + 1], words[i + 2])
            if seq in idioms:
                valence = idioms[seq]
        if (w3, w2) in self._booster_pairs or (w2, w1) in self._booster_pairs:
            valence = valence + self._b_decr
        return valence


def _as_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"VADER scores text, not {type(text).__name__}")
    return text


def _score_valence(sentiments, text: str) -> tuple[float, float, float, float]:
    """NLTK's `score_valence` (with its punctuation emphasis), verbatim in arithmetic."""
    if not sentiments:
        return 0.0, 0.0, 0.0, 0.0
    sum_s = float(sum(sentiments))
    ep_count = text.count("!")
    if ep_count > 4:
        ep_count = 4
    ep_amplifier = ep_count * 0.292
    qm_count = text.count("?")
    qm_amplifier = 0
    if qm_count > 1:
        if qm_count <= 3:
            qm_amplifier = qm_count * 0.18
        else:
            qm_amplifier = 0.96
    punct_emph_amplifier = ep_amplifier + qm_amplifier
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    pos_sum = 0.0
    neg_sum = 0.0
    neu_count = 0
    for sentiment_score in sentiments:
        if sentiment_score > 0:
            pos_sum += float(sentiment_score) + 1
        if sentiment_score < 0:
            neg_sum += float(sentiment_score) - 1
        if sentiment_score == 0:
            neu_count += 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct_emph_amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct_emph_amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (round(compound, 4), round(math.fabs(pos_sum / total), 3),
            round(math.fabs(neu_count / total), 3), round(math.fabs(neg_sum / total), 3))
