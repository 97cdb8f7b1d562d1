"""Tests for the monitor query language (webapp.core.query)."""
import pickle
import random
import re

import pytest

from webapp.core import query as ql
from webapp.core.query import (
    MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS, Query, QueryError, compile_query, parse, tokenize_text,
    validate,
)


def check(query, text, expected):
    assert parse(query).matches(text) is expected, (query, text)


# --- matching ------------------------------------------------------------------------------

@pytest.mark.parametrize("query,text,expected", [
    ("cat", "a cat sat", True),
    ("cat", "the dog sat", False),
    ("cat", "", False),
    ("cat", "cat", True),
    ("cat", "cat.", True),
    ("cat", "(cat)", True),
    ("sentimon", "I like Sentimon, really", True),
])
def test_words(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text", [
    ("cat", "CAT"), ("CAT", "cat"), ("Cat", "cAt"), ("iPhone", "IPHONE 15"), ("straße", "STRASSE"),
])
def test_case_insensitive(query, text):
    check(query, text, True)


@pytest.mark.parametrize("query,text,expected", [
    ("cat", "category", False),
    ("cat", "concat", False),
    ("cat", "cats", False),
    ("cat", "cat-like", True),
    ("cat", "the_cat", False),
    ("15", "iphone 15 pro", True),
    ("15", "iphone 150", False),
    ("don't", "I don't know", True),
    ("don't", "don t", True),
])
def test_whole_words(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("café", "un café noir", True),
    ("cafe", "un café noir", False),
    ("CAFÉ", "Café", True),
    ("café", "cafe\u0301 au lait", True),     # decomposed é in the text
    ("cafe\u0301", "café", True),             # decomposed é in the query
    ("naïve", "so naïve!", True),
    ("über", "Über alles", True),
    ("über", "überall", False),
    ("москва", "Я люблю Москва.", True),
    ("हिन्दी", "मैं हिन्दी बोलता हूँ", True),
    ("हि", "मैं हिन्दी बोलता हूँ", False),
    ("東京", "東京 tower", True),
])
def test_unicode(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("#rust", "learning #rust today", True),
    ("#rust", "learning rust today", False),
    ("rust", "learning #rust today", True),
    ("rust", "learning #Rust today", True),
    ("#rust", "#rustlang", False),
    ("@acme", "thanks @ACME!", True),
    ("acme", "thanks @acme!", True),
    ("@acme", "acme corp", False),
    ("#acme", "@acme", False),
    ("@acme", "mail me at bob@acme.com", False),
    ("acme", "mail me at bob@acme.com", True),
    ('"#rust is great"', "#Rust is GREAT", True),
    ('"rust is great"', "#Rust is GREAT", True),
    ('"#rust is great"', "rust is great", False),
    ("#rus*", "#rustlang", True),
    ("#rus*", "rustlang", False),
    ("rus*", "#rustlang", True),
])
def test_hashtags_and_mentions(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("lov*", "love", True),
    ("lov*", "I am LOVING it", True),
    ("lov*", "lov", True),
    ("lov*", "glove", False),
    ("lov*", "lo ve", False),
    ("caf*", "café", True),
    ("lov* -lovely", "love", True),
    ("lov* -lovely", "lovely", False),
])
def test_prefix_wildcard(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ('"free shipping"', "we offer free shipping today", True),
    ('"free shipping"', "Free, shipping!", True),
    ('"free shipping"', "free -- shipping", True),
    ('"free shipping"', "shipping free", False),
    ('"free shipping"', "free fast shipping", False),
    ('"free shipping"', "free", False),
    ('"free shipping"', "freeshipping", False),
    ('"a b a"', "a b a", True),
    ('"a b a"', "a b b a", False),
    ('"a b"', "a a b", True),
    ('"  free   SHIPPING "', "free shipping", True),
    ('"free"', "for free", True),
    ("e-mail", "send an e-mail", True),
    ("e-mail", "send an e mail", True),
    ("e-mail", "send an email", False),
])
def test_phrases(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    # implicit AND
    ("apple pie", "apple pie", True),
    ("apple pie", "pie with apple", True),
    ("apple pie", "apple tart", False),
    # explicit AND
    ("apple AND pie", "pie, apple", True),
    ("apple AND pie", "apple", False),
    # OR
    ("apple OR pie", "pie", True),
    ("apple OR pie", "apple", True),
    ("apple OR pie", "tart", False),
    # NOT and leading -
    ("apple NOT pie", "apple", True),
    ("apple NOT pie", "apple pie", False),
    ("apple AND NOT pie", "apple pie", False),
    ("apple -pie", "apple pie", False),
    ("apple -pie", "apple tart", True),
    ('apple -"free shipping"', "apple free shipping", False),
    ('apple -"free shipping"', "apple shipping free", True),
    ("apple -(pie OR tart)", "apple tart", False),
    ("apple -(pie OR tart)", "apple crumble", True),
    ("apple OR NOT pie", "tart", True),
    ("apple OR NOT pie", "pie", False),
    ("NOT NOT apple", "apple", True),
    ("--apple", "apple", True),
    ("--apple", "pie", False),
    ("-NOT apple", "apple", True),
    ("a-b", "a b", True),
])
def test_operators(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,equivalent", [
    ("a OR b c", "a OR (b AND c)"),
    ("a OR b AND c", "a OR (b AND c)"),
    ("a b OR c", "(a AND b) OR c"),
    ("NOT a b", "(NOT a) AND b"),
    ("NOT a OR b", "(NOT a) OR b"),
    ("-a OR b", "(NOT a) OR b"),
    ("a AND b OR c AND d", "(a AND b) OR (c AND d)"),
    ("a OR b OR c", "a OR (b OR c)"),
    ("((a))", "a"),
    ("(a b) c", "a AND b AND c"),
])
def test_precedence(query, equivalent):
    assert parse(query).root == parse(equivalent).root


