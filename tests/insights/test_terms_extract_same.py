"""The optimised extractor gives exactly the terms of the one it replaced, on a varied sample:
realistic posts and articles, random token mixes (capitals, punctuation runs, tabs, line breaks,
double spaces), VADER's rule cases, the multi-language sample with and without its language,
and generated hostile texts (apostrophes, hyphens, underscores, digits, hashtags, handles, URLs,
curly quotes, non-Latin scripts). The replaced implementation is kept below as the oracle."""
from __future__ import annotations

import json
import random
import re
from itertools import chain, islice
from operator import methodcaller
from pathlib import Path

import pytest

from webapp.insights.terms import extract as ex
from webapp.insights.terms import stopwords

from tests import vader_corpus


# -- the oracle: webapp/insights/terms/extract.py as it was before the token table ------------
_URL = re.compile(r"(?:https?://|www\.)\S+")
_AT = re.compile(r"\S*@\S*")
_PIECE = re.compile(r"#?[^\W_](?:[^\W_]|['-])*|[^\w\s]+|_+|\s\s+|[^\S ]")
_LETTER = re.compile(r"[^\W\d_]")
_GROUP0 = methodcaller("group")


def _scan(text):
    text = text[:600].lower().replace("’", "'")
    if "@" in text:
        text = _AT.sub("|", text)
    if "://" in text or "www." in text:
        text = _URL.sub("|", text)
    return map(_GROUP0, _PIECE.finditer(text))


def _is_word(piece):
    first = piece[0]
    return first.isalnum() or (first == "#" and len(piece) > 1)


def oracle(text, lang=None):
    if not text:
        return []
    scan = _scan(text)
    head = list(islice(scan, 40))
    stop = stopwords.for_language(lang) or stopwords.guess(set(head))
    words, pairs, triples = {}, {}, {}
    n_words = n_pairs = n_triples = 0
    w1 = w2 = None
    k1 = k2 = False
    for piece in chain(head, scan):
        if piece.isalpha():
            word = piece
        else:
            word = piece.rstrip("'-") if piece[-1] in "'-" else piece
            if not word or not _is_word(word) or not (word.isalpha() or _LETTER.search(word)) or "#" in word[1:]:
                w1 = w2 = None
                k1 = k2 = False
                continue
            if word[0] == "#":
                if n_words < 8 and len(word) > 2:
                    words.setdefault(word[:64])
                    n_words = len(words)
                w1 = w2 = None
                k1 = k2 = False
                continue
        bare = word[:-2] if word.endswith("'s") else word
        keep = len(word) > 1 and word not in stop and bare not in stop
        if keep:
            if n_words < 8 and len(bare) <= 64:
                words.setdefault(bare)
                n_words = len(words)
            if k1 and n_pairs < 4:
                pairs.setdefault(f"{w1} {word}")
                n_pairs = len(pairs)
            if k2 and w1 is not None and n_triples < 2:
                triples.setdefault(f"{w2} {w1} {word}")
                n_triples = len(triples)
            if n_words >= 8 and n_pairs >= 4 and n_triples >= 2:
                break
        w2, k2, w1, k1 = w1, k1, word, keep
    return [*words, *(p for p in (*pairs, *triples) if len(p) <= 64)]


# -- the sample -------------------------------------------------------------------------------
PARTS = ["acme", "Acme's", "ACME", "customer", "service", "is", "the", "of", "bank", "america", "don't",
         "it's", "l'avion", "qu'il", "rock-'n'-roll", "e-mail", "well-", "-ish", "'quoted'", "rocket's",
         "mp3", "4k", "2024", "$99", "3.5", "_x_", "__", "snake_case", "#", "#acme", "#acme#fail", "#a",
         "#Ünïcode", "#2024", "#x-y", "@bob", "bob@example.com", "a@b", "https://x.y/z?q=1",
         "www.acme.example", "(https://x.y)", "http:/x", "’s", "Acme’s", "der", "die", "Straße", "très",
         "façade", "el", "muy", "σίγμα", "ΣΟΦΟΣ", "İstanbul", "東京", "こんにちは", "привет", "😀", "🚀🚀",
         "...", "!!!", "?!", ",", ";", "-", "--", "'", "''", "\"", "(", ")", "x" * 70, "y" * 64 + "'s",
         "war", "und", "le", "de", "la", "\u00a0", "\ufeff", "\x00", "a", "i", "u", "the-end", "#-"]
SEPARATORS = [" ", " ", " ", " ", "  ", "   ", "\n", " \n ", "\t", " \t", "\n\n", "", ", ", ". "]


