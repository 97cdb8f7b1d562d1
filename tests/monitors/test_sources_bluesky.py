"""The bluesky adapter against a loopback fake of a Bluesky PDS/AppView (XRPC)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fake_social import NOW, FakeBluesky, Reply, bsky_post, running
from webapp.core import egress
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import FetchContext, SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import bluesky as bluesky_module
from webapp.monitors.sources.bluesky import post_url, token_expiry

LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)
PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture(autouse=True)
def fresh_sessions():
    bluesky_module.clear_sessions()
    yield
    bluesky_module.clear_sessions()


@pytest.fixture
def bsky():
    with running(FakeBluesky()) as fake:
        yield fake


def ctx(query="acme", policy=LOOPBACK, now=NOW) -> FetchContext:
    return FetchContext(policy=policy, monitor_query=query, now=now)


def settings(fake, **extra) -> dict:
    return {"identifier": "alice.bsky.social", "app_password": PASSWORD, "base_url": fake.base_url, **extra}


def fetch(fake, cursor=None, query="acme", now=NOW, policy=LOOPBACK, **extra):
    return get_adapter("bluesky").fetch(settings(fake, **extra), cursor or {}, ctx(query, policy, now))


def posts(count: int, newest=NOW, step=timedelta(seconds=20), word="acme", start: int = 0):
    return [bsky_post(f"3k{start + i:05d}", f"{word} post {start + i}", newest - step * i) for i in range(count)]


def test_a_normal_page_after_signing_in(bsky):
    bsky.posts = [bsky_post("3kabc", "Acme support fixed it in a day 🎉", NOW - timedelta(minutes=1)),
                  bsky_post("3kdef", "acme again", NOW - timedelta(minutes=2), handle="handle.invalid",
                            did="did:plc:bob"),
                  bsky_post("3kzzz", "nothing to see", NOW - timedelta(minutes=3))]
    result = fetch(bsky)
    first, second = result.items
    assert first.external_id == "at://did:plc:alice/app.bsky.feed.post/3kabc"
    assert first.text == "Acme support fixed it in a day 🎉" and first.author == "alice.bsky.social"
    assert first.url == "https://bsky.app/profile/alice.bsky.social/post/3kabc"
    assert first.published_at == NOW - timedelta(minutes=1)
    assert second.url == "https://bsky.app/profile/did:plc:bob/post/3kdef"  # no valid handle
    create, search = bsky.requests
    assert create.path == FakeBluesky.CREATE and create.method == "POST"
    assert create.json() == {"identifier": "alice.bsky.social", "password": PASSWORD}
    assert create.headers["content-type"] == "application/json"
    assert search.path == FakeBluesky.SEARCH and search.headers["authorization"].startswith("Bearer ey")
    assert (search.arg("q"), search.arg("limit"), search.arg("sort"), search.arg("since")) == ("acme", "100", "latest", None)
    assert result.cursor == {"searches": {"acme": {"newest": "2026-06-01T11:59:00.000Z"}}}


def test_the_session_is_cached_per_identifier_and_password(bsky):
    fetch(bsky)
    fetch(bsky)
    assert len(bsky.calls(FakeBluesky.CREATE)) == 1
    with pytest.raises(SourceError) as info:  # another password never reuses the cached session
        fetch(bsky, app_password="wrong-pass-word-here")
    assert info.value.code == "auth" and "AuthenticationRequired" in info.value.message
    assert len(bsky.calls(FakeBluesky.CREATE)) == 2
    fetch(bsky)
    assert len(bsky.calls(FakeBluesky.CREATE)) == 2


def test_an_expired_access_token_is_refreshed(bsky):
    fetch(bsky)
    (old_refresh,) = bsky.refresh
    bsky.expire_access_tokens()
    bsky.posts = posts(2)
    result = fetch(bsky)
    assert len(result.items) == 2
    refresh = bsky.calls(FakeBluesky.REFRESH)
    assert len(refresh) == 1 and refresh[0].headers["authorization"] == f"Bearer {old_refresh}"
    assert len(bsky.calls(FakeBluesky.CREATE)) == 1
    paths = [r.path for r in bsky.requests]
    assert paths[-3:] == [FakeBluesky.SEARCH, FakeBluesky.REFRESH, FakeBluesky.SEARCH]


def test_a_failed_refresh_signs_in_again(bsky):
    fetch(bsky)
    bsky.expire_access_tokens()
    bsky.refresh.clear()  # the refresh token was revoked too
    fetch(bsky)
    assert len(bsky.calls(FakeBluesky.REFRESH)) == 1 and len(bsky.calls(FakeBluesky.CREATE)) == 2


def test_the_token_is_renewed_before_it_expires(bsky):
    fetch(bsky)
    later = NOW + timedelta(hours=2)  # the access JWT's exp
    fetch(bsky, now=later)
    assert [r.path for r in bsky.requests][-2:] == [FakeBluesky.REFRESH, FakeBluesky.SEARCH]
    assert token_expiry("not-a-jwt") is None


def test_search_needs_authentication(bsky):
    answer = egress.fetch(f"{bsky.base_url}{FakeBluesky.SEARCH}?q=acme", policy=LOOPBACK)
    assert answer.status == 403  # what the real AppView answers without a session
    fetch(bsky)
    assert all("authorization" in r.headers for r in bsky.calls(FakeBluesky.SEARCH)[1:])


def test_later_fetches_page_with_the_cursor_and_catch_up(bsky, monkeypatch):
    monkeypatch.setattr(bluesky_module, "MAX_PAGES", 2)
    bsky.posts = posts(250)  # 20 s apart, the newest now
    cursor = {"searches": {"acme": {"newest": "2026-06-01T09:00:00.000Z"}}}
    first = fetch(bsky, cursor)
    searches = bsky.calls(FakeBluesky.SEARCH)
    assert [r.arg("since") for r in searches] == ["2026-06-01T08:58:00.000Z"] * 2
    assert [r.arg("cursor") for r in searches] == [None, "100"]
    state = first.cursor["searches"]["acme"]
    assert len(first.items) == 200 and state["pending"] == {
        "since": "2026-06-01T08:58:00.000Z", "cursor": "200", "newest": "2026-06-01T12:00:00.000Z"}
    second = fetch(bsky, first.cursor)
    assert {i.external_id for i in first.items + second.items} == {p["uri"] for p in bsky.posts}
    assert second.cursor == {"searches": {"acme": {"newest": "2026-06-01T12:00:00.000Z"}}}


def test_fetch_window_pages_with_since_until_and_cursor(bsky):
    since, until = NOW - timedelta(days=2), NOW - timedelta(days=1)
    inside = posts(230, newest=until - timedelta(seconds=1), step=timedelta(minutes=5))
    bsky.posts = inside + [bsky_post("3kedge", "acme edge", until), bsky_post("3kold", "acme old", since - timedelta(seconds=1))]
    adapter, page, seen = get_adapter("bluesky"), {}, []
    while not page.get("done"):
        result = adapter.fetch_window(settings(bsky), since, until, page, ctx())
        seen += [i.external_id for i in result.items]
        page = result.cursor
        assert len(seen) < 1000
    assert sorted(seen) == sorted(p["uri"] for p in inside)
    first = bsky.calls(FakeBluesky.SEARCH)[0]
    assert (first.arg("since"), first.arg("until")) == ("2026-05-30T12:00:00.000Z", "2026-05-31T12:00:00.000Z")


def test_the_query_is_pushed_down(bsky):
    bsky.posts = [bsky_post("3ka", "acme rocket", NOW), bsky_post("3kb", "acme grinder", NOW)]
    result = fetch(bsky, query="acme (rocket OR grinder) -job")
    assert [r.arg("q") for r in bsky.calls(FakeBluesky.SEARCH)] == ["acme rocket", "acme grinder"]
    assert len(result.items) == 2 and set(result.cursor["searches"]) == {"acme rocket", "acme grinder"}
    get_adapter("bluesky").fetch(settings(bsky, query='"acme rocket" lang:en'), {}, ctx("x"))
    assert bsky.calls(FakeBluesky.SEARCH)[-1].arg("q") == '"acme rocket" lang:en'
    with pytest.raises(SourceError) as info:
        fetch(bsky, query="-job")
    assert info.value.code == "settings"


def test_an_empty_answer(bsky):
    result = fetch(bsky)
    assert result.items == [] and result.cursor == {"searches": {"acme": {"newest": "2026-06-01T12:00:00.000Z"}}}


def test_a_429_reads_atprotos_epoch_reset(bsky):
    reset = str(int(NOW.timestamp()) + 300)
    bsky.queue.append(Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                            {"RateLimit-Limit": "30", "RateLimit-Remaining": "0", "RateLimit-Reset": reset,
                             "RateLimit-Policy": "30;w=300"}))
    with pytest.raises(SourceError) as info:
        fetch(bsky)
    assert info.value.code == "rate_limited" and info.value.retry_after == 300
    fetch(bsky)  # signs in now
    bsky.queue.append(Reply(429, {"error": "RateLimitExceeded"}, {"Retry-After": "42"}))
    with pytest.raises(SourceError) as info:
        fetch(bsky)
    assert info.value.retry_after == 42


@pytest.mark.parametrize("status", [500, 502])
def test_5xx_are_source_errors(bsky, status):
    bsky.queue.append(Reply(status, {"error": "InternalServerError", "message": "Internal Server Error"}))
    with pytest.raises(SourceError) as info:
        fetch(bsky)
    assert info.value.code == f"http_{status}"


@pytest.mark.parametrize("body", [b"<html>", b'{"cursor": "1"}', b'{"posts": {"uri": 1}}', b'"posts"'])
def test_malformed_search_answers_are_parse_errors(bsky, body):
    fetch(bsky)  # signed in
    bsky.queue.append(Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError) as info:
        fetch(bsky)
    assert info.value.code == "parse"


def test_a_session_without_tokens_is_a_parse_error(bsky):
    bsky.queue.append(Reply(200, {"did": "did:plc:alice"}))
    with pytest.raises(SourceError) as info:
        fetch(bsky)
    assert info.value.code == "parse"


def test_odd_posts_are_skipped(bsky):
    fetch(bsky)
    good = bsky_post("3kgood", "acme fine", NOW)
    bsky.queue.append(Reply(200, {"posts": [None, {"uri": 5, "record": {"text": "x"}},
                                            {"uri": "at://x/app.bsky.feed.post/1", "record": "text"}, good]}))
    assert [i.external_id for i in fetch(bsky).items] == [good["uri"]]


def test_an_oversized_body_is_too_large(bsky):
    bsky.posts = posts(100)
    small = EgressPolicy.from_setting("127.0.0.1", deadline=5.0, max_bytes=4000)
    with pytest.raises(SourceError) as info:
        fetch(bsky, policy=small)
    assert info.value.code == "too_large"


def test_clean_settings():
    clean = get_adapter("bluesky").clean_settings
    assert clean({"identifier": " @alice.bsky.social ", "app_password": " abcd-efgh-ijkl-mnop "}) == {
        "identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}
    assert clean({"identifier": "a@example.com", "app_password": "p", "query": "acme",
                  "base_url": "https://pds.example/", "x": 1}) == {
        "identifier": "a@example.com", "app_password": "p", "query": "acme", "base_url": "https://pds.example"}
    for bad, field in (({"app_password": "p"}, "identifier"), ({"identifier": "a b", "app_password": "p"}, "identifier"),
                       ({"identifier": "@", "app_password": "p"}, "identifier"), ({"identifier": "alice"}, "app_password"),
                       ({"identifier": "alice", "app_password": 5}, "app_password"),
                       ({"identifier": "alice", "app_password": "p", "base_url": "bsky.social"}, "base_url"),
                       ({"identifier": "alice", "app_password": "p", "query": "q" * 600}, "query")):
        with pytest.raises(SourceSettingsError) as info:
            clean(bad)
        assert info.value.field == field, bad
    with pytest.raises(SourceSettingsError):
        clean({"identifier": "alice", "app_password": "p", "base_url": "http://127.0.0.1:1"}, EgressPolicy())
    assert [f.name for f in get_adapter("bluesky").fields if f.secret] == ["app_password"]


def test_post_urls():
    assert post_url("at://did:plc:x/app.bsky.feed.post/3k", {"handle": "x.example"}) == \
        "https://bsky.app/profile/x.example/post/3k"
    assert post_url("at://did:plc:x/app.bsky.feed.repost/3k", {"handle": "x.example"}) is None
    assert post_url("https://example.com/post", {}) is None
