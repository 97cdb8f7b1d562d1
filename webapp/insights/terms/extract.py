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

How it stays cheap (it runs once per stored mention, beside VADER): the lower-cased head is
split on single spaces, which no piece of the grammar below crosses (a URL, a handle, a word,
a punctuation run all end at a space), so each space-separated chunk is read on its own: a
plain word (`str.isalpha`, most chunks) is itself, and any other chunk ("service,", "it's",
"#acme", a URL) is cut by the grammar once and kept in a bounded table of chunk -> tokens, as
the fast scorer keeps its tokens. The loop stops as soon as every cap is full, and with the
language known the text is split only as far as the loop reads it (SPLIT_STEP chunks at a time).
Where setup.py built `_extract_loop.c` (a C compiler at install), the same loop runs there, over
the same table, and reads the text in place (each chunk prepared as it is read, not the whole
head first); this module's own
loop is then the reference the tests hold it to (tests/insights/test_terms_extract_same.py).
"""
from __future__ import annotations

import re
from itertools import islice
from operator import methodcaller
from typing import Iterator

from webapp.insights.terms import stopwords

try:        # the same loop in C (setup.py builds it where a C compiler is): a few times faster
    from webapp.insights.terms._extract_loop import head as _native_head, terms as _native_terms
except ImportError:     # not built: the Python loop in `extract` and `_head`, the same terms
    _native_head = _native_terms = None

MAX_CHARS = 600          # of a mention's text are read: the lead says what it is about
MAX_WORDS = 8            # every term is a row to upsert per bucket: the caps bound ingest's cost
MAX_PHRASES = 4
MAX_PHRASES3 = 2
MAX_TERM = 64            # characters: the column's size
SPLIT_STEP = 24         # chunks split at a time (`_split_head`)
TOKEN_TABLE_LIMIT = 20_000   # chunks remembered (cleared when full: a few MB at most)

_URL = re.compile(r"(?:https?://|www\.)\S+")
_AT = re.compile(r"\S*@\S*")            # @handles and e-mail addresses
# Words (a letter or digit first, then word characters, apostrophes and hyphens; "#" in front
# for a hashtag) and breaks: punctuation, two spaces or more, a line break.
_PIECE = re.compile(r"#?[^\W_](?:[^\W_]|['-])*|[^\w\s]+|_+|\s\s+|[^\S ]")
_LETTER = re.compile(r"[^\W\d_]")
GUESS_TOKENS = 40        # pieces the language guess reads
_GROUP0 = methodcaller("group")
_BREAK = (None, None)

# chunk -> (its tokens, its pieces). A token is (word, bare) for a word (bare: without "'s"),
# (hashtag, None) for a hashtag, (None, None) for a break (punctuation, a number, a URL or
# handle, a line break); the pieces are what `pieces` gives for the chunk (the language guess).
_tokens: dict[str, tuple[tuple, tuple[str, ...]]] = {}


def _prepared(text: str) -> str:
    return text[:MAX_CHARS].lower().replace("’", "'")


def _cut(text: str) -> str:
    """URLs and handles of prepared text made breaks ("|")."""
    if "@" in text:
        text = _AT.sub("|", text)
    if "://" in text or "www." in text:
        text = _URL.sub("|", text)
    return text


def pieces(text: str) -> list[str]:
    """The words and breaks of the lower-cased head of `text`, URLs and handles already breaks."""
    return list(_scan(_prepared(text)))


def _scan(prepared: str) -> Iterator[str]:
    return map(_GROUP0, _PIECE.finditer(_cut(prepared)))


def _is_word(piece: str) -> bool:
    first = piece[0]
    return first.isalnum() or (first == "#" and len(piece) > 1)


def _token(piece: str) -> tuple[str | None, str | None]:
    """What one piece is: a word (word, bare), a hashtag (tag, None) or a break (None, None)."""
    if piece.isalpha():
        return piece, piece
    word = piece.rstrip("'-") if piece[-1] in "'-" else piece
    if not word or not _is_word(word) or not (word.isalpha() or _LETTER.search(word)) or "#" in word[1:]:
        return _BREAK              # a break, a number or a glued hashtag ends the run
    if word[0] == "#":
        return (word[:MAX_TERM], None) if len(word) > 2 else _BREAK
    return word, word[:-2] if word.endswith("'s") else word


def _chunk(chunk: str) -> tuple[tuple, tuple[str, ...]]:
    """(tokens, pieces) of one space-free chunk of prepared text, remembered in `_tokens`."""
    found = _tokens.get(chunk)
    if found is None:
        cut = tuple(_PIECE.findall(_cut(chunk)))
        found = (tuple(map(_token, cut)) if chunk else (_BREAK,)), cut
        if len(_tokens) >= TOKEN_TABLE_LIMIT:
            _tokens.clear()
        _tokens[chunk] = found
    return found


def _head(prepared: str) -> set[str]:
    """The first GUESS_TOKENS pieces of prepared text (what the language guess reads). With
    single spaces as its only whitespace (most texts), the pieces are the chunks' own, in order
    (every chunk has one piece at least; in C where it is built); otherwise (line breaks, runs
    of spaces, a space at either end) the text is scanned whole."""
    if not prepared.isprintable() or "  " in prepared or prepared[0] == " " or prepared[-1] == " ":
        return set(islice(_scan(prepared), GUESS_TOKENS))
    if _native_head is not None:
        return _native_head(prepared, _tokens, _chunk, GUESS_TOKENS)
    head = [piece for chunk in prepared.split(" ", GUESS_TOKENS)[:GUESS_TOKENS]
            for piece in ((chunk,) if chunk.isalpha() else _chunk(chunk)[1])]
    return set(head[:GUESS_TOKENS])


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
    list) the list the first GUESS_TOKENS pieces hit most is used. One pass over the words that
    stops as soon as every cap is full, so a long article costs no more than a post.
    """
    if not text:
        return []
    stop = stopwords.for_language(lang)
    prepared = None
    if stop is None:
        prepared = _prepared(text)
        stop = stopwords.guess(_head(prepared))
    if _native_terms is not None:     # the text as it came, each chunk prepared as it is read
        return _native_terms(text, stop, _tokens, _chunk, MAX_WORDS, MAX_PHRASES, MAX_PHRASES3, MAX_TERM, MAX_CHARS)
    # split as far as it is read: the caps are full after a few dozen words
    chunks, rest = _split_head(prepared if prepared is not None else _prepared(text))
    table = _tokens
    words: dict[str, None] = {}
    pairs: dict[str, None] = {}
    triples: dict[str, None] = {}
    n_words = n_pairs = n_triples = 0
    # the two words before this one in the run (None: none, or a break), and whether they may
    # start or end a phrase
    w1 = w2 = None
    k1 = k2 = False
    while True:
        for chunk in chunks:
            # A plain word (most chunks): the token loop below with word and bare the chunk, written
            # out for it, as a token tuple and a loop per word cost about an eighth of extraction.
            if chunk.isalpha():
                keep = len(chunk) > 1 and chunk not in stop
                if keep:
                    if n_words < MAX_WORDS and len(chunk) <= MAX_TERM:
                        words[chunk] = None
                        n_words = len(words)
                    if k1 and n_pairs < MAX_PHRASES:
                        pairs[f"{w1} {chunk}"] = None
                        n_pairs = len(pairs)
                    if k2 and n_triples < MAX_PHRASES3:
                        triples[f"{w2} {w1} {chunk}"] = None
                        n_triples = len(triples)
                    if n_words >= MAX_WORDS and n_pairs >= MAX_PHRASES and n_triples >= MAX_PHRASES3:
                        return _terms(words, pairs, triples)
                w2, k2, w1, k1 = w1, k1, chunk, keep
                continue
            for word, bare in (table.get(chunk) or _chunk(chunk))[0]:
                if bare is None:                 # a break or a hashtag: ends the run
                    if word is not None and n_words < MAX_WORDS:
                        words[word] = None
                        n_words = len(words)
                    w1 = w2 = None
                    k1 = k2 = False
                    continue
                keep = len(word) > 1 and word not in stop and (bare is word or bare not in stop)
                if keep:
                    if n_words < MAX_WORDS and len(bare) <= MAX_TERM:
                        words[bare] = None
                        n_words = len(words)
                    if k1 and n_pairs < MAX_PHRASES:
                        pairs[f"{w1} {word}"] = None
                        n_pairs = len(pairs)
                    if k2 and n_triples < MAX_PHRASES3:
                        triples[f"{w2} {w1} {word}"] = None
                        n_triples = len(triples)
                    if n_words >= MAX_WORDS and n_pairs >= MAX_PHRASES and n_triples >= MAX_PHRASES3:
                        return _terms(words, pairs, triples)
                w2, k2, w1, k1 = w1, k1, word, keep
        if rest is None:
            break
        chunks, rest = _split_head(rest)
    return _terms(words, pairs, triples)


def _split_head(text: str) -> tuple[list[str], str | None]:
    """The first SPLIT_STEP space-separated chunks of `text` and the rest (None: no rest): a
    long text's tail, which the caps usually leave unread, is not split."""
    chunks = text.split(" ", SPLIT_STEP)
    return chunks, (chunks.pop() if len(chunks) > SPLIT_STEP else None)


def _terms(words: dict, pairs: dict, triples: dict) -> list[str]:
    out = [*words, *pairs, *triples]
    if max(map(len, out), default=0) <= MAX_TERM:     # (words are never longer): most texts
        return out
    return [*words, *(p for p in (*pairs, *triples) if len(p) <= MAX_TERM)]


def search_query(term: str) -> str:
    """The mentions page's `q` that finds the mentions holding `term` ("quoted" for a phrase)."""
    return f'"{term}"' if " " in term else term