@pytest.mark.parametrize("text,expected", [
    ("a", True),
    ("b c", True),
    ("b", False),
    ("c", False),
])
def test_or_binds_looser_than_implicit_and(text, expected):
    check("a OR b c", text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("(a OR b) (c OR d)", "a d", True),
    ("(a OR b) (c OR d)", "a b", False),
    ("((a OR b) AND (c OR (d AND e)))", "b d e", True),
    ("((a OR b) AND (c OR (d AND e)))", "b d", False),
    ("-(a (b OR -c))", "a c", True),
    ("-(a (b OR -c))", "a", False),
    ("(((((a)))))", "a", True),
])
def test_nested_parentheses(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("cats and dogs", "cats and dogs", True),
    ("cats and dogs", "cats dogs", False),
    ("cats or dogs", "cats", False),
    ("cats or dogs", "cats or dogs", True),
    ("not bad", "not bad at all", True),
    ("not bad", "bad", False),
    ("And", "this AND that", True),
    ("Or", "or", True),
])
def test_lower_case_operators_are_words(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query,text,expected", [
    ("-spam", "ham and eggs", True),
    ("-spam", "spam and eggs", False),
    ("-spam -scam", "legit offer", True),
    ("-spam -scam", "a scam", False),
    ("NOT spam", "", True),
    ('-"buy now"', "buy it now", True),
])
def test_only_negations(query, text, expected):
    check(query, text, expected)


@pytest.mark.parametrize("query", ["", " ", "\t\n  "])
@pytest.mark.parametrize("text", ["", "anything at all", None])
def test_empty_query_matches_everything(query, text):
    q = parse(query)
    assert q.matches(text) is True
    assert q.terms() == []
    assert str(q) == ""


def test_none_text_is_empty():
    assert parse("-spam").matches(None) is True
    assert parse("spam").matches(None) is False


# --- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("query,position,message", [
    ("(a", 0, "missing ')' for '('"),
    ("a (b", 2, "missing ')' for '('"),
    ("(a OR (b)", 0, "missing ')' for '('"),
    ("(", 0, "missing ')' for '('"),
    ("a)", 1, "unexpected ')'"),
    (")", 0, "unexpected ')'"),
    ("(a OR b))", 8, "unexpected ')'"),
    ("a OR b) c", 6, "unexpected ')'"),
    ("AND foo", 0, "missing term before 'AND'"),
    ("OR foo", 0, "missing term before 'OR'"),
    ("(OR foo)", 1, "missing term before 'OR'"),
    ("foo OR", 4, "missing term after 'OR'"),
    ("foo AND", 4, "missing term after 'AND'"),
    ("NOT", 0, "missing term after 'NOT'"),
    ("a NOT", 2, "missing term after 'NOT'"),
    ("a AND OR b", 2, "missing term after 'AND'"),
    ("a OR AND b", 2, "missing term after 'OR'"),
    ("(a OR)", 3, "missing term after 'OR'"),
    ("a NOT )", 2, "missing term after 'NOT'"),
    ("-AND", 0, "missing term after '-'"),
    ("()", 0, "empty parentheses"),
    ("a (  )", 2, "empty parentheses"),
    ('"free shipping', 0, "unterminated quote"),
    ('a "b" "c', 6, "unterminated quote"),
    ('""', 0, "empty phrase"),
    ('a "   "', 2, "empty phrase"),
    ('"!!"', 0, "empty phrase"),
    ("l*ve", 1, "'*' is only allowed at the end of a word"),
    ("*love", 0, "'*' is only allowed at the end of a word"),
    ("lov**", 3, "'*' is only allowed at the end of a word"),
    ("a *", 2, "'*' must come right after a letter or digit"),
    ("lov.*", 4, "'*' must come right after a letter or digit"),
    ("e-mai*", 5, "'*' can only end a single word"),
    ('"lov* you"', 4, "'*' is not allowed inside quotes"),
    ("a - b", 2, "'-' must be followed directly by a word, phrase or '('"),
    ("a -", 2, "'-' must be followed directly by a word, phrase or '('"),
    ("(a -)", 3, "'-' must be followed directly by a word, phrase or '('"),
    ("a && b", 2, "'&&' has no letters or digits"),
])
def test_errors(query, position, message):
    with pytest.raises(QueryError) as info:
        parse(query)
    err = info.value
    assert (err.message, err.position) == (message, position)
    assert str(err) == f"{message} at position {position}"
    with pytest.raises(QueryError):
        validate(query)
    with pytest.raises(QueryError):
        compile_query(query)


