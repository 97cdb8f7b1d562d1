"""Push a monitor's query down to a service's own search (hackernews, bluesky, x), as far as it goes.

The fetch use case filters every fetched item with the full query anyway, so a search sent to
a service only has to return a SUPERSET of what the query matches: whatever a service cannot
express is widened (dropped), never narrowed. Two shapes:

- `search_strings(query)`: for services whose search ANDs space-separated words and
  "phrases" but has no OR or NOT (Hacker News' Algolia, Bluesky). The query is covered by a
  few conjunctions, one search each: `acme (rocket OR "grinder pro") -job` becomes
  `acme rocket` and `acme "grinder pro"`. Negations and prefixes (`lov*`) are dropped; when
  more than `limit` searches would be needed, the widest useful cover is kept. `[""]` means
  "no restriction" (search everything).
- `x_query(query)`: X's own boolean syntax (space = AND, OR, `-` negation, parentheses,
  "phrases"). X forbids negated groups and queries made of negations only, so `-(a OR b)`
  becomes `-a -b`, a negated AND is dropped, and an OR branch without a positive term widens
  the whole OR. None means nothing could be pushed down.
"""
from __future__ import annotations

from ..query import And, MatchAll, Not, Or, Phrase, Query, QueryError, Term, compile_query
from .base import FetchContext, SourceError

MAX_SEARCHES = 5

Conjunction = tuple[str, ...]  # rendered leaves: words and "quoted phrases", in query order


def monitor_query(ctx: FetchContext) -> Query:
    """The monitor's query, parsed; SourceError('query') if it is not valid."""
    try:
        return compile_query(ctx.monitor_query or "")
    except QueryError as exc:
        raise SourceError("query", f"the monitor's query is not valid: {exc}") from None


def _leaf(node) -> str | None:
    if isinstance(node, Term):
        return node.word
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"'
    return None


def _minimal(conjunctions: list[Conjunction]) -> list[Conjunction]:
    """Deduplicated, without any conjunction that contains another (the smaller one returns more)."""
    unique = list(dict.fromkeys(conjunctions))
    sets = [set(c) for c in unique]
    return [c for i, c in enumerate(unique)
            if not any(j != i and sets[j] <= sets[i] and (sets[j] != sets[i] or j < i)
                       for j in range(len(unique)))]


def _cover(node, limit: int) -> list[Conjunction]:
    """Conjunctions whose union contains every text `node` matches; [()] is 'everything'."""
    leaf = _leaf(node)
    if leaf is not None:
        return [(leaf,)]
    if isinstance(node, And):
        acc: list[Conjunction] = [()]
        for child in node.children:
            options = _cover(child, limit)
            product = _minimal([a + tuple(x for x in b if x not in a) for a in acc for b in options])
            if len(product) <= limit:  # else: leave this conjunct out (wider, still a cover)
                acc = product
        return acc
    if isinstance(node, Or):
        union: list[Conjunction] = []
        for child in node.children:
            options = _cover(child, limit)
            if () in options:
                return [()]
            union.extend(options)
        union = _minimal(union)
        return union if len(union) <= limit else [()]
    return [()]  # NOT, prefixes and the empty query restrict nothing a plain search can say


def search_strings(query: Query, limit: int = MAX_SEARCHES) -> list[str]:
    """Search strings (words and "phrases" joined by spaces) whose results cover `query`."""
    return [" ".join(c) for c in _cover(query.root, limit)]


def _x(node) -> tuple[str | None, bool]:
    """(X query text or None for 'anything', whether it holds a positive term)."""
    leaf = _leaf(node)
    if leaf is not None:
        return leaf, True
    if isinstance(node, Not):
        child = node.child
        inner = _leaf(child)
        if inner is not None:
            return "-" + inner, False
        if isinstance(child, Or):  # De Morgan: X does not accept a negated group
            return _x(And(tuple(Not(c) for c in child.children)))
        return None, False  # a negated AND or prefix: dropped (wider)
    if isinstance(node, And):
        parts, positive = [], False
        for child in node.children:
            text, pos = _x(child)
            if text is None:
                continue
            parts.append(f"({text})" if isinstance(child, Or) else text)
            positive = positive or pos
        return (" ".join(parts) if parts else None), positive
    if isinstance(node, Or):
        parts = []
        for child in node.children:
            text, pos = _x(child)
            if text is None or not pos:  # a branch X cannot restrict makes the OR unrestricted
                return None, False
            parts.append(f"({text})" if isinstance(child, And) else text)
        return " OR ".join(parts), True
    return None, False  # MatchAll, Prefix: X has no wildcards


def x_query(query: Query) -> str | None:
    """`query` in X's search syntax, or None when no positive term could be expressed."""
    if isinstance(query.root, MatchAll):
        return None
    text, positive = _x(query.root)
    return text if text and positive else None


def x_query_from_tree(node) -> str | None:
    """`x_query` for a bare AST node (tests and callers holding a node)."""
    return x_query(Query("", node))


__all__ = ["MAX_SEARCHES", "monitor_query", "search_strings", "x_query", "x_query_from_tree"]
