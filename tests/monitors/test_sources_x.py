"""The x adapter against a loopback fake of X API v2 recent search, with its spending cap."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fake_social import NOW, FakeX, Reply, running, x_post
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import FetchContext, SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import x as x_module

LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)
TODAY = NOW.date().isoformat()


@pytest.fixture
def xapi():
    with running(FakeX()) as fake:
        yield fake


def ctx(query="acme", policy=LOOPBACK, now=NOW) -> FetchContext:
    return FetchContext(policy=policy, monitor_query=query, now=now)


def settings(fake, **extra) -> dict:
    return {"bearer_token": "x-bearer", "max_posts_per_day": 500, "base_url": fake.base_url, **extra}


def fetch(fake, cursor=None, query="acme", now=NOW, policy=LOOPBACK, **extra):
    return get_adapter("x").fetch(settings(fake, **extra), cursor or {}, ctx(query, policy, now))


def posts(count: int, first_id: int = 1_000, newest=NOW, step=timedelta(seconds=10), word="acme"):
    """`count` posts with rising ids, the newest (highest id) at `newest`."""
    return [x_post(first_id + i, f"{word} post {first_id + i}", newest - step * (count - 1 - i)) for i in range(count)]


def test_a_normal_page(xapi):
    xapi.posts = [x_post(1_900_000_000_000_000_001, "Acme &amp; friends &lt;3", NOW - timedelta(minutes=2)),
                  {**x_post(1_900_000_000_000_000_002, "Acme long post…", NOW - timedelta(minutes=1), author_id="200"),
                   "note_tweet": {"text": "Acme long post, the whole of it"}},
                  x_post(1_900_000_000_000_000_003, "unrelated", NOW)]
    result = fetch(xapi)
    first, second = sorted(result.items, key=lambda i: i.external_id)
    assert first.external_id == "1900000000000000001" and first.text == "Acme & friends <3"
    assert first.author == "acmefan" and first.url == "https://x.com/acmefan/status/1900000000000000001"
    assert first.published_at == NOW - timedelta(minutes=2)
    assert second.text == "Acme long post, the whole of it" and second.author is None
    assert second.url == "https://x.com/i/web/status/1900000000000000002"  # author not in includes
    request = xapi.requests[-1]
    assert request.headers["authorization"] == "Bearer x-bearer"
    assert (request.arg("query"), request.arg("max_results"), request.arg("since_id")) == ("acme", "100", None)
    assert request.arg("tweet.fields") == "created_at,author_id,lang,note_tweet,public_metrics"
    assert (request.arg("expansions"), request.arg("user.fields")) == ("author_id", "username,public_metrics")
    assert result.cursor == {"query": "acme", "day": TODAY, "read": 2, "newest_id": "1900000000000000002"}
    assert json.loads(json.dumps(result.cursor)) == result.cursor


def test_the_monitor_query_is_translated_to_x_syntax(xapi):
    fetch(xapi, query='acme (rocket OR "grinder pro") -job NOT (spam OR ads)')
    assert xapi.requests[-1].arg("query") == 'acme (rocket OR "grinder pro") -job -spam -ads'
    get_adapter("x").fetch(settings(xapi, query="acme lang:en -is:retweet"), {}, ctx("whatever"))
    assert xapi.requests[-1].arg("query") == "acme lang:en -is:retweet"
    for bad in ("lov*", "-acme", "", " OR ".join(f"word{n}" for n in range(60))):
        with pytest.raises(SourceError) as info:
            fetch(xapi, query=bad)
        assert info.value.code == "settings"


def test_polling_pages_with_next_token_and_moves_since_id_after_the_series(xapi, monkeypatch):
    monkeypatch.setattr(x_module, "MAX_PAGES", 2)
    xapi.posts = posts(3, first_id=100, newest=NOW - timedelta(hours=1))
    first = fetch(xapi)
    assert first.cursor["newest_id"] == "102"
    xapi.posts += posts(250, first_id=1000)
    second = fetch(xapi, first.cursor)
    calls = xapi.requests[1:]
    assert [c.arg("since_id") for c in calls] == ["102", "102"]
    assert calls[0].arg("next_token") is None and calls[1].arg("next_token")
    assert second.cursor["newest_id"] == "102" and second.cursor["pending"]["newest_id"] == "1249"
    third = fetch(xapi, second.cursor)
    assert xapi.requests[-1].arg("since_id") == "102"  # the same series, finished
    assert third.cursor["newest_id"] == "1249" and "pending" not in third.cursor
    seen = {i.external_id for i in second.items + third.items}
    assert seen == {str(n) for n in range(1000, 1250)}
    assert third.cursor["read"] == 3 + 250 == xapi.billed
    fourth = fetch(xapi, third.cursor)
    assert xapi.requests[-1].arg("since_id") == "1249" and fourth.items == []


def test_the_daily_cap_holds_exactly(xapi):
    xapi.posts = posts(400, first_id=5000)
    cursor = {"query": "acme", "newest_id": "1", "day": TODAY, "read": 0}
    result = fetch(xapi, cursor, max_posts_per_day=250)
    assert [r.arg("max_results") for r in xapi.requests] == ["100", "100", "50"]
    assert result.cursor["read"] == 250 == xapi.billed == len(result.items)
    assert "pending" in result.cursor
    with pytest.raises(SourceError) as info:
        fetch(xapi, result.cursor, max_posts_per_day=250)
    assert info.value.code == "budget" and info.value.retry_after == 12 * 3600
    assert len(xapi.requests) == 3 and xapi.billed == 250  # nothing more was asked for
    tomorrow = NOW + timedelta(days=1)
    rest = fetch(xapi, result.cursor, now=tomorrow, max_posts_per_day=250)
    assert rest.cursor["day"] == tomorrow.date().isoformat() and rest.cursor["read"] == 150
    assert {i.external_id for i in result.items + rest.items} == {str(n) for n in range(5000, 5400)}


def test_fewer_than_ten_left_stops_for_the_day(xapi):
    xapi.posts = posts(300, first_id=7000)
    cursor = {"query": "acme", "newest_id": "1", "day": TODAY, "read": 0}
    result = fetch(xapi, cursor, max_posts_per_day=105)
    assert [r.arg("max_results") for r in xapi.requests] == ["100"]  # never 5: X's minimum is 10
    assert result.cursor["read"] == 100 == xapi.billed
    with pytest.raises(SourceError) as info:
        fetch(xapi, result.cursor, max_posts_per_day=105)
    assert info.value.code == "budget"
    with pytest.raises(SourceError):  # a cap under 10 can never be spent
        fetch(xapi, {}, max_posts_per_day=7)
    assert len(xapi.requests) == 1


def test_a_failure_after_some_pages_keeps_the_count(xapi, monkeypatch):
    xapi.posts = posts(250, first_id=3000)
    original, calls = xapi.handle, []

    def third_page_fails(request):
        calls.append(request)
        return Reply(503, {"title": "Service Unavailable", "status": 503}) if len(calls) == 3 else original(request)

    monkeypatch.setattr(xapi, "handle", third_page_fails)
    result = fetch(xapi, {"query": "acme", "newest_id": "1", "day": TODAY, "read": 40})
    assert len(result.items) == 200 and result.cursor["read"] == 240 and "pending" in result.cursor


def test_fetch_window_within_the_last_seven_days(xapi):
    since, until = NOW - timedelta(days=3), NOW - timedelta(days=2)
    inside = posts(180, first_id=100, newest=until - timedelta(seconds=1), step=timedelta(minutes=5))
    xapi.posts = inside + [x_post(900, "acme later", until), x_post(50, "acme earlier", since - timedelta(seconds=1))]
    adapter, page, seen = get_adapter("x"), {}, []
    while not page.get("done"):
        result = adapter.fetch_window(settings(xapi), since, until, page, ctx())
        seen += [i.external_id for i in result.items]
        page = result.cursor
        assert len(xapi.requests) < 10
    assert sorted(seen, key=int) == [p["id"] for p in inside]
    first = xapi.requests[0]
    assert (first.arg("start_time"), first.arg("end_time")) == ("2026-05-29T12:00:00Z", "2026-05-30T12:00:00Z")
    recent = adapter.fetch_window(settings(xapi), NOW - timedelta(hours=1), NOW, {}, ctx())
    assert recent.cursor == {"done": True} and xapi.requests[-1].arg("end_time") == "2026-06-01T11:59:49Z"


def test_older_windows_are_refused(xapi):
    with pytest.raises(SourceError) as info:
        get_adapter("x").fetch_window(settings(xapi), NOW - timedelta(days=8), NOW - timedelta(days=6), {}, ctx())
    assert info.value.code == "window" and "7 days" in info.value.message
    assert xapi.requests == []


def test_an_empty_answer(xapi):
    result = fetch(xapi)
    assert result.items == [] and result.cursor == {"query": "acme", "day": TODAY, "read": 0}


def test_a_429_reads_x_rate_limit_reset(xapi):
    reset = str(int(NOW.timestamp()) + 900)
    xapi.queue.append(Reply(429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                                  "type": "about:blank", "status": 429},
                            {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}))
    with pytest.raises(SourceError) as info:
        fetch(xapi)
    assert info.value.code == "rate_limited" and info.value.retry_after == 900


def test_5xx_and_auth_errors(xapi):
    xapi.queue.append(Reply(503, {"title": "Service Unavailable", "status": 503}))
    with pytest.raises(SourceError) as info:
        fetch(xapi)
    assert info.value.code == "http_503"
    with pytest.raises(SourceError) as info:
        fetch(xapi, bearer_token="revoked")
    assert info.value.code == "auth" and "Unauthorized" in info.value.message


@pytest.mark.parametrize("body", [b"not json", b'{"data": {"id": "1"}}', b'{"meta": []}', b"[]"])
def test_malformed_answers_are_parse_errors(xapi, body):
    xapi.queue.append(Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError) as info:
        fetch(xapi)
    assert info.value.code == "parse"


def test_an_oversized_body_is_too_large(xapi):
    xapi.posts = posts(100)
    small = EgressPolicy.from_setting("127.0.0.1", deadline=5.0, max_bytes=5000)
    with pytest.raises(SourceError) as info:
        fetch(xapi, policy=small)
    assert info.value.code == "too_large"


def test_clean_settings():
    clean = get_adapter("x").clean_settings
    assert clean({"bearer_token": " t "}) == {"bearer_token": "t", "max_posts_per_day": 500}
    assert clean({"bearer_token": "t", "max_posts_per_day": "2000", "query": "acme -is:retweet",
                  "base_url": "https://api.twitter.com/"}) == {
        "bearer_token": "t", "max_posts_per_day": 2000, "query": "acme -is:retweet",
        "base_url": "https://api.twitter.com"}
    for bad, field in (({}, "bearer_token"), ({"bearer_token": 5}, "bearer_token"),
                       ({"bearer_token": "t", "max_posts_per_day": 0}, "max_posts_per_day"),
                       ({"bearer_token": "t", "max_posts_per_day": 100_001}, "max_posts_per_day"),
                       ({"bearer_token": "t", "max_posts_per_day": True}, "max_posts_per_day"),
                       ({"bearer_token": "t", "max_posts_per_day": "1e3"}, "max_posts_per_day"),
                       ({"bearer_token": "t", "query": "q" * 513}, "query"),
                       ({"bearer_token": "t", "base_url": "javascript:alert(1)"}, "base_url")):
        with pytest.raises(SourceSettingsError) as info:
            clean(bad)
        assert info.value.field == field, bad
    assert [f.name for f in get_adapter("x").fields if f.secret] == ["bearer_token"]


def test_a_changed_query_starts_afresh(xapi):
    xapi.posts = posts(30, first_id=400)
    cursor = {"query": "acme", "newest_id": "405", "day": TODAY, "read": 12,
              "pending": {"since_id": "300", "next_token": "stale", "newest_id": "405"}}
    result = fetch(xapi, cursor, query="acme rocket")
    request = xapi.requests[-1]
    assert request.arg("since_id") is None and request.arg("next_token") is None
    assert result.cursor == {"query": "acme rocket", "day": TODAY, "read": 12}  # the spend is kept
