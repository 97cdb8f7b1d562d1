"""The youtube adapter against a local fake of the YouTube Data API v3 search.list."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fake_news import (
    LOOPBACK, NOW, YT_PATH, YT_QUOTA, FakeYouTube, context, google_error, server,  # noqa: F401
    youtube_video,
)
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources.youtube import seconds_to_pacific_midnight

QUERY = "acme OR rocket"


def settings(fake, **extra):
    return {"api_key": "test-key", "base_url": fake.base, **extra}


def yt_fetch(fake, cursor=None, query=QUERY, extra=None, **ctx):
    return get_adapter("youtube").fetch(settings(fake, **(extra or {})), cursor or {}, context(query, **ctx))


def test_a_page_of_videos(server):
    fake = FakeYouTube(server, [
        youtube_video(1, NOW - timedelta(hours=3), "Acme &amp; the &quot;Rocket&quot;",
                      "Review of the Acme Rocket &#39;2&#39;\nwith  <b>notes</b>"),
        youtube_video(2, NOW - timedelta(hours=1)),
        youtube_video(3, NOW - timedelta(days=3)),  # older than the first fetch looks back
    ])
    result = yt_fetch(fake)
    newest, older = result.items
    assert newest.external_id == "vid00000002" and newest.url == "https://www.youtube.com/watch?v=vid00000002"
    assert older.text == 'Acme & the "Rocket"\nReview of the Acme Rocket \'2\' with <b>notes</b>'
    assert older.author == "Channel 1" and older.published_at == NOW - timedelta(hours=3)
    assert result.cursor == {"newest": (NOW - timedelta(hours=1)).isoformat()}
    q = server.hits(YT_PATH)[-1].query
    assert q == {"part": "snippet", "type": "video", "q": "acme|rocket", "order": "date", "maxResults": "50",
                 "publishedAfter": "2026-05-31T12:00:00Z", "key": "test-key"}
    # Later fetches look back an hour before the newest video (the index lags).
    yt_fetch(fake, result.cursor, extra={"query": "-shorts"})
    q = server.hits(YT_PATH)[-1].query
    assert q["publishedAfter"] == "2026-06-01T10:00:00Z" and q["q"] == "acme|rocket -shorts"


def test_fetch_follows_page_tokens_up_to_a_limit(server):
    fake = FakeYouTube(server, [youtube_video(n, NOW - timedelta(minutes=n)) for n in range(130)])
    result = yt_fetch(fake, {"newest": (NOW - timedelta(days=1)).isoformat()})
    assert len(result.items) == 100 and len(server.hits(YT_PATH)) == 2  # MAX_PAGES pages of 50
    assert server.hits(YT_PATH)[1].query["pageToken"]
    assert result.cursor["newest"] == NOW.isoformat()


def test_window_pages_with_tokens(server):
    videos = [youtube_video(n, NOW - timedelta(hours=n)) for n in range(1, 140)]
    fake = FakeYouTube(server, videos)
    since, until = NOW - timedelta(hours=120), NOW - timedelta(hours=10)
    adapter, page, ids = get_adapter("youtube"), {}, []
    for _ in range(10):
        result = adapter.fetch_window(settings(fake), since, until, page, context(QUERY))
        ids += [i.external_id for i in result.items]
        assert json.loads(json.dumps(result.cursor)) == result.cursor
        page = result.cursor
        if page.get("done"):
            break
    expected = {v["id"]["videoId"] for v in videos
                if since <= datetime.fromisoformat(v["snippet"]["publishedAt"]) < until}
    assert sorted(ids) == sorted(expected) and len(ids) == 110
    hits = server.hits(YT_PATH)
    assert len(hits) == 3 and "pageToken" not in hits[0].query and hits[2].query["pageToken"]
    assert {h.query["publishedBefore"] for h in hits} == {"2026-06-01T02:00:00Z"}


def test_empty_answer(server):
    fake = FakeYouTube(server, [])
    result = yt_fetch(fake, {"newest": NOW.isoformat()})
    assert result.items == [] and result.cursor == {"newest": NOW.isoformat()}
    assert get_adapter("youtube").fetch_window(settings(fake), NOW - timedelta(days=1), NOW, {},
                                               context(QUERY)).cursor == {"done": True}


def test_quota_exceeded_waits_for_pacific_midnight(server):
    fake = FakeYouTube(server, [])
    server.queue(YT_PATH, 403, {"Content-Type": "application/json"}, YT_QUOTA)
    with pytest.raises(SourceError) as info:
        yt_fetch(fake)
    # 12:00 UTC on 1 June 2026 is 05:00 PDT: 19 hours to the quota reset.
    assert info.value.code == "rate_limited" and info.value.retry_after == 19 * 3600
    assert "quota" in info.value.message and "<a" not in info.value.message


def test_pacific_midnight_follows_daylight_saving():
    assert seconds_to_pacific_midnight(datetime(2026, 1, 15, 7, 59, tzinfo=timezone.utc)) == 60
    assert seconds_to_pacific_midnight(datetime(2026, 6, 1, 7, 0, 1, tzinfo=timezone.utc)) == 86399
    # 8 March 2026 has 23 hours in Los Angeles.
    assert seconds_to_pacific_midnight(datetime(2026, 3, 8, 8, 0, tzinfo=timezone.utc)) == 23 * 3600


@pytest.mark.parametrize("status, headers, body, code, retry_after", [
    (429, {"Retry-After": "30"}, google_error(429, "Too many requests", "rateLimitExceeded"), "rate_limited", 30),
    (403, {}, google_error(403, "User rate limit", "userRateLimitExceeded"), "rate_limited", 60),
    (429, {"Retry-After": "12"}, b"", "rate_limited", 12),
    (403, {}, google_error(403, "The request is not properly authorized.", "forbidden"), "http_403", None),
    (500, {}, google_error(500, "Backend Error", "backendError"), "http_500", None),
    (503, {"Content-Type": "text/html"}, b"<html>unavailable</html>", "http_503", None),
])
def test_error_answers(server, status, headers, body, code, retry_after):
    fake = FakeYouTube(server, [])
    server.queue(YT_PATH, status, headers, body)
    with pytest.raises(SourceError) as info:
        yt_fetch(fake)
    assert info.value.code == code and info.value.retry_after == retry_after


def test_a_wrong_key_is_reported_with_googles_message(server):
    fake = FakeYouTube(server, [], key="other")
    with pytest.raises(SourceError) as info:
        yt_fetch(fake)
    assert info.value.code == "http_400" and "API key not valid" in info.value.message


@pytest.mark.parametrize("body", [b'{"items": [', b'{"items": {}}', b'"text"', b"\xff\xfe"])
def test_malformed_answers(server, body):
    fake = FakeYouTube(server, [])
    server.queue(YT_PATH, 200, {"Content-Type": "application/json"}, body)
    with pytest.raises(SourceError) as info:
        yt_fetch(fake)
    assert info.value.code == "parse"


def test_odd_items_are_skipped(server):
    fake = FakeYouTube(server, [])
    good = youtube_video(1, NOW - timedelta(hours=1))
    server.queue(YT_PATH, 200, {}, {"kind": "youtube#searchListResponse", "items": [
        None, {"id": "x"}, {**good, "id": {"kind": "youtube#channel", "channelId": "UC1"}},
        {**good, "id": {"kind": "youtube#video"}}, {**good, "snippet": {"title": "", "description": ""}},
        {**good, "snippet": {**good["snippet"], "publishedAt": "soon"}}]})
    items = yt_fetch(fake).items
    assert len(items) == 1 and items[0].published_at is None


def test_oversized_answer(server):
    fake = FakeYouTube(server, [youtube_video(n, NOW - timedelta(minutes=n)) for n in range(50)])
    with pytest.raises(SourceError) as info:
        yt_fetch(fake, policy=EgressPolicy.from_setting("127.0.0.1", max_bytes=5000))
    assert info.value.code == "too_large"


def test_missing_query_or_key(server):
    fake = FakeYouTube(server, [])
    with pytest.raises(SourceError) as info:
        yt_fetch(fake, query="")
    assert info.value.code == "settings"
    yt_fetch(fake, query="", extra={"query": "acme"})
    assert server.hits(YT_PATH)[-1].query["q"] == "acme"
    with pytest.raises(SourceError) as info:
        get_adapter("youtube").fetch({"base_url": fake.base}, {}, context(QUERY))
    assert info.value.code == "settings"


def test_settings():
    adapter = get_adapter("youtube")
    assert adapter.clean_settings({"api_key": " k ", "query": "", "x": 1}) == {"api_key": "k"}
    assert adapter.clean_settings({"api_key": "k", "base_url": "http://127.0.0.1:1/yt/"}, LOOPBACK) == \
        {"api_key": "k", "base_url": "http://127.0.0.1:1/yt"}
    for bad, field in (({}, "api_key"), ({"api_key": 5}, "api_key"), ({"api_key": "k", "query": "q" * 501}, "query"),
                       ({"api_key": "k", "base_url": "http://169.254.169.254"}, "base_url")):
        with pytest.raises(SourceSettingsError) as info:
            adapter.clean_settings(bad, EgressPolicy())
        assert info.value.field == field
    assert {f.name for f in adapter.fields if f.secret} == {"api_key"}
    assert adapter.min_every >= 900 and adapter.supports_backfill
