"""The monitor's query, pushed down to a search service as a broader query the service accepts.

Used by the gdelt, youtube, github, reddit and google_news adapters (the social adapters have
their own helper in social_query.py).

Search APIs speak different dialects, and none of them matches our query language exactly
(whole words, prefixes, hashtags, nesting). So the query sent to a service only has to be a
*superset*: every text our query matches must also match what the service is asked, and the
fetch use case applies the real query to what comes back. Asking too broadly costs bandwidth;
asking too narrowly loses mentions, so every simplification here errs on the broad side.

The monitor's query is relaxed into conjunctive normal form of positive terms, an AND of
clauses, each clause an OR of words or phrases:
- a negation (NOT x, -x) and a prefix (lov*) restrict nothing (services differ on both);
- terms shorter than a service's minimum length restrict nothing;
- AND keeps the clauses of each operand;
- OR of operands, each relaxed to one of its clauses, becomes one clause (any operand that
  restricts nothing makes the whole OR restrict nothing).
No clauses means "the query cannot narrow the search" (an empty query, or `NOT spam`).
Renderers then write the clauses in a service's syntax, dropping what it cannot express.
"""
from __future__ import annotations

from .. import query as query_lang
from ..query import And, Not, Or, Phrase, Prefix, Term

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
        root = query_lang.compile_query(monitor_query or "").root
    except query_lang.QueryError:
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
