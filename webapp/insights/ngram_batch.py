"""py3langid's naive Bayes over byte n-grams, for many texts at once, as numpy array work.

py3langid walks its n-gram automaton (a DFA over bytes) one byte at a time in a Python loop,
then scores one text with a small matrix product: about 220 µs for a 100-byte text. Here the
automaton advances every text of a batch by one byte per step (the texts sorted longest first,
so the ones still walking are a prefix of the arrays), the (text, feature) counts come from one
`np.unique`, and each text's class scores from one gather and one `np.add.reduceat`. The
arithmetic is py3langid's (`LanguageIdentifier._decide` with `norm_probs`: log1p of the counts
times the feature table plus the priors, scaled by 1/sqrt of the byte length, softmax), so the
answers are the same; only the order of the float sums differs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

CHUNK = 4096  # texts a walk: fewer, longer walks; bounds the state matrix (bytes x texts) to tens of MB


class Model:
    """numpy views of a loaded `py3langid.langid.LanguageIdentifier` (shared memory, no copies
    of the 40 MB transition table)."""

    def __init__(self, identifier):
        self.identifier = identifier
        self.nextmove = np.asarray(identifier.tk_nextmove)
        self.rowbase = np.asarray(identifier._rowbase, dtype=np.int64)
        self.output = np.asarray(identifier.tk_output, dtype=np.int32)
        # classes x features, float32: py3langid's table is a float16 (features x classes) array,
        # whose conversion would cost more than the sums; `languages._forget_other_languages`
        # gives the identifier the transposed view of this same array, so nothing is copied.
        table = identifier.nb_ptc
        self.columns = table.T if table.dtype == np.float32 and table.T.flags.c_contiguous \
            else np.ascontiguousarray(table.T, dtype=np.float32)
        self.priors = np.asarray(identifier.nb_pc, dtype=np.float32)
        self.classes = list(identifier.nb_classes)
        self.alias_pairs = list(identifier._alias_pairs)
        self.features = int(self.columns.shape[1])


def classify_many(model: Model, texts: Sequence[str]) -> list[tuple[str, float]]:
    """(language, probability) of each text, as `identifier.classify(text)` answers with
    `norm_probs=True`."""
    out: list[tuple[str, float]] = []
    for start in range(0, len(texts), CHUNK):
        out.extend(_classify_chunk(model, texts[start:start + CHUNK]))
    return out


def _classify_chunk(model: Model, texts: Sequence[str]) -> list[tuple[str, float]]:
    if not texts:
        return []
    encoded = [model.identifier._encode(text) for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lengths, kind="stable")
    walked = _raw_scores(model, [encoded[i] for i in order], lengths[order])
    scores = np.empty_like(walked)
    scores[order] = walked
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
    np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in model.alias_pairs:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    confidence = scores[np.arange(len(texts)), best]
    return [(model.classes[b], float(c)) for b, c in zip(best.tolist(), confidence.tolist())]


def _raw_scores(model: Model, encoded: list[bytes], lengths: np.ndarray) -> np.ndarray:
    """Naive Bayes scores (texts x classes) of byte strings sorted longest first."""
    n, width = len(encoded), int(lengths[0])
    scores = np.zeros((n, len(model.classes)), dtype=np.float32)
    if width == 0:
        return scores
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[np.arange(width) < lengths[:, None]] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    columns = np.ascontiguousarray(padded.T)
    # walking[j]: how many texts are longer than j bytes (the prefix still walking at step j)
    walking = np.searchsorted(-lengths, -np.arange(width), side="left")
    states = np.zeros((width, n), dtype=model.nextmove.dtype)   # state 0 (the start) emits no feature
    base = np.full(n, model.rowbase[0], dtype=np.int64)
    nextmove, rowbase = model.nextmove, model.rowbase
    for j in range(width):
        a = walking[j]
        now = states[j, :a]
        np.take(nextmove, base[:a] + columns[j, :a], out=now)
        np.take(rowbase, now, out=base[:a])
    found = model.output[states]
    step, text = np.nonzero(found >= 0)
    if not len(text):
        return scores
    keys, counts = np.unique(text.astype(np.int64) * model.features + found[step, text], return_counts=True)
    owner, feature = np.divmod(keys, model.features)
    # class by class (each a contiguous row of the table): the weighted features, summed per text
    weighted = np.take(model.columns, feature, axis=1)
    weighted *= np.log1p(counts.astype(np.float32))
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    # a text without any feature keeps 0.0 in every class (uniform), as py3langid leaves it
    scores[owner[starts]] = np.add.reduceat(weighted, starts, axis=1).T + model.priors
    return scores
