"""The fold's tally in C (webapp/ingest/_term_tally.c) gives what term_rollups.tally gives for the
same terms split apart: the same distinct terms in the same order, counts, scored counts and
compound sums to the bit, on varied deltas (terms of several scripts, so the joined texts are of
different string kinds, repeated terms, unscored mentions, mentions without terms, several rows of
one hour), and refuses rows whose lengths do not match their terms."""
from __future__ import annotations

import math
import random

import pytest

from webapp.core.sql import SEP
from webapp.ingest import term_deltas
from webapp.ingest.term_rollups import tally

WORDS = ["acme", "rocket", "launch", "acme's rocket", "#acmefail", "café", "crème brûlée", "東京",
         "привет мир", "😀 launch", "x" * 64, "a", "ab", "rocket launch great"]


def rows(rng: random.Random, n_rows: int) -> tuple[list[str], list[int], list[float]]:
    texts, lengths, compounds = [], [], []
    for _ in range(n_rows):
        terms = []
        for _ in range(rng.randint(1, 40)):
            k = rng.choice([0, 0, 1, 3, 5, 14])
            terms += rng.sample(WORDS, k)
            lengths.append(k)
            compounds.append(math.nan if rng.random() < 0.2 else rng.choice([0.0, -0.5423, 0.4939, 0.9999, -1.0]))
        if not terms:       # the ingest writes no row without terms
            terms = ["acme"]
            lengths[-1] += 1
        texts.append(SEP.join(terms))
    return texts, lengths, compounds


def test_the_c_tally_is_built():
    assert term_deltas.tally_joined is not None


@pytest.mark.parametrize("seed", range(40))
def test_the_same_sums_as_the_numpy_tally(seed):
    rng = random.Random(seed)
    texts, lengths, compounds = rows(rng, rng.randint(1, 6))
    expected = list(tally(SEP.join(texts).split(SEP), lengths, compounds))
    got = list(zip(*term_deltas.tally_joined(texts, lengths, compounds, SEP)))
    assert got == expected
    assert all(type(total) is float and type(n) is int and type(s) is int for _t, n, s, total in got)


@pytest.mark.parametrize("lengths, error", [([2], ValueError), ([4], ValueError), ([1, 1, 1, 1], ValueError),
                                            ([1, 2, 1], ValueError), (["3"], TypeError), ([-1, 4], ValueError)])
def test_lengths_that_do_not_match_the_terms_are_refused(lengths, error):
    with pytest.raises(error):
        term_deltas.tally_joined([SEP.join(["a", "b", "c"])], lengths, [0.5] * len(lengths), SEP)


def test_wrong_arguments_are_refused():
    with pytest.raises(TypeError):
        term_deltas.tally_joined([b"a"], [1], [0.5], SEP)
    with pytest.raises(ValueError):
        term_deltas.tally_joined(["a"], [1], [0.5], SEP + SEP)
    with pytest.raises(ValueError):
        term_deltas.tally_joined(["a"], [1], [0.5, 0.1], SEP)


def test_the_fold_sums_the_same_with_either_tally(monkeypatch):
    rng = random.Random(7)
    taken = []
    for hour in range(3):
        for _ in range(3):
            texts, lengths, compounds = rows(rng, 1)
            taken.append((1, hour, texts[0], SEP.join(map(str, lengths)),
                          SEP.join("nan" if math.isnan(c) else repr(c) for c in compounds)))
    with_c = term_deltas.summed(taken)
    monkeypatch.setattr(term_deltas, "tally_joined", None)
    assert term_deltas.summed(taken) == with_c


def test_many_distinct_terms_grow_the_table_and_keep_the_sums():
    """Past the first 512 distinct terms the entries and slots double (several times here)."""
    rng = random.Random(11)
    vocabulary = [f"w{i} x" if i % 3 else f"#t{i}" for i in range(6_000)]
    texts, lengths, compounds = [], [], []
    for _ in range(4):
        terms = []
        for _ in range(700):
            k = rng.randint(0, 14)
            terms += rng.sample(vocabulary, k)
            lengths.append(k)
            compounds.append(math.nan if rng.random() < 0.1 else rng.uniform(-1, 1))
        texts.append(SEP.join(terms))
    expected = list(tally(SEP.join(texts).split(SEP), lengths, compounds))
    assert len(expected) > 4_000
    assert list(zip(*term_deltas.tally_joined(texts, lengths, compounds, SEP))) == expected
