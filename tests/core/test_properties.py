"""Property tests (hypothesis) for the parsers that read what users and remote servers send.

- the query language: any string compiles or raises QueryError (never another exception);
  compiling is deterministic; the normalised form (`str(query)`) is a fixed point that means
  the same as the original; NOT / OR / AND of valid queries behave as boolean operators;
- the feed path (bytes -> feedparser -> items): any bytes give items or a SourceError;
- the JSON source's dotted paths: any JSON document and any path give a value, MISSING, a
  list of items or a SourceError; a path that walks the document finds what it walked to.

Each test is bounded (max_examples, deadline) so the file runs in well under a minute.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from webapp.core import query as query_language
from webapp.core.query import QueryError, compile_query, parse
from webapp.monitors.sources.base import FetchedItem, SourceError
from webapp.monitors.sources.json_source import _MISSING, item_from, items_of, resolve, to_datetime
from webapp.monitors.sources.rss import entry_to_item, parse_feed

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
FAST = settings(max_examples=300, deadline=500,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(max_examples=120, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

# -- the query language --------------------------------------------------------------------

WORDS = st.sampled_from(["rust", "Rust", "lov*", "café", "CAFE\u0301", "#rust", "@ana", "e-mail",
                         "naïve", "日本", "x", "AND", "OR", "NOT", "and", "or", "not", "-", "*",
                         "(", ")", '"', '"big data"', '""', "a*b", "_", "42", "--x", "#", "@"])
QUERY_PIECES = st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=25).map(" ".join)
QUERIES = st.one_of(QUERY_PIECES, st.text(max_size=200))
VALID_QUERIES = st.recursive(
    st.sampled_from(["rust", "lov*", "café", '"big data"', "#rust", "@ana", "e-mail", "naïve",
                     "日本", "42", "x", "and", "Data"]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"{t[0]} OR {t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} AND {t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} {t[1]}"),
        inner.map(lambda q: f"({q})"), inner.map(lambda q: f"NOT {q}"), inner.map(lambda q: f"-{q}")),
    max_leaves=8)
TEXTS = st.one_of(
    st.lists(st.sampled_from(["rust", "Rust", "love", "lovely", "café", "cafe", "#rust", "@ana",
                              "big", "data", "e", "mail", "naive", "naïve", "日本", "42", "x", "and"]),
             max_size=12).map(" ".join),
    st.text(max_size=80))


def compiled_or_none(text: str):
    try:
        return parse(text)
    except QueryError as exc:
        assert isinstance(exc.position, int) and 0 <= exc.position <= len(text)
        assert exc.message
        return None


@FAST
@given(QUERIES)
@example("(" * 50 + "x" + ")" * 50)
@example(" OR ".join(["x"] * 300))
@example("x" * 3000)
@example('"unterminated')
@example("-")
@example("lov**")
def test_any_string_compiles_or_raises_query_error(text):
    compiled_or_none(text)   # any other exception fails the test


@FAST
@given(QUERIES, TEXTS)
def test_compiling_is_deterministic(text, sample):
    first = compiled_or_none(text)
    second = compiled_or_none(text)
    assert (first is None) == (second is None)
    if first is not None:
        assert first.root == second.root and str(first) == str(second)
        assert first.terms() == second.terms()
        assert first.matches(sample) == second.matches(sample) == compile_query(text).matches(sample)


@FAST
@given(st.one_of(VALID_QUERIES, QUERIES), st.lists(TEXTS, min_size=1, max_size=5))
def test_the_normalised_form_is_a_fixed_point_with_the_same_meaning(text, samples):
    query = compiled_or_none(text)
    assume(query is not None)
    again = parse(str(query))
    assert str(again) == str(query)
    for sample in samples:
        assert again.matches(sample) == query.matches(sample)


@FAST
@given(VALID_QUERIES, VALID_QUERIES, TEXTS)
def test_boolean_operators_compose(left_text, right_text, sample):
    left, right = parse(left_text), parse(right_text)
    a, b = str(left), str(right)
    for combined, expected in ((f"NOT ({a})", not left.matches(sample)),
                               (f"({a}) OR ({b})", left.matches(sample) or right.matches(sample)),
                               (f"({a}) AND ({b})", left.matches(sample) and right.matches(sample)),
                               (f"({a}) -({b})", left.matches(sample) and not right.matches(sample))):
        query = compiled_or_none(combined)
        if query is not None:   # (the combination may exceed the term or depth limits)
            assert query.matches(sample) == expected, combined


@FAST
@given(st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True), TEXTS, TEXTS)
def test_a_word_matches_text_containing_it(word, before, after):
    assume(word.upper() not in ("AND", "OR", "NOT"))
    assert parse(word).matches(f"{before} {word.upper()} {after}")
    assert parse(f"{word}*").matches(f"{before} {word}suffix {after}")
    assert not parse(f"NOT {word}").matches(f"{before} {word} {after}")


@FAST
@given(TEXTS)
def test_the_empty_query_matches_everything(sample):
    assert parse("").matches(sample) and parse("   ").matches(sample)


def test_query_limits_are_query_errors():
    for text in ("x " * (query_language.MAX_TERMS + 1), "(" * (query_language.MAX_DEPTH + 1) + "x"
                 + ")" * (query_language.MAX_DEPTH + 1), "x" * (query_language.MAX_QUERY_LENGTH + 1)):
        with pytest.raises(QueryError):
            parse(text)


# -- the feed path ---------------------------------------------------------------------------

def feed_items(content: bytes, content_type: str | None) -> list[FetchedItem]:
    """What the rss adapter does with downloaded bytes (after egress): parse, then map entries."""
    parsed = parse_feed(content, content_type, "https://feeds.example/feed.xml")
    items = [entry_to_item(entry, NOW) for entry in parsed.get("entries", [])]
    return [item for item in items if item is not None]


XML_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
FRAGMENTS = st.one_of(
    st.sampled_from([
        "<item>", "</item>", "<title>", "</title>", "<description>", "</description>",
        "<link>", "</link>", "<guid>", "</guid>", "<pubDate>", "</pubDate>", "<entry>", "</entry>",
        "<![CDATA[", "]]>", "&amp;", "&lt;", "&#0;", "&#x110000;", "&bogus;", "<!-- ", " -->",
        "<?pi x?>", "<script>", "<img src=x onerror=1>", "Tue, 10 Jun 2003 04:00:00 GMT",
        "9999-99-99", "http://", "javascript:alert(1)", "\x00", "\ufeff", "<!DOCTYPE x>",
        '<!ENTITY a "b">', "&a;", "<a:b xmlns:a='u'>", "</a:b>",
    ]),
    XML_TEXT)
HEADS = st.sampled_from([
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>',
    '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel>',
    '<?xml version="1.0" encoding="iso-8859-1"?><rss><channel>',
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">',
    "", "<html><body>",
])
FEED_DOCS = st.builds(lambda head, parts, tail: (head + "".join(parts) + tail),
                      HEADS, st.lists(FRAGMENTS, max_size=40),
                      st.sampled_from(["</channel></rss>", "</feed>", "</rdf:RDF>", "", "</chan"]))
CONTENT_TYPES = st.sampled_from([None, "application/rss+xml", "text/xml; charset=utf-8",
                                 "application/atom+xml; charset=iso-8859-1", "text/html",
                                 "application/xml; charset=bogus", "application/json"])


@SLOW
@given(st.binary(max_size=2000), CONTENT_TYPES)
def test_arbitrary_bytes_give_items_or_a_source_error(content, content_type):
    try:
        items = feed_items(content, content_type)
    except SourceError as exc:
        assert exc.code == "parse"
        return
    assert all(isinstance(item, FetchedItem) and item.text for item in items)


@SLOW
@given(FEED_DOCS, st.sampled_from(["utf-8", "utf-16", "latin-1"]), CONTENT_TYPES)
def test_feed_like_documents_give_items_or_a_source_error(doc, encoding, content_type):
    try:
        items = feed_items(doc.encode(encoding, "replace"), content_type)
    except SourceError as exc:
        assert exc.code == "parse"
        return
    for item in items:
        assert isinstance(item, FetchedItem) and item.text and item.external_id
        assert item.url is None or item.url.startswith(("http://", "https://"))
        assert "\x00" not in item.text
        assert item.published_at is None or item.published_at <= NOW


# -- the JSON source's dotted paths ----------------------------------------------------------

KEYS = st.one_of(st.sampled_from(["id", "text", "data", "items", "0", "-1", "user", "name", ""]),
                 st.text(max_size=8))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                    st.floats(allow_nan=True, allow_infinity=True),   # json.loads reads NaN too
                    st.sampled_from(["2024-05-01T10:00:00Z", "0001-01-01T00:00:00+01:00",
                                     "9999-12-31T23:59:59-01:00", "Tue, 10 Jun 2003 04:00:00 GMT",
                                     "Fri, 31 Dec 9999 23:59:59 -0100",
                                     "1714521600", "1714521600000", "-1e400", "99999999999999999",
                                     "<b>bold</b> text", "https://example.com/x", "javascript:x"]))
JSON_DOCS = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5)), max_leaves=30)
PATHS = st.one_of(st.lists(KEYS, max_size=5).map(".".join), st.text(max_size=20))


def walk(data, draw_index):
    """A random path that exists in `data`, and the value it leads to."""
    parts, current = [], data
    while isinstance(current, (dict, list)) and current:
        if isinstance(current, dict):
            keys = [k for k in current if k and "." not in k]
            if not keys:
                break
            key = keys[draw_index(len(keys))]
            parts.append(key)
            current = current[key]
        else:
            index = draw_index(len(current))
            parts.append(str(index))
            current = current[index]
        if draw_index(3) == 0:
            break
    return ".".join(parts), current


@FAST
@given(JSON_DOCS, PATHS)
def test_resolve_never_fails(data, path):
    resolve(data, path)


@FAST
@given(JSON_DOCS, st.data())
def test_a_walked_path_resolves_to_what_it_walked_to(data, draw):
    path, expected = walk(data, lambda n: draw.draw(st.integers(0, n - 1)))
    found = resolve(data, path)
    # keys that look like list indexes ("0", "-1") walk dicts; resolve reads them as keys too
    assert found is expected or found == expected or (
        isinstance(expected, float) and math.isnan(expected) and math.isnan(found))


@FAST
@given(JSON_DOCS, PATHS, st.fixed_dictionaries(
    {"id": PATHS, "text": st.one_of(PATHS, st.lists(PATHS, min_size=1, max_size=5))},
    optional={"author": PATHS, "url": PATHS, "published_at": PATHS}))
def test_items_and_fields_of_any_document(data, items_path, fields):
    try:
        entries = items_of(data, items_path)
    except SourceError as exc:
        assert exc.code == "parse"
        entries = [data]
    for entry in entries:
        item = item_from(entry, fields, NOW)
        if item is not None:
            assert item.text and item.external_id
            assert item.url is None or item.url.startswith(("http://", "https://"))
            assert item.published_at is None or item.published_at <= NOW


@FAST
@given(SCALARS)
@example("0001-01-01T00:00:00+01:00")   # found by this test: OverflowError converting to UTC
@example("9999-12-31T23:59:59-01:00")
@example("Fri, 31 Dec 9999 23:59:59 -0100")   # found too: the same overflow in the RFC 2822 path
def test_to_datetime_reads_or_returns_none(value):
    when = to_datetime(value, NOW)
    assert when is None or (when.tzinfo is not None and when <= NOW)