def hostile(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        text = ""
        for _ in range(rng.randint(0, 60)):
            part = rng.choice(PARTS)
            if rng.random() < 0.15:
                part = part.upper()
            text += part + rng.choice(SEPARATORS)
        out.append(text)
    return out


def languages_sample() -> list[tuple[str, str]]:
    path = Path(__file__).parent / "data" / "languages_sample.jsonl"
    with open(path, encoding="utf-8") as handle:
        return [(row["text"], row["lang"]) for row in map(json.loads, handle)]


def sample() -> list[tuple[str, str | None]]:
    rng = random.Random(15)
    texts = (vader_corpus.realistic(3_000, seed=15) + vader_corpus.random_mix(rng, 2_000)
             + vader_corpus.quirk_texts() + hostile(rng, 3_000))
    with_langs = [(text, lang) for text in texts for lang in (None, "en", rng.choice(["de", "fr", "es", "ja", "und"]))]
    return with_langs + languages_sample() + [(text, None) for text, _ in languages_sample()]


@pytest.fixture(scope="module")
def cases():
    return sample()


@pytest.fixture(params=["c", "python"])
def loop(request, monkeypatch):
    """Each test once with the word loop in C (setup.py builds it) and once with extract's own."""
    if request.param == "python":
        monkeypatch.setattr(ex, "_native_terms", None)
        monkeypatch.setattr(ex, "_native_head", None)
    return request.param


def test_the_c_loop_is_built():
    """`pip install -e .` builds it wherever a C compiler is (this machine has one): a missing
    build would pass every other test here on the Python loop and lose the speed unnoticed."""
    assert ex._native_terms is not None and ex._native_head is not None


def test_the_same_terms_as_the_replaced_extractor(cases, loop):
    different = [(text, lang, ex.extract(text, lang), oracle(text, lang)) for text, lang in cases
                 if ex.extract(text, lang) != oracle(text, lang)]
    assert not different, different[:5]
    assert sum(bool(oracle(text, lang)) for text, lang in cases) > len(cases) // 2   # a sample with terms


def test_the_same_terms_when_the_token_table_is_cleared_or_full(cases, monkeypatch, loop):
    monkeypatch.setattr(ex, "TOKEN_TABLE_LIMIT", 50)
    for text, lang in cases[:3_000]:
        assert ex.extract(text, lang) == oracle(text, lang), (text, lang)
    assert len(ex._tokens) <= 50


def test_the_same_pieces_as_the_replaced_scanner(cases):
    texts = list(dict.fromkeys(text for text, _ in cases))
    assert [ex.pieces(text) for text in texts] == [list(_scan(text)) for text in texts]


@pytest.mark.parametrize("args, error", [
    ((1, None, {}, None), TypeError),                                     # not a str
    (("ab cd", set(stopwords.STOPWORDS["en"]), {}, None), TypeError),     # a set, not the frozenset
    (("ab cd", None, [], None), TypeError),                               # the table not a dict
    (("a! b", None, {}, lambda chunk: 5), TypeError),                     # tokens of the wrong shape
    (("a! b", None, {}, lambda chunk: ((("x", 1),), ())), TypeError),
    (("a! b", None, {"a!": (((None, "x"),), ())}, ex._chunk), TypeError),
    (("a! b", None, {}, lambda chunk: 1 / 0), ZeroDivisionError),         # the table's maker fails
])
def test_the_c_loop_refuses_what_it_cannot_read(args, error):
    text, stop, table, chunk = args
    stop = stopwords.STOPWORDS["en"] if stop is None else stop
    with pytest.raises(error):
        ex._native_terms(text, stop, table, chunk, 8, 4, 2, 64, -1)


@pytest.mark.parametrize("text", ["Rocket LAUNCH went Great " * 40,      # past MAX_CHARS: the head alone
                                  "İSTANBUL İstanbul ΣΟΦΟΣ ΣΟΦΟΣ’S Acme’s CAFÉ café " * 20,
                                  "ΣΟΦΟΣ" * 200 + " Σ Ab", "Ab" * 299 + "ΣΣ Cd"])   # a sigma at the cut
def test_the_c_loop_prepares_a_raw_text_as_extract_does(text):
    assert ex._native_terms(text, stopwords.STOPWORDS["en"], {}, ex._chunk, 8, 4, 2, 64, 600) \
        == oracle(text, "en")


def test_the_c_head_refuses_what_it_cannot_read():
    with pytest.raises(TypeError):
        ex._native_head("a! b", [], ex._chunk, 40)
    with pytest.raises(TypeError):
        ex._native_head("a! b", {}, lambda chunk: ((), 5), 40)
    assert ex._native_head("a! b c", {}, ex._chunk, 2) == {"a", "!"}
