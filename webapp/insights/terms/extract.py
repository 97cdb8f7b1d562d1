"""Terms of a mention: words and 2-3-word phrases, as the term rollups count them (pure, fast: it
runs for every stored mention; bench/bench_terms.py measures it).

    extract("Acme's customer service is great! https://x.y @bob #AcmeFail 2024")
    -> ["acme", "customer", "service", "great", "#acmefail", "acme's customer", ...]

Lower-cased; URLs, e-mail addresses, @handles and tokens without a letter (numbers, prices,
dates) are dropped; #hashtags are kept with their "#". Stopwords (per language, stopwords.py)
are never a word term, and a phrase never starts or ends with one ("bank of america" is a
phrase, "of america" is not). Phrases stay inside a run of tokens one space apart: punctuation,
a dropped token or a line break ends the run, so a phrase is words that stood next to each
other as written (the mentions search, a substring match, finds it). Each term counts once per
mention, and at most MAX_WORDS words, MAX_PHRASES two-word and MAX_PHRASES3 three-word phrases
are kept (the first ones in the text), so one long article weighs no more than a short post.
"""
from __future__ import annotations

import re
from itertools import chain, islice
from operator import methodcaller
from typing import Iterator

from webapp.insights.terms import stopwords

MAX_CHARS = 600          # of a mention's text are read: the lead says what it is about
MAX_WORDS = 8            # every term is a row to upsert per bucket: the caps bound ingest's cost
MAX_PHRASES = 4
MAX_PHRASES3 = 2
MAX_TERM = 64            # characters: the column's size

_URL = re.compile(r"(?:https?://|www\.)\S+")
_AT = re.compile(r"\S*@\S*")            # @handles and e-mail addresses
# Words (a letter or digit first, then word characters, apostrophes and hyphens; "#" in front
# for a hashtag) and breaks: punctuation, two spaces or more, a line break.
_PIECE = re.compile(r"#?[^\W_](?:[^\W_]|['-])*|[^\w\s]+|_+|\s\s+|[^\S ]")
_LETTER = re.compile(r"[^\W\d_]")
GUESS_TOKENS = 40        # words the language guess reads
_GROUP0 = methodcaller("group")


def pieces(text: str) -> list[str]:
    """The words and breaks of the lower-cased head of `text`, URLs and handles already breaks."""
    return list(_scan(text))


def _scan(text: str) -> Iterator[str]:
    """`pieces` as they are found: extract stops reading once its caps are full."""
    text = text[:MAX_CHARS].lower().replace("’", "'")
    if "@" in text:
        text = _AT.sub("|", text)
    if "://" in text or "www." in text:
        text = _URL.sub("|", text)
    return map(_GROUP0, _PIECE.finditer(text))


def _is_word(piece: str) -> bool:
    first = piece[0]
    return first.isalnum() or (first == "#" and len(piece) > 1)


def runs(text: str) -> list[list[str]]:
    """Runs of lower-cased words that stood one space apart (tests and tools; extract inlines it)."""
    out, run = [], []
    for piece in pieces(text):
        word = piece.rstrip("'-")
        if _is_word(piece) and (word.isalpha() or _LETTER.search(word)) and "#" not in word[1:]:
            run.append(word)
        elif run:
            out.append(run)
            run = []
    if run:
        out.append(run)
    return out


def extract(text: str, lang: str | None = None) -> list[str]:
    """The distinct terms of `text`, words first, then two- and three-word phrases.

    `lang` (ISO 639-1) chooses the stopword list; without one (or for a language without a
    list) the list the first words hit most is used. One pass over the words that stops as soon
    as every cap is full, so a long article costs no more than a post.
    """
    if not text:
        return []
    scan = _scan(text)
    head = list(islice(scan, GUESS_TOKENS))
    stop = stopwords.for_language(lang) or stopwords.guess(set(head))
    words: dict[str, None] = {}
    pairs: dict[str, None] = {}
    triples: dict[str, None] = {}
    n_words = n_pairs = n_triples = 0
    # the two words before this one in the run (None: none, or a break), and whether they may
    # start or end a phrase
    w1 = w2 = None
    k1 = k2 = False
    for piece in chain(head, scan):
        if piece.isalpha():                 # the common case: a plain word
            word = piece
        else:
            word = piece.rstrip("'-") if piece[-1] in "'-" else piece
            if not word or not _is_word(word) or not (word.isalpha() or _LETTER.search(word)) or "#" in word[1:]:
                w1 = w2 = None          # a break, a number or a glued hashtag ends the run
                k1 = k2 = False
                continue
            if word[0] == "#":
                if n_words < MAX_WORDS and len(word) > 2:
                    words.setdefault(word[:MAX_TERM])
                    n_words = len(words)
                w1 = w2 = None
                k1 = k2 = False
                continue
        bare = word[:-2] if word.endswith("'s") else word
        keep = len(word) > 1 and word not in stop and bare not in stop
        if keep:
            if n_words < MAX_WORDS and len(bare) <= MAX_TERM:
                words.setdefault(bare)
                n_words = len(words)
            if k1 and n_pairs < MAX_PHRASES:
                pairs.setdefault(f"{w1} {word}")
                n_pairs = len(pairs)
            if k2 and w1 is not None and n_triples < MAX_PHRASES3:
                triples.setdefault(f"{w2} {w1} {word}")
                n_triples = len(triples)
            if n_words >= MAX_WORDS and n_pairs >= MAX_PHRASES and n_triples >= MAX_PHRASES3:
                break
        w2, k2, w1, k1 = w1, k1, word, keep
    return [*words, *(p for p in (*pairs, *triples) if len(p) <= MAX_TERM)]


def search_query(term: str) -> str:
    """The mentions page's `q` that finds the mentions holding `term` ("quoted" for a phrase)."""
    return f'"{term}"' if " " in term else term
