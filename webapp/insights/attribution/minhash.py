"""Near-duplicate clusters of short texts: MinHash over word shingles with LSH banding (pure).

Syndicated copies of one story (the same wire text on forty sites, with other headlines,
bylines or tracking links around it) share most of their 3-word shingles. Each text gets a
signature of PERMUTATIONS minimum hashes; two texts agree on a position with probability equal
to the Jaccard similarity of their shingle sets. LSH cuts the signature into BANDS bands: texts
with one identical band become candidates (about a 50 % chance at Jaccard 0.5, over 99 % at 0.8),
and a candidate pair is joined when its signatures agree on at least THRESHOLD of the positions.
Clusters are the connected components (union-find). Hashes are seeded constants (blake2b and a
fixed random generator), so the same texts always give the same clusters, on every machine.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import numpy as np

PERMUTATIONS = 64
BANDS = 16                        # of PERMUTATIONS // BANDS rows each
THRESHOLD = 0.6                   # estimated Jaccard similarity that makes two texts copies
SHINGLE = 3                       # words
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20080101)
_A = _rng.integers(1, (1 << 61) - 1, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"[^\W_]+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_MASK = np.uint64((1 << 32) - 1)


def shingles(text: str) -> set[int]:
    """32-bit hashes of the text's SHINGLE-word shingles (lower-cased words, URLs left out)."""
    words = _WORD.findall(_URL.sub(" ", text.lower()))
    if len(words) < SHINGLE:
        words = words or [""]
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little") for g in grams}


def signature(hashes: set[int]) -> np.ndarray:
    """The MinHash signature (PERMUTATIONS values) of a set of 32-bit shingle hashes."""
    x = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))[:, None]
    # (a * x + b) mod p without overflow: x < 2^32, so split a into 32-bit halves
    lo = (_A & _MASK) * x
    hi = ((_A >> np.uint64(32)) * x) % _PRIME
    mixed = (((hi << np.uint64(32)) % _PRIME) + lo % _PRIME + _B) % _PRIME
    return mixed.min(axis=0)


def clusters(texts: list[str]) -> list[list[int]]:
    """Groups of indexes of `texts` that are near-duplicates (two or more each), largest first."""
    sigs = [signature(shingles(t)) for t in texts]
    rows = PERMUTATIONS // BANDS
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for i, sig in enumerate(sigs):
            buckets[sig[band * rows:(band + 1) * rows].tobytes()].append(i)
        for members in buckets.values():
            first = members[0]
            for other in members[1:]:
                a, b = root(first), root(other)
                if a != b and np.mean(sigs[first] == sigs[other]) >= THRESHOLD:
                    parent[b] = a
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(texts)):
        groups[root(i)].append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
