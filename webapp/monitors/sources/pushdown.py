"""The monitor's query, pushed down to a search service as a query the service accepts.

Search APIs speak different dialects, and none of them matches our query language exactly
(whole words, prefixes, hashtags, nesting). So the query sent to a service only has to return
a *superset* of what the monitor's query matches: the fetch use case applies the real query to
what comes back. Asking too broadly costs bandwidth; asking too narrowly loses mentions, so
every simplification here errs on the broad side (whatever a service cannot express is
dropped, never narrowed). Three shapes, one per family of search syntax:

1. `clauses(query)` + a renderer (`grouped`, `flat`, `combine`): gdelt, youtube, github,
   reddit and google_news. The query is relaxed into conjunctive normal form of positive
   terms, an AND of clauses, each clause an OR of words or phrases:
   - a negation (NOT x, -x) and a prefix (lov*) restrict nothing (services differ on both);
   - terms shorter than a service's minimum length restrict nothing;
   - AND keeps the clauses of each operand;
   - OR of operands, each relaxed to one of its clauses, becomes one clause (any operand that
     restricts nothing makes the whole OR restrict nothing).
   No clauses means "the query cannot narrow the search" (an empty query, or `NOT spam`).
   Renderers then write the clauses in a service's syntax, dropping what it cannot express.
2. `search_strings(query)`: services whose search ANDs space-separated words and "phrases"
   but has no OR or NOT (Hacker News' Algolia, Bluesky). The query is covered by a few
   conjunctions, one search each: `acme (rocket OR "grinder pro") -job` becomes `acme rocket`
   and `acme "grinder pro"`. Negations and prefixes (`lov*`) are dropped; when more than
   `limit` searches would be needed, the widest useful cover is kept. `[""]` means "no
   restriction" (search everything).
3. `x_query(query)`: X's own boolean syntax (space = AND, OR, `-` negation, parentheses,
   "phrases"). X forbids negated groups and queries made of negations only, so `-(a OR b)`
   becomes `-a -b`, a negated AND is dropped, and an OR branch without a positive term widens
   the whole OR. None means nothing could be pushed down.
"""
from __future__ import annotations

from webapp.core.query import And, MatchAll, Not, Or, Phrase, Prefix, Query, QueryError, Term, compile_query
from webapp.monitors.sources.base import FetchContext, SourceError

# -- 1. CNF clauses for services with OR (gdelt, youtube, github, reddit, google_news) ---

Clause = tuple[str, ...]  # words or phrases ("customer service"), any of which may match
_SIGILS = "#@"


def _text(words) -> str:
    return " ".join(w.lstrip(_SIGILS) for w in words if w.lstrip(_SIGILS))


def _relax(node, min_len: int) -> list[Clause]:
    """CNF clauses implied by `node` (a superset of its matches); [] when unrestricted."""
    match node:
        case Term(word):
            text = _text([word])
            return [(text,)] if len(text) >= min_len else []
        case Phrase(words):
            text = _text(words)
            return [(text,)] if len(text) >= min_len else []
        case And(children):
            clauses: list[Clause] = []
            for child in children:
                clauses.extend(_relax(child, min_len))
            return clauses
        case Or(children):
            terms: list[str] = []
            for child in children:
                child_clauses = _relax(child, min_len)
                if not child_clauses:
                    return []
                # Any single clause of an operand is implied by it; the narrowest is best.
                terms.extend(min(child_clauses, key=len))
            return [tuple(dict.fromkeys(terms))]
        case Not(_) | Prefix(_):
            return []
    return []  # MatchAll


def clauses(monitor_query: str | None, *, min_len: int = 1) -> list[Clause]:
    """The monitor query as CNF clauses of positive terms (see the module docstring).

    A query that does not parse restricts nothing here: saving a monitor validates its query,
    and the fetch use case reports a broken one itself.
    """
    try:
        root = compile_query(monitor_query or "").root
    except QueryError:
        return []
    unique: dict[Clause, None] = {}
    for clause in _relax(root, min_len):
        unique.setdefault(clause, None)
    return list(unique)


def quote(term: str) -> str:
    """A word as is, a phrase in double quotes."""
    return f'"{term}"' if " " in term else term


def grouped(cls: list[Clause], or_word: str = "OR") -> str:
    """For services with parenthesised OR groups (GDELT, Google, Reddit): `a (b OR "c d")`."""
    parts = []
    for clause in cls:
        terms = [quote(t) for t in clause]
        parts.append(terms[0] if len(terms) == 1 else "(" + f" {or_word} ".join(terms) + ")")
    return " ".join(parts)


def flat(cls: list[Clause], or_sep: str, max_or: int | None = None) -> str:
    """For services with OR but no parentheses (YouTube `a|b`, GitHub `a OR b`).

    One clause is written as an OR list; several clauses keep only their one-term clauses (an
    implicit AND), or, when every clause has alternatives, the first clause alone. An OR list
    longer than `max_or` terms restricts nothing.
    """
    if not cls:
        return ""
    singles = [quote(c[0]) for c in cls if len(c) == 1]
    if len(cls) > 1 and singles:
        return " ".join(singles)
    clause = cls[0]
    if max_or is not None and len(clause) > max_or:
        return ""
    return or_sep.join(quote(t) for t in clause)


def combine(*parts: str | None) -> str:
    """Non-empty parts joined by spaces (an implicit AND in every service here)."""
    return " ".join(p.strip() for p in parts if p and p.strip())


# -- 2. and 3. searches for hackernews and bluesky, X's syntax -----------------------------

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


def own_search(settings: dict | None) -> str | None:
    """The source's own `query` setting, stripped, sent as is; None: push the monitor's down."""
    own = (settings or {}).get("query")
    return own.strip() if isinstance(own, str) and own.strip() else None


def searches_for(settings: dict | None, ctx: FetchContext, limit: int = MAX_SEARCHES) -> list[str]:
    """The source's own search, or `search_strings` of the monitor's query."""
    own = own_search(settings)
    return [own] if own else search_strings(monitor_query(ctx), limit)


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

