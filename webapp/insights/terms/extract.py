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

from webapp.insights.terms import stopwords

MAX_CHARS = 2_000        # of a mention's text are read: the lead says what it is about
MAX_WORDS = 12
MAX_PHRASES = 6
MAX_PHRASES3 = 3
MAX_TERM = 64            # characters: the column's size

_URL = re.compile(r"(?:https?://|www\.)\S+")
_AT = re.compile(r"\S*@\S*")            # @handles and e-mail addresses
# Anything that is not a word character, an apostrophe, a hyphen, a "#" or a single space
# between two tokens ends a run.
_BREAK = re.compile(r"[^\w'# -]+|  +|_+")
_LETTER = re.compile(r"[^\W\d_]")


def runs(text: str) -> list[list[str]]:
    """Runs of lower-cased tokens that stood one space apart in the text."""
    text = text[:MAX_CHARS].lower().replace("’", "'")
    if "@" in text:
        text = _AT.sub("|", text)
    if "://" in text or "www." in text:
        text = _URL.sub("|", text)
    out = []
    for chunk in _BREAK.split(text):
        run = []
        for token in chunk.split(" "):
            if not token.isalpha():
                token = token.strip("'-")
                if not token:    # a lone dash or quote ends the run (a double space is empty too)
                    if run:
                        out.append(run)
                        run = []
                    continue
            if token.isalpha() or _LETTER.search(token):
                if "#" in token[1:]:
                    if run:
                        out.append(run)
                    run = []
                    token = token.split("#", 1)[0]
                    if token:
                        out.append([token])
                    continue
                run.append(token)
            elif run:            # a number: ends the run
                out.append(run)
                run = []
        if run:
            out.append(run)
    return out


def extract(text: str, lang: str | None = None) -> list[str]:
    """The distinct terms of `text`, words first, then two- and three-word phrases.

    `lang` (ISO 639-1) chooses the stopword list; without one (or for a language without a
    list) the list the text hits most is used.
    """
    if not text:
        return []
    found = runs(text)
    stop = stopwords.for_language(lang) or stopwords.guess({t for run in found for t in run})
    words: dict[str, None] = {}
    pairs: dict[str, None] = {}
    triples: dict[str, None] = {}
    for run in found:
        # a word is kept without a possessive "'s"; phrases keep the tokens as written
        keep = [len(t) > 1 and t[0] != "#" and t not in stop and (t[:-2] if t.endswith("'s") else t) not in stop
                for t in run]
        n = len(run)
        for i, token in enumerate(run):
            if token[0] == "#":
                if len(token) > 2 and len(words) < MAX_WORDS:
                    words.setdefault(token[:MAX_TERM])
                continue
            if not keep[i]:
                continue
            if len(words) < MAX_WORDS and len(token) <= MAX_TERM:
                words.setdefault(token[:-2] if token.endswith("'s") else token)
            if i + 1 < n and keep[i + 1] and len(pairs) < MAX_PHRASES:
                pairs.setdefault(f"{token} {run[i + 1]}")
            if i + 2 < n and keep[i + 2] and run[i + 1][0] != "#" and len(triples) < MAX_PHRASES3:
                triples.setdefault(f"{token} {run[i + 1]} {run[i + 2]}")
    return [*words, *(p for p in (*pairs, *triples) if len(p) <= MAX_TERM)]


def search_query(term: str) -> str:
    """The mentions page's `q` that finds the mentions holding `term` ("quoted" for a phrase)."""
    return f'"{term}"' if " " in term else term
