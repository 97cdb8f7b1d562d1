"""Query preview: which stored mentions of the last days a query matches, with the words marked.

Matching is the monitor query language itself (`compile_query(q).matches`), so the preview
shows exactly what the query would keep. Highlighting marks the query's positive terms (words,
`prefix*`, "phrases") in the ORIGINAL text: the text is cut into words with the same tokenizer
the matcher uses, each word is case-folded as the matcher folds it, and the matching words'
character spans are wrapped in <mark>. The HTML is built from escaped segments (markupsafe), so
fetched text can never inject markup.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from markupsafe import Markup, escape
from sqlalchemy import select

from webapp.ingest.models import Mention
from webapp.monitors.models import Source
from webapp.core.query import Query, compile_query, tokenize_text
from webapp.core.query import _patterns as _query_patterns  # the matcher's own word tokenizer

WINDOW = timedelta(days=7)
SCAN_LIMIT = 5000
SHOW_LIMIT = 50
_SIGILS = "#@"


@dataclass
class PreviewResult:
    query: str
    matches: int = 0
    scanned: int = 0
    since: datetime | None = None
    items: list[dict] = field(default_factory=list)  # mention fields + "spans" [(start, end)]


def _words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) of each word of `text`, positions in the original text."""
    out = []
    for found in _query_patterns()[0].finditer(text):
        folded = tokenize_text(found.group())
        if len(folded) == 1:  # folding never splits a word in practice; if it did, leave it unmarked
            out.append((found.start(), found.end(), folded[0]))
    return out


def _same(word: str, term: str, prefix: bool = False) -> bool:
    """Whether one folded text word satisfies one query word, as the matcher decides it."""
    if term[0] not in _SIGILS and word[0] in _SIGILS:
        word = word[1:]  # "rust" matches "#rust"; "#rust" needs the hashtag
    return word.startswith(term) if prefix else word == term


def highlight_spans(text: str, query: str | Query) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) character spans of `text` that the query's positive terms match."""
    query = compile_query(query) if isinstance(query, str) else query
    terms = query.terms()
    if not text or not terms:
        return []
    words = _words(text)
    spans = []
    for term in terms:
        if " " in term:
            parts = term.split(" ")
            for i in range(len(words) - len(parts) + 1):
                if all(_same(words[i + k][2], part) for k, part in enumerate(parts)):
                    spans.append((words[i][0], words[i + len(parts) - 1][1]))
        else:
            prefix = term.endswith("*")
            stem = term[:-1] if prefix else term
            spans.extend((s, e) for s, e, word in words if _same(word, stem, prefix))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def render_marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    """`text` as HTML with each span in <mark>; every piece of the text is escaped."""
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(escape(text[position:start]))
        pieces.append(Markup("<mark>%s</mark>") % text[start:end])
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def highlight(text: str, query: str | Query) -> Markup:
    """`text` as safe HTML with the words the query matches wrapped in <mark> (pure)."""
    return render_marked(text or "", highlight_spans(text or "", query))


def preview(session, monitor_id: int, query_text: str, now: datetime | None = None,
            window: timedelta = WINDOW, scan: int = SCAN_LIMIT, show: int = SHOW_LIMIT) -> PreviewResult:
    """Match `query_text` against the monitor's newest `scan` mentions of the last `window`.

    Returns how many were scanned and matched, and the first `show` matches (newest first)
    with their highlight spans. Raises query.QueryError for a query that does not parse.
    """
    query = compile_query((query_text or "").strip())
    now = now or datetime.now(timezone.utc)
    result = PreviewResult(query=query.source, since=now - window)
    rows = session.execute(
        select(Mention.id, Mention.external_id, Mention.text, Mention.author, Mention.url,
               Mention.published_at, Mention.label, Mention.compound, Mention.backfilled, Mention.lang,
               Source.kind.label("source"))
        .join(Source, Source.id == Mention.source_id)
        .where(Mention.monitor_id == monitor_id, Mention.published_at >= result.since)
        .order_by(Mention.published_at.desc(), Mention.id.desc()).limit(scan)
    ).mappings()
    for row in rows:
        result.scanned += 1
        if not query.matches(row["text"], row["lang"]):
            continue
        result.matches += 1
        if len(result.items) < show:
            result.items.append({**row, "spans": highlight_spans(row["text"], query)})
    return result
