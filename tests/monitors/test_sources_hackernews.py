"""The hackernews adapter against a loopback fake of the Algolia HN Search API."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fake_social import NOW, FakeHackerNews, Reply, hn_comment, hn_story, running
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import FetchContext, SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import hackernews as hn_module

LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)
T0 = int(NOW.timestamp())


@pytest.fixture
def hn():
    with running(FakeHackerNews()) as fake:
        yield fake


def ctx(query: str = "", policy=LOOPBACK, now=NOW) -> FetchContext:
    return FetchContext(policy=policy, monitor_query=query, now=now)


def settings(fake, **extra) -> dict:
    return {"tags": "both", "base_url": fake.base_url, **extra}


def fetch(fake, cursor=None, query="acme", **extra):
    return get_adapter("hackernews").fetch(settings(fake, **extra), cursor or {}, ctx(query))


def stories(count: int, start: int = 1, newest=NOW, step=timedelta(seconds=30), word="acme"):
    return [hn_story(start + i, newest - step * i, f"{word} story {start + i}") for i in range(count)]


def test_a_normal_page_of_stories_and_comments(hn):
    hn.hits = [
        hn_story(101, NOW - timedelta(minutes=1), "Acme Rocket launch", url="https://acme.example/rocket"),
        hn_story(102, NOW - timedelta(minutes=2), "Ask HN: is Acme any good?",
                 story_text="<p>I&#x27;m thinking of buying one.</p><p>Any <i>advice</i>?</p>"),
        hn_comment(103, NOW - timedelta(minutes=3), "Acme support was <b>great</b> &amp; fast",
                   story_id=101, author="tptacek"),
        hn_story(104, NOW - timedelta(minutes=4), "Unrelated", url="https://other.example"),
    ]
    result = fetch(hn)
    first, second, third = result.items
    assert first.external_id == "101" and first.text == "Acme Rocket launch"
    assert first.url == "https://acme.example/rocket" and first.author == "pg"
    assert first.published_at == NOW - timedelta(minutes=1)
    assert second.text == "Ask HN: is Acme any good?\nI'm thinking of buying one. Any advice?"
    assert second.url == "https://news.ycombinator.com/item?id=102"
    assert third.text == "Acme support was great & fast" and third.author == "tptacek"
    assert third.url == "https://news.ycombinator.com/item?id=103"
    request = hn.requests[-1]
    assert request.path == "/api/v1/search_by_date"
    assert request.arg("query") == "acme" and request.arg("tags") == "(story,comment)"
    assert request.arg("hitsPerPage") == "100" and request.arg("page") == "0"
    assert request.arg("numericFilters") is None  # the first fetch takes the newest page
    assert result.cursor == {"tags": "both", "searches": {"acme": {"newest": T0 - 60}}}


def test_the_query_is_pushed_down_as_conjunctive_searches(hn):
    hn.hits = [hn_story(1, NOW - timedelta(minutes=5), "acme rocket"),
               hn_story(2, NOW - timedelta(minutes=6), "acme grinder pro review"),
               hn_story(3, NOW - timedelta(minutes=7), "acme job offer")]
    result = fetch(hn, query='acme (rocket OR "grinder pro") -job')
    assert [r.arg("query") for r in hn.requests] == ["acme rocket", 'acme "grinder pro"']
    assert {i.external_id for i in result.items} == {"1", "2"}
    assert set(result.cursor["searches"]) == {"acme rocket", 'acme "grinder pro"'}
    # The source's own query is sent as is, and tags narrow the item types.
    get_adapter("hackernews").fetch(settings(hn, query="rocket OR grinder", tags="story"), {}, ctx("x"))
    assert hn.requests[-1].arg("query") == "rocket OR grinder" and hn.requests[-1].arg("tags") == "story"
    # An empty monitor query searches everything.
    fetch(hn, query="")
    assert hn.requests[-1].arg("query") == ""


def test_later_fetches_read_from_the_cursor_with_an_overlap(hn):
    hn.hits = stories(3)
    first = fetch(hn)
    hn.hits += [hn_story(50, NOW + timedelta(minutes=5), "acme new one")]
    later = get_adapter("hackernews").fetch(settings(hn), first.cursor, ctx("acme", now=NOW + timedelta(minutes=6)))
    assert hn.requests[-1].arg("numericFilters") == f"created_at_i>{T0 - hn_module.OVERLAP}"
    assert [i.external_id for i in later.items] == ["50", "1", "2", "3"]  # the overlap re-reads 1-3
    assert later.cursor["searches"]["acme"] == {"newest": T0 + 300}


def test_a_backlog_larger_than_one_fetch_is_caught_up_without_gaps(hn, monkeypatch):
    monkeypatch.setattr(hn_module, "MAX_PAGES", 2)
    hn.hits = stories(450)  # 30 s apart: the last 3.75 hours
    cursor = {"tags": "both", "searches": {"acme": {"newest": T0 - 5 * 3600}}}
    first = fetch(hn, cursor)
    assert len(first.items) == 199  # two pages of 100 that share their boundary item
    pending = first.cursor["searches"]["acme"]
    assert pending["newest"] == T0 - 5 * 3600 and pending["pending"]["newest"] == T0
    seen, steps = {i.external_id for i in first.items}, 1
    cursor = first.cursor
    while "pending" in cursor["searches"]["acme"]:
        step = fetch(hn, cursor)
        seen |= {i.external_id for i in step.items}
        cursor, steps = step.cursor, steps + 1
        assert steps < 10
    assert seen == {str(n) for n in range(1, 451)}
    assert cursor["searches"]["acme"] == {"newest": T0}


def test_fetch_window_pages_past_algolias_1000_hit_limit(hn):
    since, until = NOW - timedelta(days=2), NOW - timedelta(days=1)
    inside = stories(1500, start=1, newest=until - timedelta(seconds=1), step=timedelta(seconds=20))
    outside = [hn_story(9001, until, "acme at the end"), hn_story(9002, since - timedelta(seconds=1), "acme before")]
    hn.hits = inside + outside
    adapter, page, seen, calls = get_adapter("hackernews"), {}, [], 0
    while not page.get("done"):
        result = adapter.fetch_window(settings(hn), since, until, page, ctx("acme"))
        seen += [i.external_id for i in result.items]
        page, calls = result.cursor, calls + 1
        assert calls < 40
    assert set(seen) == {str(n) for n in range(1, 1501)}
    assert all(r.arg("page") == "0" for r in hn.requests)  # narrowed by time, not page numbers
    assert hn.requests[0].arg("numericFilters") == (
        f"created_at_i>={int(since.timestamp())},created_at_i<={int(until.timestamp()) - 1}")


def test_fetch_window_runs_each_search_in_turn(hn):
    since, until = NOW - timedelta(hours=2), NOW
    hn.hits = [hn_story(1, NOW - timedelta(hours=1), "acme rocket"), hn_story(2, NOW - timedelta(hours=1), "acme grinder")]
    adapter = get_adapter("hackernews")
    one = adapter.fetch_window(settings(hn), since, until, {}, ctx("acme (rocket OR grinder)"))
    assert [i.external_id for i in one.items] == ["1"] and one.cursor == {"search": 1}
    two = adapter.fetch_window(settings(hn), since, until, one.cursor, ctx("acme (rocket OR grinder)"))
    assert [i.external_id for i in two.items] == ["2"] and two.cursor == {"done": True}


def test_an_empty_answer(hn):
    result = fetch(hn)
    assert result.items == [] and result.cursor["searches"]["acme"] == {"newest": T0}
    again = fetch(hn, result.cursor)
    assert again.items == [] and again.cursor == result.cursor


def test_a_429_is_rate_limited_with_retry_after(hn):
    hn.queue.append(Reply(429, {"message": "Too many requests", "status": 429}, {"Retry-After": "30"}))
    with pytest.raises(SourceError) as info:
        fetch(hn)
    assert info.value.code == "rate_limited" and info.value.retry_after == 30


def test_a_5xx_is_a_source_error(hn):
    hn.queue.append(Reply(503, "<html>Service Unavailable</html>", {"Content-Type": "text/html"}))
    with pytest.raises(SourceError) as info:
        fetch(hn)
    assert info.value.code == "http_503"


def test_a_failure_after_some_pages_keeps_what_was_read(hn, monkeypatch):
    hn.hits = stories(150, newest=NOW + timedelta(hours=1))
    cursor = {"tags": "both", "searches": {"acme": {"newest": T0 - 7200}}}
    original = hn.handle
    calls = []

    def second_page_fails(request):
        calls.append(request)
        return Reply(500, "boom") if len(calls) == 2 else original(request)

    monkeypatch.setattr(hn, "handle", second_page_fails)
    result = fetch(hn, cursor)
    assert len(result.items) == 100
    state = result.cursor["searches"]["acme"]
    assert state["newest"] == T0 - 7200 and "pending" in state
    monkeypatch.setattr(hn, "handle", original)
    rest = fetch(hn, result.cursor)
    assert {i.external_id for i in result.items + rest.items} == {str(n) for n in range(1, 151)}
    assert "pending" not in rest.cursor["searches"]["acme"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"hits": {"a": 1}}', b'{"nbHits": 3}'])
def test_malformed_answers_are_parse_errors(hn, body):
    hn.queue.append(Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError) as info:
        fetch(hn)
    assert info.value.code == "parse"


def test_odd_hits_are_skipped_not_fatal(hn):
    good = hn_story(7, NOW - timedelta(minutes=1), "acme fine")
    hn.queue.append(Reply(200, {"hits": ["x", None, {"objectID": None, "title": "acme"},
                                         {"objectID": "8", "created_at_i": "soon", "title": 5},
                                         good], "nbPages": 1, "page": 0}))
    result = fetch(hn)
    assert [i.external_id for i in result.items] == ["7"]


def test_an_oversized_body_is_too_large(hn):
    hn.hits = stories(100)
    small = EgressPolicy.from_setting("127.0.0.1", deadline=5.0, max_bytes=2000)
    with pytest.raises(SourceError) as info:
        get_adapter("hackernews").fetch(settings(hn), {}, ctx("acme", policy=small))
    assert info.value.code == "too_large"


def test_an_invalid_monitor_query_is_a_source_error(hn):
    with pytest.raises(SourceError) as info:
        fetch(hn, query='acme "unterminated')
    assert info.value.code == "query"


def test_clean_settings():
    clean = get_adapter("hackernews").clean_settings
    assert clean({}) == {"tags": "both"}
    assert clean({"query": "  rust  ", "tags": "Story", "noise": 1}) == {"query": "rust", "tags": "story"}
    assert clean({"base_url": "http://127.0.0.1:9/"}, LOOPBACK) == {"tags": "both", "base_url": "http://127.0.0.1:9"}
    for bad, field in (({"tags": "polls"}, "tags"), ({"tags": 3}, "tags"), ({"query": "x" * 513}, "query"),
                       ({"query": ["a"]}, "query"), ({"base_url": "ftp://hn.example"}, "base_url"),
                       ({"base_url": "https://hn.example/?q=1"}, "base_url"), ({"base_url": 5}, "base_url")):
        with pytest.raises(SourceSettingsError) as info:
            clean(bad)
        assert info.value.field == field
    with pytest.raises(SourceSettingsError) as info:  # loopback is refused by the default policy
        clean({"base_url": "http://127.0.0.1:9"}, EgressPolicy())
    assert info.value.field == "base_url"
    with pytest.raises(SourceSettingsError):
        clean(["not", "a", "dict"])
