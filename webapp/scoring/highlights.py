"""Which words drove a mention's VADER score, as text segments that a template can colour.

`word_valences(analyzer, text)` lists every VADER word of `text` in text order with the valence
VADER summed for it (after its rules: capitals, boosters, negation, "least", idioms, "but").
`segments(text, valences)` cuts the text into plain and marked pieces at the characters of
those words. Both are pure; the pieces stay plain strings (the template escapes them), so
untrusted text is never turned into markup here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Segment:
    """A piece of the text; `valence` is None for text that carries no sentiment."""

    text: str
    valence: float | None = None
    match: bool = False          # inside a search term of the mentions page (mark_terms)

    @property
    def polarity(self) -> str:
        return "" if self.valence is None else ("pos" if self.valence > 0 else "neg")

    @property
    def level(self) -> int:
        """Colour intensity 1..4 by the size of the valence (VADER's lexicon spans -4..4)."""
        if self.valence is None:
            return 0
        size = abs(self.valence)
        return 1 if size < 1 else 2 if size < 2 else 3 if size < 3 else 4

    @property
    def title(self) -> str:
        return "" if self.valence is None else f"valence {self.valence:+.2f}"


def word_valences(analyzer, text: str) -> list[tuple[str, float]]:
    """Every VADER word of `text` with the valence VADER summed for it, in text order (0 for
    words without one); `analyzer` is a `vader_fast.FastVader` (`sentiment.fast_analyzer(...)`,
    with a monitor's lexicon adjustments when it has some)."""
    return [(w, float(v)) for w, v in analyzer.explain(text)]


def segments(text: str, valences: Sequence[tuple[str, float]]) -> list[Segment]:
    """`text` cut into plain and marked segments; joined, the segments give `text` back.

    `valences` are VADER's words in text order: one per whitespace-separated token longer than
    one character, each the token or the token less one punctuation mark. Each word with a
    non-zero valence is marked where it sits in its token (the punctuation stays plain). If the
    words do not line up with the text's tokens, nothing is marked (never a wrong highlight).
    """
    tokens = [m for m in _TOKEN.finditer(text) if len(m.group()) > 1]
    if len(tokens) != len(valences):
        return [Segment(text)] if text else []
    out: list[Segment] = []
    cursor = 0
    for match, (word, valence) in zip(tokens, valences):
        if not valence:
            continue
        raw = match.group()
        offset = raw.find(word) if word else -1
        start = match.start() + (offset if offset >= 0 else 0)
        end = start + (len(word) if offset >= 0 else len(raw))
        if start > cursor:
            out.append(Segment(text[cursor:start]))
        out.append(Segment(text[start:end], round(float(valence), 4)))
        cursor = end
    if cursor < len(text):
        out.append(Segment(text[cursor:]))
    return out


def highlight(analyzer, text: str) -> list[Segment]:
    """The segments of `text` with the words `analyzer` gave a valence marked."""
    return segments(text, word_valences(analyzer, text))


def _term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Merged (start, end) of every case-insensitive occurrence of `terms` in `text`."""
    spans = sorted((m.start(), m.end()) for term in terms if term
                   for m in re.finditer(re.escape(term), text, re.IGNORECASE))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark_terms(pieces: Sequence[Segment], terms: Sequence[str]) -> list[Segment]:
    """`pieces` (segments of one text) cut again where the search `terms` occur, those parts
    with `match` set; joined, they still give the text back. Pure; the text stays text."""
    spans = _term_spans("".join(p.text for p in pieces), terms)
    if not spans:
        return list(pieces)
    cuts = sorted({x for span in spans for x in span})
    out: list[Segment] = []
    offset, i = 0, 0
    for piece in pieces:
        start, end = offset, offset + len(piece.text)
        points = [start, *(c for c in cuts if start < c < end), end]
        for a, b in zip(points, points[1:]):
            while i < len(spans) and spans[i][1] <= a:
                i += 1
            inside = i < len(spans) and spans[i][0] <= a and b <= spans[i][1]
            out.append(Segment(piece.text[a - start:b - start], piece.valence, inside))
        offset = end
    return out
