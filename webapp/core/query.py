"""The monitor query language: boolean queries as in social-listening tools, evaluated locally.

A query is made of words (whole-word, case-insensitive, ``lov*`` for a prefix), "exact phrases",
the operators ``AND`` / ``OR`` / ``NOT`` (upper case only; lower-case ``and`` is a plain word),
``lang:xx`` (the mention's language: an ISO 639-1 code, or ``und``, see webapp/insights/languages.py),
a leading ``-`` meaning NOT, and parentheses. Adjacent terms are an implicit AND and the
precedence is NOT > AND > OR. An empty query matches everything.

Sources fetch broadly and every item is then filtered here, so the same query means the same
thing whatever the source. The parser is a recursive descent over a small query tokenizer and
produces an immutable AST; errors carry a character position so forms can point at the problem.
"""
from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, NamedTuple, Union

MAX_TERMS = 200
MAX_DEPTH = 20
MAX_QUERY_LENGTH = 2000

_SIGILS = "#@"
_KEYWORDS = frozenset({"AND", "OR", "NOT"})
_OPERAND_STARTS = frozenset({"WORD", "PHRASE", "(", "NOT", "-"})
_BAREWORD = re.compile(r'[^\s()"]+')
_LANG = re.compile(r"lang:(.*)", re.IGNORECASE)
_LANG_CODE = re.compile(r"[a-z]{2}|und")


class QueryError(ValueError):
    """A query that cannot be parsed; `position` is the 0-based offset of the problem."""

    def __init__(self, message: str, position: int):
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} at position {self.position}"


@functools.lru_cache(maxsize=None)
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    """Build (token regex, word-character regex) on first use.

    `re`'s ``\\w`` misses combining marks (Devanagari vowel signs, Hebrew points, ...), which
    would split such words apart, so combining marks are added to the word class.
    Marks continue a word but never start one. Built lazily to keep imports side-effect free.
    """
    planes = itertools.chain(range(0x20000), range(0xE0100, 0xE01F0))  # where marks live
    marks = "".join(chr(cp) for cp in planes if unicodedata.category(chr(cp))[0] == "M")
    word = f"[\\w{marks}]"
    token = re.compile(rf"(?:(?<!{word})[{_SIGILS}])?\w{word}*")
    return token, re.compile(word)


def _fold(text: str) -> str:
    """Canonical caseless form: NFD, casefold, then NFC (so 'Café' and 'CAFE\\u0301' agree)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def tokenize_text(text: str) -> list[str]:
    """Split text into case-folded words; a ``#`` or ``@`` starting a word is kept (``#rust``).

    Words are runs of Unicode letters, digits, underscores and combining marks; everything
    else separates them. A sigil only counts at the start of a word, so ``a@b.com`` gives
    ``a``, ``b``, ``com`` rather than a mention.
    """
    return _patterns()[0].findall(_fold(text))


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query."""


@dataclass(frozen=True, slots=True)
class Term:
    word: str


@dataclass(frozen=True, slots=True)
class Prefix:
    stem: str


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: "Node"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Lang:
    """`lang:xx`: the mention's language is `code`."""
    code: str


Node = Union[MatchAll, Term, Prefix, Phrase, Lang, Not, And, Or]


def _join(cls: type, parts: list[Node]) -> Node:
    """Combine operands into an n-ary And/Or, flattening nested ones of the same kind."""
    if len(parts) == 1:
        return parts[0]
    flat: list[Node] = []
    for part in parts:
        flat.extend(part.children if isinstance(part, cls) else (part,))
    return cls(tuple(flat))


def _negate(node: Node) -> Node:
    """NOT of a node; double negation cancels, which also keeps `------a` from nesting deep."""
    return node.child if isinstance(node, Not) else Not(node)


class _Tok(NamedTuple):
    kind: str  # WORD, PHRASE, (, ), AND, OR, NOT, -, END
    text: str
    pos: int