def test_query_error_is_a_value_error_and_survives_pickling():
    err = QueryError("unexpected ')'", 7)
    assert isinstance(err, ValueError)
    assert str(err) == "unexpected ')' at position 7"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.position, str(copy)) == (err.message, err.position, str(err))


# --- limits --------------------------------------------------------------------------------

def test_limit_constants():
    assert (MAX_TERMS, MAX_DEPTH, MAX_QUERY_LENGTH) == (200, 20, 2000)


def test_max_terms():
    words = [f"w{i}" for i in range(MAX_TERMS + 1)]
    validate(" OR ".join(words[:MAX_TERMS]))
    query = " OR ".join(words)
    with pytest.raises(QueryError) as info:
        parse(query)
    assert info.value.position == query.rindex("w200")
    assert "too many terms" in info.value.message


@pytest.mark.parametrize("term", ['"a b"', "a*", "-a"])
def test_max_terms_counts_every_kind_of_term(term):
    with pytest.raises(QueryError, match="too many terms"):
        parse(" ".join([term] * (MAX_TERMS + 1)))


def test_max_depth():
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(ok).matches("a")
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(QueryError) as info:
        parse(deep)
    assert info.value.position == MAX_DEPTH
    assert "nested" in info.value.message


def test_depth_counts_nesting_not_groups():
    validate(" ".join(["(a)"] * (MAX_DEPTH + 5)))
    validate("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH + " (" * MAX_DEPTH + "b" + ")" * MAX_DEPTH)


def test_max_query_length():
    ok = "(" + "a" * (MAX_QUERY_LENGTH - 8) + " OR b) "
    assert len(ok) == MAX_QUERY_LENGTH
    validate(ok)
    with pytest.raises(QueryError) as info:
        parse(ok + "c")
    assert info.value.position == MAX_QUERY_LENGTH
    assert "longer than 2000" in info.value.message


def test_long_negation_chain_does_not_recurse_deeply():
    odd = "-" * (MAX_QUERY_LENGTH - 3) + "a"
    assert parse(odd).matches("b") and not parse(odd).matches("a")
    even = "-" + odd
    assert parse(even).matches("a") and not parse(even).matches("b")


# --- API: terms(), str(), compile_query, tokenize_text -------------------------------------

@pytest.mark.parametrize("query,terms", [
    ("", []),
    ("Apple", ["apple"]),
    ("apple OR pie -tart", ["apple", "pie"]),
    ('"Free  Shipping" lov*', ["free shipping", "lov*"]),
    ("#rust @acme", ["#rust", "@acme"]),
    ("a a (a OR b)", ["a", "b"]),
    ("-spam", []),
    ("NOT (a AND NOT b)", ["b"]),
    ("-(a -(b c))", ["b", "c"]),
    ("e-mail", ["e mail"]),
])
def test_terms(query, terms):
    assert parse(query).terms() == terms


@pytest.mark.parametrize("query,normalised", [
    ("a", "a"),
    ("A   b", "a AND b"),
    ("(a OR b) -c", "(a OR b) AND NOT c"),
    ("a OR b c", "a OR (b AND c)"),
    ("-(a OR b)", "NOT (a OR b)"),
    ("-(a b)", "NOT (a AND b)"),
    ("NOT NOT a", "a"),
    ('"Free,  shipping!" lov*', '"free shipping" AND lov*'),
    ('"solo"', "solo"),
    ("and or not", "and AND or AND not"),
    ("#Rust OR @Acme", "#rust OR @acme"),
    ("e-mail", '"e mail"'),
    ("((a OR b) OR c)", "a OR b OR c"),
])
def test_str_normalises(query, normalised):
    assert str(parse(query)) == normalised
    assert str(parse(normalised)) == normalised


def test_query_keeps_source_and_is_immutable():
    q = parse("  a OR b ")
    assert isinstance(q, Query)
    assert q.source == "  a OR b "
    with pytest.raises(AttributeError):
        q.source = "x"


def test_compile_query_caches():
    assert compile_query("cached OR query") is compile_query("cached OR query")
    assert compile_query("cached OR query").root == parse("cached OR query").root


def test_validate_returns_none():
    assert validate("a OR b") is None
    assert validate("") is None


@pytest.mark.parametrize("text,tokens", [
    ("Hello, World!", ["hello", "world"]),
    ("Café naïve ÜBER", ["café", "naïve", "über"]),
    ("#Rust @acme bob@acme.com", ["#rust", "@acme", "bob", "acme", "com"]),
    ("##rust a#b", ["#rust", "a", "b"]),
    ("snake_case 42", ["snake_case", "42"]),
    ("", []),
])
def test_tokenize_text(text, tokens):
    assert tokenize_text(text) == tokens


# --- property-style check against a brute-force evaluator ----------------------------------

VOCAB = ["apple", "apricot", "banana", "cherry", "and", "or", "not"]
EXTRA = ["applesauce", "ban", "xyz"]
STEMS = ["ap", "ban", "ch", "a", "o"]
SEPARATORS = [" ", "  ", ", ", "; ", "! ", " - ", "\n", "..."]


def random_node(rng, depth=0):
    roll = rng.random()
    if depth >= 3 or roll < 0.35:
        kind = rng.choice(["term", "term", "prefix", "phrase"])
        if kind == "term":
            return ("term", rng.choice(VOCAB))
        if kind == "prefix":
            return ("prefix", rng.choice(STEMS))
        return ("phrase", tuple(rng.choice(VOCAB) for _ in range(rng.randint(2, 3))))
    if roll < 0.5:
        return ("not", random_node(rng, depth + 1))
    op = "and" if roll < 0.75 else "or"
    return (op, [random_node(rng, depth + 1) for _ in range(rng.randint(2, 3))])


def render_word(rng, word):
    cases = [word, word.capitalize()] + ([] if word in ("and", "or", "not") else [word.upper()])
    return rng.choice(cases)


def render(rng, node):
    """Render with random but equivalent syntax: NOT vs '-', AND vs juxtaposition, extra parens."""
    kind = node[0]
    if kind == "term":
        return render_word(rng, node[1])
    if kind == "prefix":
        return render_word(rng, node[1]) + "*"
    if kind == "phrase":
        return '"' + rng.choice(SEPARATORS).join(render_word(rng, w) for w in node[1]) + '"'
    if kind == "not":
        child = render(rng, node[1])
        if node[1][0] in ("and", "or") or rng.random() < 0.2:
            child = f"({child})"
        return rng.choice(["NOT ", "-"]) + child
    parts = []
    for child in node[1]:
        text = render(rng, child)
        needs_parens = kind == "and" and child[0] == "or"
        parts.append(f"({text})" if needs_parens or rng.random() < 0.15 else text)
    if kind == "or":
        return " OR ".join(parts)
    out = parts[0]
    for part in parts[1:]:
        out += rng.choice([" AND ", " "]) + part
    return out


def brute_force(node, words):
    kind = node[0]
    if kind == "term":
        return node[1] in words
    if kind == "prefix":
        return any(w.startswith(node[1]) for w in words)
    if kind == "phrase":
        n = len(node[1])
        return any(tuple(words[i:i + n]) == node[1] for i in range(len(words) - n + 1))
    if kind == "not":
        return not brute_force(node[1], words)
    results = [brute_force(child, words) for child in node[1]]
    return all(results) if kind == "and" else any(results)


def random_text(rng):
    pieces = []
    for _ in range(rng.randint(0, 8)):
        word = render_word(rng, rng.choice(VOCAB + EXTRA))
        if rng.random() < 0.1:
            word = "#" + word
        pieces.append(word + rng.choice(SEPARATORS))
    return "".join(pieces)


def test_matches_agrees_with_brute_force():
    rng = random.Random(1234)
    checked = 0
    for _ in range(300):
        node = random_node(rng)
        query = render(rng, node)
        parsed = parse(query)
        reparsed = parse(str(parsed))
        assert reparsed.root == parsed.root, (query, str(parsed))
        for _ in range(5):
            text = random_text(rng)
            words = re.findall(r"[a-z]+", text.lower())
            expected = brute_force(node, words)
            assert parsed.matches(text) is expected, (query, text)
            assert reparsed.matches(text) is expected, (str(parsed), text)
            checked += 1
    assert checked == 1500


def test_module_has_the_documented_ast_nodes():
    for name in ("Term", "Phrase", "Prefix", "Not", "And", "Or", "MatchAll"):
        assert hasattr(ql, name)
