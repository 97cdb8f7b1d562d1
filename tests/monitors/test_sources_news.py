"""News sources against local fakes: GDELT DOC 2.0 and Google News RSS; query push-down, the
feed user agent and the per-host request guard."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fake_news import (
    GDELT_PATH, GDELT_TOO_FAST, GDELT_TOO_SHORT, LOOPBACK, NOW, FakeGdelt, context, gdelt_article,
    google_news_rss, server,  # noqa: F401  (server is a fixture)
)
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import gdelt as gdelt_module
from webapp.monitors.sources import pushdown
from webapp.monitors.sources.throttle import HostThrottle
from webapp.monitors.sources.useragent import PROJECT_URL, feed_user_agent

QUERY = 'acme AND ("customer service" OR support) -job'


@pytest.fixture(autouse=True)
def fast_gdelt(monkeypatch):
    monkeypatch.setattr(gdelt_module, "MIN_INTERVAL", 0.0)
    gdelt_module.GUARD.reset()
    yield
    gdelt_module.GUARD.reset()


# -- query push-down ---------------------------------------------------------------------

@pytest.mark.parametrize("query, clauses", [
    ("", []),
    ("NOT spam", []),
    ("lov*", []),
    ("acme", [("acme",)]),
    ("Acme Rocket", [("acme",), ("rocket",)]),
    ('"Acme Rocket" OR #acme', [("acme rocket", "acme")]),
    (QUERY, [("acme",), ("customer service", "support")]),
    ("acme OR NOT spam", []),  # one side restricts nothing: so does the OR
    ("(acme rocket) OR (widget gadget)", [("acme", "widget")]),
    ("acme -spam lov*", [("acme",)]),
    ("unterminated \"quote", []),  # invalid: nothing pushed, the fetch use case reports it
])
def test_clauses_are_a_superset_of_the_query(query, clauses):
    assert pushdown.clauses(query) == clauses


def test_renderers():
    cls = pushdown.clauses(QUERY)
    assert pushdown.grouped(cls) == 'acme ("customer service" OR support)'
    assert pushdown.flat(cls, "|") == "acme"  # no parentheses: keep the single-term clauses
    assert pushdown.flat(pushdown.clauses("a1 OR b2 OR c3"), " OR ") == "a1 OR b2 OR c3"
    assert pushdown.flat(pushdown.clauses("a1 OR b2 OR c3"), " OR ", max_or=2) == ""
    assert pushdown.clauses("AI OR acme", min_len=3) == []  # a short term restricts nothing
    assert pushdown.clauses("AI acme", min_len=3) == [("acme",)]
    assert pushdown.combine("", None, " a ", "b") == "a b"


def test_feed_user_agent():
    assert feed_user_agent() == f"Sentimon/0.1 (self-hosted monitoring; +{PROJECT_URL})"
    assert feed_user_agent("https://listen.example.org/") == \
        "Sentimon/0.1 (self-hosted monitoring; +https://listen.example.org)"
    for local in ("http://127.0.0.1:5000", "http://localhost:5000", "http://10.0.0.5", "ftp://x.org", "x"):
        assert feed_user_agent(local).endswith(f"+{PROJECT_URL})")


def test_host_throttle_spaces_and_refuses():
    clock = [100.0]
    slept = []
    guard = HostThrottle(clock=lambda: clock[0], sleep=slept.append)
    guard.wait_turn("a", 5.0, 10.0)
    guard.wait_turn("a", 5.0, 10.0)
    guard.wait_turn("b", 5.0, 10.0)  # another host has its own slots
    assert slept == [5.0]
    with pytest.raises(SourceError) as info:
        guard.reserve("a", 5.0, 9.0)  # the next slot is 10 s away
    assert info.value.code == "rate_limited" and info.value.retry_after == 10.0
    guard.penalize("b", 30.0)
    assert guard.reserve("b", 5.0, 60.0) == 30.0


# -- GDELT --------------------------------------------------------------------------------

def gdelt(server, articles=()):
    return FakeGdelt(server, list(articles))


def gdelt_fetch(fake, cursor=None, query=QUERY, settings=None, **ctx):
    return get_adapter("gdelt").fetch({"base_url": fake.url, **(settings or {})}, cursor or {},
                                      context(query, **ctx))


def test_gdelt_page(server):
    fake = gdelt(server, [gdelt_article(1, NOW - timedelta(hours=2)),
                          gdelt_article(2, NOW - timedelta(minutes=30), "Acme &amp; friends <b>win</b>"),
                          gdelt_article(3, NOW - timedelta(days=3))])
    result = gdelt_fetch(fake)
    first, second = result.items
    assert first.external_id == "https://news.example.com/story/2" == first.url
    assert first.text == "Acme & friends win" and first.author == "news.example.com"
    assert first.published_at == NOW - timedelta(minutes=30)
    assert second.published_at == NOW - timedelta(hours=2)
    assert result.cursor == {"newest": (NOW - timedelta(minutes=30)).isoformat(), "last_count": 2}
    q = server.hits(GDELT_PATH)[-1].query
    assert q["query"] == 'acme ("customer service" OR support)'
    assert (q["mode"], q["format"], q["maxrecords"], q["sort"]) == ("artlist", "json", "250", "datedesc")
    assert q["startdatetime"] == "20260531120000" and q["enddatetime"] == "20260601120000"
    # The next fetch starts a quarter-hour before the newest article seen.
    later = gdelt_fetch(fake, result.cursor, now=NOW + timedelta(minutes=15))
    assert server.hits(GDELT_PATH)[-1].query["startdatetime"] == "20260601111500"
    assert later.cursor["newest"] == result.cursor["newest"]


def test_gdelt_query_setting_and_short_terms(server):
    fake = gdelt(server, [gdelt_article(1, NOW - timedelta(hours=1))])
    gdelt_fetch(fake, query="AI OR acme", settings={"query": "sourcelang:english"})
    assert server.hits(GDELT_PATH)[-1].query["query"] == "sourcelang:english"
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake, query="AI")
    assert info.value.code == "settings"
    with pytest.raises(SourceError):
        gdelt_fetch(fake, query="")


def test_gdelt_empty_answer_is_no_items(server):
    fake = gdelt(server)
    result = gdelt_fetch(fake, {"newest": (NOW - timedelta(hours=1)).isoformat()})
    assert result.items == [] and result.cursor == {"newest": (NOW - timedelta(hours=1)).isoformat(),
                                                    "last_count": 0}


@pytest.mark.parametrize("body, content_type, code, message", [
    (GDELT_TOO_SHORT + "\n", "text/html", "api_error", GDELT_TOO_SHORT),
    ("<!DOCTYPE html>\n<html><body><p>Invalid query: unmatched parenthesis.</p>\n</body></html>",
     "text/html", "api_error", "Invalid query: unmatched parenthesis."),
    (GDELT_TOO_FAST, "text/plain", "rate_limited", GDELT_TOO_FAST),
])
def test_gdelt_text_errors_with_status_200(server, body, content_type, code, message):
    fake = gdelt(server)
    server.queue(GDELT_PATH, 200, {"Content-Type": content_type}, body)
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake)
    assert info.value.code == code and info.value.message == message
    if code == "rate_limited":
        assert info.value.retry_after == 5


def test_gdelt_rate_limit_text_holds_back_the_next_request(server, monkeypatch):
    monkeypatch.setattr(gdelt_module, "MAX_WAIT", 1.0)
    fake = gdelt(server)
    server.queue(GDELT_PATH, 200, {"Content-Type": "text/plain"}, GDELT_TOO_FAST)
    with pytest.raises(SourceError):
        gdelt_fetch(fake)
    with pytest.raises(SourceError) as info:  # 5 s of penalty > MAX_WAIT: refused unsent
        gdelt_fetch(fake)
    assert info.value.code == "rate_limited" and len(server.hits(GDELT_PATH)) == 1


def test_gdelt_guard_spaces_requests(server, monkeypatch):
    monkeypatch.setattr(gdelt_module, "MIN_INTERVAL", 0.3)
    fake = gdelt(server)
    gdelt_fetch(fake)
    gdelt_fetch(fake)
    first, second = server.hits(GDELT_PATH)
    assert second.at - first.at >= 0.29
    monkeypatch.setattr(gdelt_module, "MIN_INTERVAL", 60.0)
    monkeypatch.setattr(gdelt_module, "MAX_WAIT", 0.0)
    gdelt_module.GUARD.reset()
    gdelt_fetch(fake)
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake)
    assert info.value.code == "rate_limited" and 59 <= info.value.retry_after <= 60
    assert len(server.hits(GDELT_PATH)) == 3


@pytest.mark.parametrize("status, headers, code, retry_after", [
    (429, {"Retry-After": "7"}, "rate_limited", 7.0),
    (503, {}, "http_503", None),
    (500, {}, "http_500", None),
])
def test_gdelt_http_errors(server, status, headers, code, retry_after):
    fake = gdelt(server)
    server.queue(GDELT_PATH, status, {"Content-Type": "text/html", **headers}, "<html>busy</html>")
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake)
    assert info.value.code == code and info.value.retry_after == retry_after


@pytest.mark.parametrize("body", [b'{"articles": [', b'{"articles": {"a": 1}}', b'[1, 2]'])
def test_gdelt_malformed_json(server, body):
    fake = gdelt(server)
    server.queue(GDELT_PATH, 200, {"Content-Type": "application/json"}, body)
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake)
    assert info.value.code == "parse"


def test_gdelt_odd_articles_are_skipped(server):
    fake = gdelt(server)
    good = gdelt_article(1, NOW - timedelta(hours=1))
    server.queue(GDELT_PATH, 200, {}, {"articles": [
        "x", None, {"title": "no url"}, {**good, "url": "javascript:alert(1)"},
        {**good, "title": ""}, {**good, "seendate": "yesterday"}, {**good, "seendate": "20990101T000000Z"},
        {**good, "title": "Control\x01 chars \x00 are dropped", "url": "https://a.example/x"}]})
    items = gdelt_fetch(fake).items
    assert [i.published_at for i in items] == [None, NOW, items[2].published_at]
    assert items[2].text == "Control chars are dropped"


def test_gdelt_oversized_answer(server):
    fake = gdelt(server, [gdelt_article(n, NOW - timedelta(minutes=n)) for n in range(50)])
    small = EgressPolicy.from_setting("127.0.0.1", max_bytes=2000)
    with pytest.raises(SourceError) as info:
        gdelt_fetch(fake, policy=small)
    assert info.value.code == "too_large"


def test_gdelt_window_splits_full_pages(server):
    since, until = NOW - timedelta(days=3), NOW - timedelta(hours=1)
    articles = [gdelt_article(n, since + timedelta(minutes=7 * n)) for n in range(600)]  # ~70 h
    fake = gdelt(server, articles)
    adapter, page, seen, calls = get_adapter("gdelt"), {}, [], 0
    while True:
        result = adapter.fetch_window({"base_url": fake.url}, since, until, page, context(QUERY))
        seen.extend(i.external_id for i in result.items)
        calls += 1
        assert json.loads(json.dumps(result.cursor)) == result.cursor
        if result.cursor.get("done"):
            break
        assert set(result.cursor) == {"until"}
        page = result.cursor
        assert calls < 10
    expected = {a["url"] for a in articles
                if since <= datetime.strptime(a["seendate"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) <= until}
    assert set(seen) == expected and calls == 3
    ends = [h.query["enddatetime"] for h in server.hits(GDELT_PATH)]
    assert ends == sorted(ends, reverse=True) and len(set(ends)) == 3


def test_gdelt_window_limits(server):
    fake = gdelt(server, [gdelt_article(n, NOW - timedelta(days=1)) for n in range(300)])  # one instant
    adapter, page, calls = get_adapter("gdelt"), {}, 0
    while not page.get("done"):
        page = adapter.fetch_window({"base_url": fake.url}, NOW - timedelta(days=2), NOW, page,
                                    context(QUERY)).cursor
        calls += 1
        assert calls < 6  # a saturated instant cannot loop forever
    # Beyond GDELT's three months nothing is asked at all; a window across it is clamped.
    old = adapter.fetch_window({"base_url": fake.url}, NOW - timedelta(days=200),
                               NOW - timedelta(days=100), {}, context(QUERY))
    assert old.items == [] and old.cursor == {"done": True}
    before = len(server.requests)
    adapter.fetch_window({"base_url": fake.url}, NOW - timedelta(days=200), NOW, {}, context(QUERY))
    assert server.requests[before].query["startdatetime"] == "20260303120000"


def test_gdelt_settings():
    adapter = get_adapter("gdelt")
    assert adapter.clean_settings({}) == {}
    assert adapter.clean_settings({"query": " domain:example.com ", "junk": 1}) == {"query": "domain:example.com"}
    assert adapter.clean_settings({"base_url": "http://127.0.0.1:9/doc/"}, LOOPBACK) == \
        {"base_url": "http://127.0.0.1:9/doc"}
    for bad in ({"base_url": "ftp://x.org"}, {"base_url": "http://127.0.0.1/doc"}, {"query": "x" * 501},
                {"query": 5}, {"base_url": "https://api.example.com/doc?x=1"}, {"query": "a\nb"}):
        with pytest.raises(SourceSettingsError):
            adapter.clean_settings(bad, EgressPolicy())
    with pytest.raises(SourceSettingsError):
        adapter.clean_settings("query")
    assert adapter.min_every == 300 and adapter.supports_backfill


# -- Google News ----------------------------------------------------------------------------

STORIES = [("Acme launches Rocket 2", "Example Times", NOW - timedelta(hours=1)),
           ("Acme support praised", "Daily Widget", NOW - timedelta(hours=5))]


def news_fetch(server, query=QUERY, settings=None, cursor=None, **ctx):
    return get_adapter("google_news").fetch({"base_url": server.base, **(settings or {})},
                                            cursor or {}, context(query, **ctx))


def serve_news(server, body=None, status=200, headers=None):
    server.routes["/rss/search"] = lambda req: (status, {"Content-Type": "application/xml; charset=utf-8",
                                                         **(headers or {})},
                                                body if body is not None else google_news_rss(STORIES))


def test_google_news_search(server):
    serve_news(server)
    result = news_fetch(server, settings={"query": "when:7d"})
    first, second = result.items
    assert first.text == "Acme launches Rocket 2 - Example Times" and first.author == "Example Times"
    assert first.external_id == "CBMiStory0" and first.url.startswith("https://news.google.com/rss/articles/")
    assert first.published_at == NOW - timedelta(hours=1) and second.author == "Daily Widget"
    request = server.requests[-1]
    assert request.query == {"q": 'acme ("customer service" OR support) when:7d', "hl": "en-US",
                             "gl": "US", "ceid": "US:en"}
    assert request.headers["user-agent"] == feed_user_agent()
    assert result.cursor["url"].startswith(server.base + "/rss/search?")


def test_google_news_edition_and_errors(server):
    serve_news(server, google_news_rss([]))
    assert news_fetch(server, settings={"hl": "de", "gl": "DE", "ceid": "DE:de"}).items == []
    assert server.requests[-1].query["ceid"] == "DE:de" and server.requests[-1].query["hl"] == "de"
    with pytest.raises(SourceError) as info:
        news_fetch(server, query="NOT spam")
    assert info.value.code == "settings"
    server.queue("/rss/search", 429, {"Retry-After": "120"}, "slow down")
    with pytest.raises(SourceError) as info:
        news_fetch(server)
    assert info.value.code == "rate_limited" and info.value.retry_after == 120
    server.queue("/rss/search", 503, {}, "unavailable")
    with pytest.raises(SourceError) as info:
        news_fetch(server)
    assert info.value.code == "http_503"
    server.queue("/rss/search", 200, {"Content-Type": "text/html"}, "<html><p>Sorry...</p></html>")
    with pytest.raises(SourceError) as info:
        news_fetch(server)
    assert info.value.code == "parse"
    serve_news(server, google_news_rss(STORIES * 40))
    with pytest.raises(SourceError) as info:
        news_fetch(server, policy=EgressPolicy.from_setting("127.0.0.1", max_bytes=4000))
    assert info.value.code == "too_large"


def test_google_news_settings():
    adapter = get_adapter("google_news")
    assert adapter.clean_settings({}) == {"hl": "en-US", "gl": "US", "ceid": "US:en"}
    assert adapter.clean_settings({"query": "site:example.com", "hl": "fr", "gl": "FR", "ceid": "FR:fr"}) == \
        {"query": "site:example.com", "hl": "fr", "gl": "FR", "ceid": "FR:fr"}
    for bad in ({"hl": "english"}, {"gl": "USA"}, {"ceid": "US"}, {"base_url": "javascript:x"},
                {"base_url": "http://10.0.0.1"}):
        with pytest.raises(SourceSettingsError) as info:
            adapter.clean_settings(bad, EgressPolicy())
        assert info.value.field in bad