def _lex(query: str) -> list[_Tok]:
    """Split a query into tokens, rejecting unterminated quotes and dangling '-'."""
    tokens, i, n = [], 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Tok(ch, ch, i))
            i += 1
        elif ch == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError("unterminated quote", i)
            tokens.append(_Tok("PHRASE", query[i + 1:end], i))
            i = end + 1
        elif ch == "-":
            if i + 1 == n or query[i + 1].isspace() or query[i + 1] == ")":
                raise QueryError("'-' must be followed directly by a word, phrase or '('", i)
            tokens.append(_Tok("-", ch, i))
            i += 1
        else:
            word = _BAREWORD.match(query, i).group()
            tokens.append(_Tok(word if word in _KEYWORDS else "WORD", word, i))
            i += len(word)
    tokens.append(_Tok("END", "", n))
    return tokens


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary ([AND] unary)*;
    unary := (NOT | -)* primary; primary := word | phrase | '(' or ')'."""

    def __init__(self, query: str):
        self.tokens = _lex(query)
        self.index = 0
        self.depth = 0
        self.term_count = 0

    def peek(self) -> _Tok:
        return self.tokens[self.index]

    def advance(self) -> _Tok:
        self.index += 1
        return self.tokens[self.index - 1]

    def parse(self) -> Node:
        if self.peek().kind == "END":
            return MatchAll()
        node = self.parse_or(None)
        if self.peek().kind != "END":  # only a stray ')' can stop parse_or early
            raise QueryError("unexpected ')'", self.peek().pos)
        return node

    def parse_or(self, before: _Tok | None) -> Node:
        parts = [self.parse_and(before)]
        while self.peek().kind == "OR":
            parts.append(self.parse_and(self.advance()))
        return _join(Or, parts)

    def parse_and(self, before: _Tok | None) -> Node:
        parts = [self.parse_unary(before)]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                parts.append(self.parse_unary(self.advance()))
            elif kind in _OPERAND_STARTS:
                parts.append(self.parse_unary(None))
            else:
                return _join(And, parts)

    def parse_unary(self, before: _Tok | None) -> Node:
        negations = 0
        while self.peek().kind in ("NOT", "-"):
            before = self.advance()
            negations += 1
        node = self.parse_primary(before)
        return _negate(node) if negations % 2 else node

    def parse_primary(self, before: _Tok | None) -> Node:
        tok = self.peek()
        if tok.kind == "WORD":
            return self.word(self.advance())
        if tok.kind == "PHRASE":
            return self.phrase(self.advance())
        if tok.kind == "(":
            return self.group(self.advance())
        raise self.missing_operand(before, tok)

    def group(self, opener: _Tok) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"parentheses nested more than {MAX_DEPTH} deep", opener.pos)
        if self.peek().kind == ")":
            raise QueryError("empty parentheses", opener.pos)
        node = self.parse_or(opener)
        if self.peek().kind != ")":
            raise QueryError("missing ')' for '('", opener.pos)
        self.advance()
        self.depth -= 1
        return node

    @staticmethod
    def missing_operand(before: _Tok | None, found: _Tok) -> QueryError:
        """Explain why a term was expected but `found` came instead."""
        if before is not None and before.kind in ("AND", "OR", "NOT", "-"):
            return QueryError(f"missing term after '{before.text}'", before.pos)
        if found.kind in ("AND", "OR"):
            return QueryError(f"missing term before '{found.text}'", found.pos)
        if found.kind == "END" and before is not None:
            return QueryError("missing ')' for '('", before.pos)
        return QueryError(f"unexpected '{found.text}'", found.pos)

    def word(self, tok: _Tok) -> Node:
        lang = _LANG.fullmatch(tok.text)
        if lang:
            code = lang.group(1).lower()
            if not _LANG_CODE.fullmatch(code):
                raise QueryError("lang: takes a two-letter language code (lang:en, lang:fr) or lang:und",
                                 tok.pos)
            self.term_count += 1
            return Lang(code)
        raw, star = tok.text, tok.text.find("*")
        if star != -1 and star != len(raw) - 1:
            raise QueryError("'*' is only allowed at the end of a word", tok.pos + star)
        body = raw[:-1] if star != -1 else raw
        words = tokenize_text(body)
        if star == -1:
            if not words:
                raise QueryError(f"'{raw}' has no letters or digits", tok.pos)
            return self.leaf(tok, words)
        if not body or not _patterns()[1].fullmatch(body[-1]):
            raise QueryError("'*' must come right after a letter or digit", tok.pos + star)
        if len(words) != 1:
            raise QueryError("'*' can only end a single word", tok.pos + star)
        return self.leaf(tok, words, prefix=True)

    def phrase(self, tok: _Tok) -> Node:
        if "*" in tok.text:
            raise QueryError("'*' is not allowed inside quotes", tok.pos + 1 + tok.text.index("*"))
        words = tokenize_text(tok.text)
        if not words:
            raise QueryError("empty phrase", tok.pos)
        return self.leaf(tok, words)

    def leaf(self, tok: _Tok, words: list[str], prefix: bool = False) -> Node:
        """Count a term against MAX_TERMS; several words (quoted or `e-mail`) form a phrase."""
        self.term_count += 1
        if self.term_count > MAX_TERMS:
            raise QueryError(f"too many terms (at most {MAX_TERMS})", tok.pos)
        if prefix:
            return Prefix(words[0])
        return Term(words[0]) if len(words) == 1 else Phrase(tuple(words))


class _Text(NamedTuple):
    """A text prepared once per match: tokens, and tokens with any leading '#'/'@' removed;
    `lang()` its language (detected only when a `lang:` term asks)."""
    tokens: tuple[str, ...]
    bare: tuple[str, ...]
    token_set: frozenset[str]
    bare_set: frozenset[str]
    lang: Callable[[], str]


def _detected(text: str) -> Callable[[], str]:
    """The language of `text`, detected on first call (insights/languages.py: imported only when a
    query has a `lang:` term and the mention came without a language, as fetched items do)."""
    found: list[str] = []

    def lang() -> str:
        if not found:
            from webapp.insights.languages import detect

            found.append(detect(text))
        return found[0]
    return lang


def _prepare(text: str, lang: str | None = None) -> _Text:
    tokens = tuple(tokenize_text(text))
    bare = tuple(t[1:] if t[0] in _SIGILS else t for t in tokens)
    return _Text(tokens, bare, frozenset(tokens), frozenset(bare),
                 (lambda: lang) if lang else _detected(text))


def _phrase_at(words: tuple[str, ...], text: _Text, start: int) -> bool:
    """Whether `words` occur at token `start`; '#x' needs the hashtag, 'x' accepts x or #x."""
    return all((text.tokens if w[0] in _SIGILS else text.bare)[start + k] == w
               for k, w in enumerate(words))


