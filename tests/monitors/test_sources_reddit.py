"""The reddit adapter against a local fake of Reddit: OAuth client credentials and the JSON
Listing API with keys, the public Atom feeds (through the RSS adapter) without."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.fake_news import LOOPBACK, NOW, FakeReddit, context, reddit_post, server  # noqa: F401
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import reddit as reddit_module
from webapp.monitors.sources.useragent import feed_user_agent

QUERY = 'acme AND ("customer service" OR support)'
KEYS = {"client_id": "app-id", "client_secret": "app-secret", "user_agent": "web:sentimon-test:0.1 (by /u/tester)"}


@pytest.fixture(autouse=True)
def no_cached_tokens():
    reddit_module.clear_token_cache()
    yield
    reddit_module.clear_token_cache()


def rd_fetch(server, cursor=None, query=QUERY, keys=True, **extra):
    ctx_args = {k: extra.pop(k) for k in ("policy", "now") if k in extra}
    settings = {"base_url": server.base, **(KEYS if keys else {}), **extra}
    return get_adapter("reddit").fetch(settings, cursor or {}, context(query, **ctx_args))


def test_oauth_search(server):
    fake = FakeReddit(server, [reddit_post(1, NOW - timedelta(hours=2), selftext="Great **support**"),
                               reddit_post(2, NOW - timedelta(hours=1))])
    result = rd_fetch(server)
    newest, older = result.items
    assert newest.external_id == "t3_p00002" and newest.text == "Acme rocket post 2"
    assert older.text == "Acme rocket post 1\nGreat **support**" and older.author == "redditor1"
    assert older.url == "https://www.reddit.com/r/rockets/comments/p00001/acme_rocket_post_1/"
    assert older.published_at == NOW - timedelta(hours=2)
    assert result.cursor == {"mode": "oauth", "newest_utc": (NOW - timedelta(hours=1)).timestamp()}
    token_request, search = server.requests
    assert token_request.method == "POST" and token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert search.path == "/search" and search.headers["authorization"] == "bearer token-1"
    assert search.headers["user-agent"] == KEYS["user_agent"]
    assert search.query == {"q": 'acme ("customer service" OR support)', "sort": "new", "limit": "100",
                            "raw_json": "1"}
    rd_fetch(server, result.cursor)  # the token is reused until it expires
    assert fake.issued == ["token-1"] and len(server.requests) == 3


def test_tokens_are_renewed_when_expired_or_revoked(server):
    fake = FakeReddit(server, [reddit_post(1, NOW)], expires_in=30)  # shorter than the safety margin
    rd_fetch(server)
    rd_fetch(server)
    assert fake.issued == ["token-1", "token-2"]
    reddit_module.clear_token_cache()
    fake.expires_in = 86400
    rd_fetch(server)
    fake.issued.remove("token-3")  # Reddit revokes it: the next search answers 401 once
    rd_fetch(server)
    assert fake.issued == ["token-1", "token-2", "token-4"]
    assert [r.path for r in server.requests[-3:]] == ["/search", "/api/v1/access_token", "/search"]


def test_oauth_pages_until_known_posts(server):
    start = NOW - timedelta(days=1)
    FakeReddit(server, [reddit_post(n, start + timedelta(minutes=n)) for n in range(1, 251)])
    first = rd_fetch(server)
    assert len(first.items) == 100 and len(server.requests) == 2  # a new source: one page
    known = {"mode": "oauth", "newest_utc": (start + timedelta(minutes=20)).timestamp()}
    result = rd_fetch(server, known)
    searches = [r for r in server.requests if r.path == "/search"][1:]
    assert [r.query.get("after") for r in searches] == [None, "t3_p00151", "t3_p00051"]
    assert len(result.items) == 250 and result.cursor["newest_utc"] == (start + timedelta(minutes=250)).timestamp()
    close = {"mode": "oauth", "newest_utc": (start + timedelta(minutes=200)).timestamp()}
    rd_fetch(server, close)
    assert len([r for r in server.requests if r.path == "/search"]) == 5  # stopped after one page


def test_subreddit_listings(server):
    FakeReddit(server, [reddit_post(1, NOW)])
    rd_fetch(server, query="", subreddit="rockets")
    assert server.requests[-1].path == "/r/rockets/new"
    rd_fetch(server, query="acme", subreddit="rockets")
    assert server.requests[-1].path == "/r/rockets/search"
    assert server.requests[-1].query["restrict_sr"] == "1" and server.requests[-1].query["q"] == "acme"


def test_public_atom_feed_without_keys(server):
    FakeReddit(server, [reddit_post(1, NOW - timedelta(hours=2), selftext="It flies"),
                        reddit_post(2, NOW - timedelta(hours=1))])
    result = rd_fetch(server, keys=False)
    newest, older = result.items
    assert newest.external_id == "t3_p00002"  # the same ids as the JSON API
    assert older.text.startswith("Acme rocket post 1\nIt flies") and older.author == "/u/redditor1"
    assert older.published_at == NOW - timedelta(hours=2)
    request = server.requests[-1]
    assert request.path == "/search.rss" and request.query == {"q": 'acme ("customer service" OR support)',
                                                              "sort": "new"}
    assert request.headers["user-agent"] == feed_user_agent()
    assert result.cursor["mode"] == "feed" and result.cursor["feed"]["url"].startswith(server.base + "/search.rss?")
    rd_fetch(server, query="", keys=False, subreddit="rockets")
    assert server.requests[-1].path == "/r/rockets/new/.rss"
    rd_fetch(server, keys=False, subreddit="rockets")
    assert server.requests[-1].path == "/r/rockets/search.rss" and server.requests[-1].query["restrict_sr"] == "on"


def test_empty_listing_and_feed(server):
    FakeReddit(server, [])
    assert rd_fetch(server).items == [] and rd_fetch(server).cursor == {"mode": "oauth"}
    cursor = {"mode": "oauth", "newest_utc": 5.0}
    assert rd_fetch(server, cursor).cursor == cursor
    assert rd_fetch(server, keys=False).items == []


def test_wrong_keys(server):
    FakeReddit(server, [], secret="other")
    with pytest.raises(SourceError) as info:
        rd_fetch(server)
    assert info.value.code == "http_401" and "client id and secret" in info.value.message


@pytest.mark.parametrize("status, headers, code, retry_after", [
    (429, {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "420"}, "rate_limited", 420),
    (429, {"Retry-After": "15"}, "rate_limited", 15),
    (500, {}, "http_500", None),
    (503, {"Content-Type": "text/html"}, "http_503", None),
])
def test_listing_errors(server, status, headers, code, retry_after):
    FakeReddit(server, [])
    server.queue("/search", status, headers, b"<html>busy</html>")
    with pytest.raises(SourceError) as info:
        rd_fetch(server)
    assert info.value.code == code and info.value.retry_after == retry_after


def test_feed_errors(server):
    FakeReddit(server, [])
    server.queue("/search.rss", 429, {"Retry-After": "60"}, b"Too Many Requests")
    with pytest.raises(SourceError) as info:
        rd_fetch(server, keys=False)
    assert info.value.code == "rate_limited" and info.value.retry_after == 60
    server.queue("/search.rss", 200, {"Content-Type": "text/html"}, b"<html><body>blocked</body></html>")
    with pytest.raises(SourceError) as info:
        rd_fetch(server, keys=False)
    assert info.value.code == "parse"


@pytest.mark.parametrize("body", [b"{", b'{"kind": "Listing"}', b'{"data": {"children": {}}}', b"[]"])
def test_malformed_listings(server, body):
    FakeReddit(server, [])
    server.queue("/search", 200, {"Content-Type": "application/json"}, body)
    with pytest.raises(SourceError) as info:
        rd_fetch(server)
    assert info.value.code == "parse"


def test_odd_children_are_skipped(server):
    FakeReddit(server, [])
    good = reddit_post(1, NOW)
    server.queue("/search", 200, {}, {"kind": "Listing", "data": {"after": None, "children": [
        None, {"kind": "t1", "data": good["data"]}, {"kind": "t3", "data": {**good["data"], "title": "", "selftext": ""}},
        {"kind": "t3", "data": {**good["data"], "name": None, "id": "zz", "created_utc": "x", "permalink": None,
                                "url": "https://example.com/link"}}]}})
    (item,) = rd_fetch(server).items
    assert item.external_id == "t3_zz" and item.published_at is None and item.url == "https://example.com/link"


def test_oversized_answer(server):
    FakeReddit(server, [reddit_post(n, NOW - timedelta(minutes=n)) for n in range(50)])
    small = EgressPolicy.from_setting("127.0.0.1", max_bytes=2000)
    with pytest.raises(SourceError) as info:
        rd_fetch(server, policy=small)
    assert info.value.code == "too_large"
    with pytest.raises(SourceError) as info:
        rd_fetch(server, keys=False, policy=small)
    assert info.value.code == "too_large"


def test_settings(server):
    adapter = get_adapter("reddit")
    assert adapter.clean_settings({"subreddit": " /r/Rockets/ ", "query": "", "x": 1}) == {"subreddit": "Rockets"}
    assert adapter.clean_settings({**KEYS, "subreddit": "a_b+cd"}) == {**KEYS, "subreddit": "a_b+cd"}
    assert adapter.clean_settings({"base_url": server.base + "/"}, LOOPBACK) == {"base_url": server.base}
    for bad, field in (({"client_id": "x"}, "client_secret"), ({"client_secret": "x"}, "client_id"),
                       ({"subreddit": "r/"}, "subreddit"), ({"subreddit": "a"}, "subreddit"),
                       ({"subreddit": "bad name"}, "subreddit"), ({"base_url": "http://127.0.0.1"}, "base_url"),
                       ({"user_agent": 3}, "user_agent")):
        with pytest.raises(SourceSettingsError) as info:
            adapter.clean_settings(bad, EgressPolicy())
        assert info.value.field == field
    assert [f.name for f in adapter.fields if f.secret] == ["client_secret"] and not adapter.supports_backfill
    with pytest.raises(SourceError) as info:
        rd_fetch(server, query="NOT spam")
    assert info.value.code == "settings"
