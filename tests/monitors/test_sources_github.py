"""The github adapter against a local fake of GitHub's issue search (Link pagination, 1,000 cap)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.fake_news import (
    GH_PATH, LOOPBACK, NOW, FakeGitHub, context, github_issue, server,  # noqa: F401
)
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import SourceError, SourceSettingsError, get_adapter

QUERY = "acme OR rocket -spam"


def settings(fake, **extra):
    return {"token": "ghp_test", "base_url": fake.base, **extra}


def gh_fetch(fake, cursor=None, query=QUERY, extra=None, **ctx):
    return get_adapter("github").fetch(settings(fake, **(extra or {})), cursor or {}, context(query, **ctx))


def test_first_fetch_takes_the_newest_page(server):
    fake = FakeGitHub(server, [
        github_issue(1, NOW - timedelta(hours=2), "Rocket leaks", "It **leaks**\n\n```\ntrace\n```"),
        github_issue(2, NOW - timedelta(hours=1), "Acme PR", None, pull=True),
        github_issue(3, NOW - timedelta(days=2))])
    result = gh_fetch(fake, extra={"query": "repo:acme/rocket is:open"})
    pr, issue = result.items
    assert pr.external_id == "https://github.com/acme/rocket/pull/2" == pr.url and pr.text == "Acme PR"
    assert issue.text == "Rocket leaks\nIt **leaks** ``` trace ```" and issue.author == "user1"
    assert issue.published_at == NOW - timedelta(hours=2)
    assert result.cursor == {"newest": (NOW - timedelta(hours=1)).isoformat()}
    request = server.hits(GH_PATH)[-1]
    assert request.query == {"q": "acme OR rocket repo:acme/rocket is:open created:>=2026-05-31T12:00:00Z",
                             "sort": "created", "order": "desc", "per_page": "100", "page": "1"}
    assert request.headers["authorization"] == "Bearer ghp_test"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


def test_later_fetches_catch_up_oldest_first(server):
    start = NOW - timedelta(days=1)
    fake = FakeGitHub(server, [github_issue(n, start + timedelta(minutes=n)) for n in range(1, 351)])
    result = gh_fetch(fake, {"newest": start.isoformat()})
    assert len(result.items) == 300 and len(server.hits(GH_PATH)) == 3  # MAX_PAGES, via Link next
    assert [h.query["page"] for h in server.hits(GH_PATH)] == ["1", "2", "3"]
    assert {h.query["order"] for h in server.hits(GH_PATH)} == {"asc"}
    assert result.cursor == {"newest": (start + timedelta(minutes=300)).isoformat()}
    rest = gh_fetch(fake, result.cursor)
    assert [i.external_id.rsplit("/", 1)[1] for i in rest.items] == [str(n) for n in range(300, 351)]
    assert rest.cursor == {"newest": (start + timedelta(minutes=350)).isoformat()}
    assert "created:>=" + (start + timedelta(minutes=300)).strftime("%Y-%m-%dT%H:%M:%SZ") in \
        server.hits(GH_PATH)[-1].query["q"]


def test_window_splits_past_the_1000_result_cap(server):
    since, until = NOW - timedelta(days=5), NOW
    issues = [github_issue(n, since + timedelta(minutes=2 * n)) for n in range(2500)]  # ~3.5 days
    fake = FakeGitHub(server, issues)
    adapter, page, seen = get_adapter("github"), {}, set()
    for calls in range(1, 40):
        result = adapter.fetch_window(settings(fake), since, until, page, context(QUERY))
        seen |= {i.external_id for i in result.items}
        assert json.loads(json.dumps(result.cursor)) == result.cursor
        page = result.cursor
        if page.get("done"):
            break
    assert seen == {i["html_url"] for i in issues} and calls == 26  # 10 + 10 + 6 pages (overlaps)
    assert all(int(h.query["page"]) <= 10 for h in server.hits(GH_PATH))
    first = server.hits(GH_PATH)[0].query["q"]
    assert first.endswith("created:2026-05-27T12:00:00Z..2026-06-01T11:59:59Z")


def test_empty_answer(server):
    fake = FakeGitHub(server, [])
    cursor = {"newest": (NOW - timedelta(hours=1)).isoformat()}
    assert gh_fetch(fake, cursor).items == [] and gh_fetch(fake, cursor).cursor == cursor
    window = get_adapter("github").fetch_window(settings(fake), NOW - timedelta(days=1), NOW, {}, context(QUERY))
    assert window.items == [] and window.cursor == {"done": True}


@pytest.mark.parametrize("status, headers, body, code, retry_after", [
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1780315260"},
     {"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com"},
     "rate_limited", 60),
    (429, {"Retry-After": "30", "x-ratelimit-remaining": "12"},
     {"message": "You have exceeded a secondary rate limit."}, "rate_limited", 30),
    (403, {"x-ratelimit-remaining": "25"},
     {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
     "rate_limited", 60),
    (422, {}, {"message": "Validation Failed", "errors": [
        {"message": "The listed users cannot be searched either because the users do not exist or you do "
                    "not have permission to view the users.", "resource": "Search", "field": "q",
         "code": "invalid"}], "documentation_url": "https://docs.github.com/v3/search/"}, "http_422", None),
    (502, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>", "http_502", None),
    (503, {}, {"message": "Service unavailable"}, "http_503", None),
])
def test_error_answers(server, status, headers, body, code, retry_after):
    fake = FakeGitHub(server, [])
    server.queue(GH_PATH, status, headers, body)
    with pytest.raises(SourceError) as info:
        gh_fetch(fake)
    assert info.value.code == code and info.value.retry_after == retry_after
    if code == "http_422":
        assert "Validation Failed; The listed users cannot be searched" in info.value.message


def test_bad_credentials(server):
    fake = FakeGitHub(server, [], token="ghp_other")
    with pytest.raises(SourceError) as info:
        gh_fetch(fake)
    assert info.value.code == "http_401" and "Bad credentials" in info.value.message


@pytest.mark.parametrize("body", [b"{", b'{"total_count": 1}', b'{"items": 3}', b"[]", b"[" * 50_000 + b"]" * 50_000])
def test_malformed_answers(server, body):
    fake = FakeGitHub(server, [])
    server.queue(GH_PATH, 200, {"Content-Type": "application/json"}, body)
    with pytest.raises(SourceError) as info:
        gh_fetch(fake)
    assert info.value.code == "parse"


def test_odd_items_and_long_bodies(server):
    fake = FakeGitHub(server, [])
    good = github_issue(1, NOW - timedelta(hours=1))
    server.queue(GH_PATH, 200, {}, {"total_count": 5, "incomplete_results": True, "items": [
        7, {"title": None, "body": None, "id": 3}, {**good, "html_url": None, "id": 99, "user": None},
        {**good, "body": "word " * 5000, "created_at": "2099-01-01T00:00:00Z"}]})
    by_id, long_body = gh_fetch(fake).items
    assert by_id.external_id == "99" and by_id.url is None and by_id.author is None
    assert len(long_body.text) <= 10_000 and long_body.text.endswith("…") and long_body.published_at == NOW


def test_oversized_answer(server):
    fake = FakeGitHub(server, [github_issue(n, NOW - timedelta(minutes=n)) for n in range(40)])
    with pytest.raises(SourceError) as info:
        gh_fetch(fake, policy=EgressPolicy.from_setting("127.0.0.1", max_bytes=3000))
    assert info.value.code == "too_large"


def test_github_enterprise_base_url_and_query_rules(server):
    fake = FakeGitHub(server, [github_issue(1, NOW - timedelta(hours=1))], prefix="/api/v3")
    assert len(gh_fetch(fake, query="", extra={"query": "org:acme is:issue"}).items) == 1
    assert server.hits("/api/v3" + GH_PATH)[-1].query["q"].startswith("org:acme is:issue created:>=")
    with pytest.raises(SourceError) as info:
        gh_fetch(fake, query="NOT spam")
    assert info.value.code == "settings"
    gh_fetch(fake, query="a1 OR a2 OR a3 OR a4 OR a5 OR a6 OR a7", extra={"query": "repo:acme/rocket"})
    assert server.hits("/api/v3" + GH_PATH)[-1].query["q"].startswith("repo:acme/rocket created:")


def test_settings():
    adapter = get_adapter("github")
    assert adapter.clean_settings({"token": " t ", "query": " repo:a/b ", "x": 1}) == {"token": "t", "query": "repo:a/b"}
    assert adapter.clean_settings({"token": "t", "base_url": "https://ghe.example.com/api/v3/"}) == \
        {"token": "t", "base_url": "https://ghe.example.com/api/v3"}
    assert adapter.clean_settings({"token": "t", "base_url": "http://127.0.0.1:8/api/v3"}, LOOPBACK)
    for bad, field in (({}, "token"), ({"token": ["t"]}, "token"), ({"token": "t", "base_url": "gopher://x"}, "base_url"),
                       ({"token": "t", "base_url": "http://192.168.1.1/api/v3"}, "base_url"),
                       ({"token": "t", "query": "x\r\ny"}, "query")):
        with pytest.raises(SourceSettingsError) as info:
            adapter.clean_settings(bad, EgressPolicy())
        assert info.value.field == field
    assert [f.name for f in adapter.fields if f.secret] == ["token"] and adapter.supports_backfill


def test_window_bounds_are_inclusive_seconds(server):
    fake = FakeGitHub(server, [github_issue(1, NOW - timedelta(hours=1)), github_issue(2, NOW)])
    result = get_adapter("github").fetch_window(settings(fake), NOW - timedelta(hours=1), NOW, {}, context(QUERY))
    assert [i.external_id for i in result.items] == ["https://github.com/acme/rocket/issues/1"]
    assert result.cursor == {"done": True}
    assert isinstance(datetime.fromisoformat(result.items[0].published_at.isoformat()), datetime)