def _evaluate(node: Node, text: _Text) -> bool:
    """Decide whether the prepared text satisfies the query node."""
    match node:
        case Term(word):
            return word in (text.token_set if word[0] in _SIGILS else text.bare_set)
        case Prefix(stem):
            return any(t.startswith(stem) for t in (text.tokens if stem[0] in _SIGILS else text.bare))
        case Phrase(words):
            return any(_phrase_at(words, text, i) for i in range(len(text.tokens) - len(words) + 1))
        case Lang(code):
            return text.lang() == code
        case Not(child):
            return not _evaluate(child, text)
        case And(children):
            return all(_evaluate(c, text) for c in children)
        case Or(children):
            return any(_evaluate(c, text) for c in children)
    return True  # MatchAll


def _format(node: Node) -> str:
    """Normalised query text; AND inside OR is parenthesised for readability."""
    match node:
        case Term(word):
            return word
        case Prefix(stem):
            return stem + "*"
        case Phrase(words):
            return '"' + " ".join(words) + '"'
        case Lang(code):
            return f"lang:{code}"
        case Not(child):
            inner = _format(child)
            return "NOT " + (f"({inner})" if isinstance(child, (And, Or)) else inner)
        case And(children):
            return " AND ".join(f"({_format(c)})" if isinstance(c, Or) else _format(c) for c in children)
        case Or(children):
            return " OR ".join(f"({_format(c)})" if isinstance(c, And) else _format(c) for c in children)
    return ""


def _positive_terms(node: Node, positive: bool, out: list[str]) -> None:
    """Collect terms that count in favour of a match (under an even number of negations)."""
    match node:
        case Term(word) if positive:
            out.append(word)
        case Prefix(stem) if positive:
            out.append(stem + "*")
        case Phrase(words) if positive:
            out.append(" ".join(words))
        case Not(child):
            _positive_terms(child, not positive, out)
        case And(children) | Or(children):
            for child in children:
                _positive_terms(child, positive, out)


@dataclass(frozen=True)
class Query:
    """A parsed query: `source` is the text it came from, `root` its AST."""
    source: str
    root: Node

    def matches(self, text: str | None, lang: str | None = None) -> bool:
        """Whether `text` (in language `lang`, detected when None and a `lang:` term asks)
        satisfies the query; the empty query matches everything."""
        if isinstance(self.root, MatchAll):
            return True
        return _evaluate(self.root, _prepare(text or "", lang))

    def terms(self) -> list[str]:
        """Positive words, phrases (words joined by spaces) and prefixes (``lov*``), deduplicated."""
        out: list[str] = []
        _positive_terms(self.root, True, out)
        return list(dict.fromkeys(out))

    def __str__(self) -> str:
        return _format(self.root)


def parse(query: str) -> Query:
    """Parse a query string; raises QueryError with the position of the first problem."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is longer than {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH)
    return Query(query, _Parser(query).parse())


def validate(query: str) -> None:
    """Raise QueryError if `query` is not valid; for form and API validation."""
    parse(query)


@functools.lru_cache(maxsize=1024)
def compile_query(query: str) -> Query:
    """parse(), cached: monitors filter every fetched item with the same few queries."""
    return parse(query)
