"""Query push-down for the social adapters (pushdown) and the small shared helpers (api_calls, items, times)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from urllib3 import HTTPHeaderDict

from webapp.core.query import compile_query
from webapp.monitors.sources import FetchContext, SourceError
from webapp.monitors.sources.api_calls import error_name
from webapp.monitors.sources.http import retry_after_seconds
from webapp.monitors.sources.items import make_item
from webapp.core.times import iso_millis, iso_seconds, parse_time, seconds_until_next_utc_day
from webapp.monitors.sources.pushdown import monitor_query, search_strings, x_query

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("query, searches", [
    ("acme", ["acme"]),
    ('acme "customer service"', ['acme "customer service"']),
    ('acme (rocket OR "grinder pro") -job', ["acme rocket", 'acme "grinder pro"']),
    ("a OR b OR c", ["a", "b", "c"]),
    ("a OR (a b)", ["a"]),  # (a b) only narrows a: one search covers both
    ("(a OR b) (c OR d)", ["a c", "a d", "b c", "b d"]),
    ("(a OR b) (c OR d) (e OR f)", ["a c", "a d", "b c", "b d"]),  # the third group is dropped, not narrowed
    ("a OR b OR c OR d OR e OR f", [""]),  # more than MAX_SEARCHES: search everything
    ("lov* acme", ["acme"]),
    ("a OR lov*", [""]),
    ("-job", [""]),
    ("NOT (a OR b) c", ["c"]),
    ("", [""]),
    ("#rust OR @acme", ["#rust", "@acme"]),
])
def test_search_strings_cover_the_query(query, searches):
    assert search_strings(compile_query(query)) == searches


@pytest.mark.parametrize("query, translated", [
    ("acme", "acme"),
    ("acme AND rocket", "acme rocket"),
    ('"customer service" OR support', '"customer service" OR support'),
    ("acme (rocket OR grinder) -job", "acme (rocket OR grinder) -job"),
    ("(a b) OR c", "(a b) OR c"),
    ("acme -(spam OR ads)", "acme -spam -ads"),  # X refuses negated groups
    ("acme NOT (spam ads)", "acme"),  # -(spam ads) = -spam OR -ads: dropped, which widens
    ("acme lov*", "acme"),
    ("acme OR lov*", None),
    ("a OR -b", None),  # an OR branch of negations alone is not a valid X query
    ("-acme", None),
    ("", None),
    ("#rust -@spam", "#rust -@spam"),
])
def test_x_query(query, translated):
    assert x_query(compile_query(query)) == translated


def test_every_searched_text_is_a_superset_of_the_query():
    """What a conjunctive search returns must include everything the full query matches."""
    texts = ["acme rocket", "acme grinder pro", "acme job rocket", "rocket only", "grinder pro acme job", ""]
    for q in ('acme (rocket OR "grinder pro") -job', "(a OR b) (c OR d) (e OR f)", "a OR lov*"):
        query = compile_query(q)
        for text in texts:
            if query.matches(text):
                assert any(compile_query(s).matches(text) for s in search_strings(query))


def test_an_invalid_monitor_query_is_a_source_error():
    with pytest.raises(SourceError) as info:
        monitor_query(FetchContext(policy=None, monitor_query="(acme"))
    assert info.value.code == "query"


def test_reset_headers_of_mastodon_and_atproto_are_read_by_the_shared_helper():
    # Mastodon: an ISO 8601 X-RateLimit-Reset; atproto: a Unix-time RateLimit-Reset.
    assert retry_after_seconds(HTTPHeaderDict({"X-RateLimit-Reset": "2026-06-01T12:05:00.000000Z"}), NOW) == 300
    assert retry_after_seconds(HTTPHeaderDict({"RateLimit-Reset": str(int(NOW.timestamp()) + 60)}), NOW) == 60
    assert retry_after_seconds(HTTPHeaderDict({"RateLimit-Reset": "60"}), NOW) == 60  # the IETF draft: a delay
    # Retry-After, when given, wins over any reset header.
    assert retry_after_seconds(HTTPHeaderDict({"Retry-After": "5", "X-RateLimit-Reset": "2026-06-01T13:00:00Z"}), NOW) == 5
    assert retry_after_seconds(HTTPHeaderDict({"X-RateLimit-Reset": "garbage"}), NOW) is None


def test_error_names_from_quoted_bodies():
    assert error_name(SourceError("http_400", 'HTTP 400: {"error":"ExpiredToken","message":"Token has expired"}')) == "ExpiredToken"
    assert error_name(SourceError("http_400", 'HTTP 400: {"error": "InvalidToken", "message": "' + "x" * 300)) == "InvalidToken"
    assert error_name(SourceError("http_500", "HTTP 500: <html>")) is None
    assert error_name(SourceError("http_400", "HTTP 400")) is None


def test_times_and_items():
    assert parse_time("2026-06-01T12:00:00.123Z") == NOW + timedelta(milliseconds=123)
    assert parse_time("2026-06-01T14:00:00+02:00") == NOW and parse_time("2026-06-01T12:00:00") == NOW
    assert parse_time("yesterday") is None and parse_time(None) is None and parse_time(5) is None
    assert iso_millis(NOW + timedelta(microseconds=123456)) == "2026-06-01T12:00:00.123Z"
    assert iso_seconds(NOW + timedelta(microseconds=999999)) == "2026-06-01T12:00:00Z"
    assert seconds_until_next_utc_day(NOW) == 12 * 3600
    item = make_item("x" * 600, "  text  ", "a" * 300, "javascript:alert(1)", NOW + timedelta(days=1), NOW)
    assert item.external_id.startswith("sha256:") and item.text == "text" and len(item.author) == 255
    assert item.url is None and item.published_at == NOW
    assert make_item("1", "   ") is None and make_item(None, "text") is None and make_item(True, "t") is None
