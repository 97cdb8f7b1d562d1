"""The mastodon adapter against loopback fakes of Mastodon instances (hashtag timelines)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.fake_social import NOW, FakeMastodon, Reply, Request, mastodon_status, running
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import FetchContext, SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources import mastodon as mastodon_module
from webapp.monitors.sources.mastodon import link_param, status_text

LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)


@pytest.fixture
def one():
    with running(FakeMastodon()) as fake:
        yield fake


@pytest.fixture
def two():
    with running(FakeMastodon()) as fake:
        yield fake


def ctx(policy=LOOPBACK, now=NOW) -> FetchContext:
    return FetchContext(policy=policy, monitor_query="", now=now)


def fetch(fakes, cursor=None, tag="acme", policy=LOOPBACK, now=NOW):
    settings = {"instances": [f.base_url for f in fakes], "tag": tag}
    return get_adapter("mastodon").fetch(settings, cursor or {}, ctx(policy, now))


def timeline(count: int, start_id: int = 1000, newest=NOW, step=timedelta(minutes=1), **extra):
    """`count` statuses, ids rising with time, the newest at `newest`."""
    return [mastodon_status(start_id + i, newest - step * (count - 1 - i), f"<p>acme post {start_id + i}</p>",
                            **extra) for i in range(count)]


def test_a_normal_page(one):
    one.statuses = [
        mastodon_status(11, NOW - timedelta(minutes=2), '<p>Loving my <a href="https://social.example/tags/acme" '
                        'class="mention hashtag" rel="tag">#<span>acme</span></a> grinder!<br />Second line</p>'
                        "<p>New paragraph &amp; more</p>", acct="alice"),
        mastodon_status(12, NOW - timedelta(minutes=1), "<p>It broke again.</p>", acct="bob@other.example",
                        spoiler_text="acme rant"),
        mastodon_status(13, NOW, "<p>no tag here</p>", tags=("other",)),
    ]
    result = fetch([one])
    first, second = result.items
    assert second.external_id == "https://social.example/users/alice/statuses/11"
    assert second.text == "Loving my #acme grinder!\nSecond line\nNew paragraph & more"
    assert second.author == f"alice@{one.base_url.split('//')[1]}"  # local accounts get their home
    assert second.url == "https://social.example/@alice/11"
    assert second.published_at == NOW - timedelta(minutes=2)
    assert first.text == "acme rant\nIt broke again." and first.author == "bob@other.example"
    request = one.requests[-1]
    assert request.path == "/api/v1/timelines/tag/acme"
    assert request.arg("limit") == "40" and request.arg("min_id") is None
    assert result.cursor == {"tag": "acme", "instances": {one.base_url: {"newest": "12"}}}


def test_several_instances_deduplicate_on_the_status_uri(one, two):
    shared = "https://remote.example/users/carol/statuses/777"
    one.statuses = [mastodon_status(50, NOW - timedelta(minutes=5), "<p>acme from carol</p>",
                                    acct="carol@remote.example", uri=shared),
                    mastodon_status(51, NOW - timedelta(minutes=4), "<p>acme only here</p>")]
    original = mastodon_status(9, NOW - timedelta(minutes=5), "<p>acme from carol</p>",
                               acct="carol@remote.example", uri=shared)
    two.statuses = [mastodon_status(900, NOW - timedelta(minutes=3), "", acct="dave", reblog=original),
                    mastodon_status(901, NOW - timedelta(minutes=2), "<p>acme over there</p>")]
    result = fetch([one, two])
    assert sorted(i.external_id for i in result.items) == sorted([
        shared, "https://social.example/users/alice/statuses/51",
        "https://social.example/users/alice/statuses/901"])
    reblogged = [i for i in result.items if i.external_id == shared][0]
    assert reblogged.author == "carol@remote.example" and reblogged.text == "acme from carol"
    assert result.cursor["instances"] == {one.base_url: {"newest": "51"}, two.base_url: {"newest": "901"}}


def test_later_fetches_page_forward_from_the_cursor_without_gaps(one, monkeypatch):
    monkeypatch.setattr(mastodon_module, "MAX_PAGES", 2)
    one.statuses = timeline(3, start_id=100)
    first = fetch([one])
    assert first.cursor["instances"][one.base_url] == {"newest": "102"}
    one.statuses += timeline(130, start_id=200, newest=NOW + timedelta(hours=3))
    later = NOW + timedelta(hours=3)
    second = fetch([one], first.cursor, now=later)
    assert [r.arg("min_id") for r in one.requests[1:]] == ["102", "239"]  # the Link rel="prev" min_id
    assert len(second.items) == 80 and second.cursor["instances"][one.base_url] == {"newest": "279"}
    third = fetch([one], second.cursor, now=later)
    seen = {i.external_id.rsplit("/", 1)[1] for i in second.items + third.items}
    assert seen == {str(n) for n in range(200, 330)}
    assert third.cursor["instances"][one.base_url] == {"newest": "329"}
    quiet = fetch([one], third.cursor, now=later)
    assert quiet.items == [] and quiet.cursor == third.cursor


def test_fetch_window_pages_back_with_max_id_across_instances(one, two):
    one.statuses = timeline(150, start_id=1000, newest=NOW, step=timedelta(minutes=30))  # ~3 days
    two.statuses = timeline(10, start_id=5000, newest=NOW - timedelta(days=1, hours=1), step=timedelta(hours=1))
    since, until = NOW - timedelta(days=2), NOW - timedelta(days=1)
    settings = {"instances": [one.base_url, two.base_url], "tag": "acme"}
    adapter, page, seen, calls = get_adapter("mastodon"), {}, [], 0
    while not page.get("done"):
        result = adapter.fetch_window(settings, since, until, page, ctx())
        seen += [i.external_id.rsplit("/", 1)[1] for i in result.items]
        page, calls = result.cursor, calls + 1
        assert calls < 20
    expected = [s["id"] for s in one.statuses + two.statuses
                if since <= datetime.fromisoformat(s["created_at"]) < until]
    assert sorted(seen) == sorted(expected) and len(expected) == 48 + 10
    first_page = [s["id"] for s in sorted(one.statuses, key=lambda s: int(s["id"]))][-40:]
    assert one.requests[0].arg("max_id") is None and one.requests[1].arg("max_id") == first_page[0]
    assert two.requests[0].arg("max_id") is None  # each instance starts at its newest page


def test_an_empty_timeline(one):
    result = fetch([one])
    assert result.items == [] and result.cursor == {"tag": "acme", "instances": {one.base_url: {}}}
    assert fetch([one], result.cursor).items == []
    assert one.requests[-1].arg("min_id") is None  # still a first fetch


def test_a_429_reads_mastodons_iso_reset_header(one):
    reset = (NOW + timedelta(minutes=4)).isoformat(timespec="microseconds")
    one.queue.append(Reply(429, {"error": "Too many requests"},
                           {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))
    with pytest.raises(SourceError) as info:
        fetch([one])
    assert info.value.code == "rate_limited" and info.value.retry_after == 240
    one.queue.append(Reply(429, {"error": "Too many requests"}, {"Retry-After": "30"}))
    with pytest.raises(SourceError) as info:
        fetch([one])
    assert info.value.retry_after == 30


def test_one_failing_instance_does_not_stop_the_others(one, two):
    one.statuses = timeline(2, start_id=10)
    two.queue.append(Reply(503, "<html>down</html>", {"Content-Type": "text/html"}))
    cursor = {"tag": "acme", "instances": {two.base_url: {"newest": "77"}}}
    result = fetch([one, two], cursor)
    assert len(result.items) == 2
    assert result.cursor["instances"] == {one.base_url: {"newest": "11"}, two.base_url: {"newest": "77"}}


def test_a_5xx_when_every_instance_fails(one, two):
    one.queue.append(Reply(502, "bad gateway"))
    two.queue.append(Reply(500, "oops"))
    with pytest.raises(SourceError) as info:
        fetch([one, two])
    assert info.value.code == "http_502"


@pytest.mark.parametrize("body", [b"<html>maintenance</html>", b'{"error": "Record not found"}', b"[1, "])
def test_malformed_answers_are_parse_errors(one, body):
    one.queue.append(Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError) as info:
        fetch([one])
    assert info.value.code == "parse"


def test_odd_statuses_are_skipped(one):
    good = mastodon_status(5, NOW, "<p>fine</p>")
    one.queue.append(Reply(200, [None, "x", {"id": "3", "uri": 7}, {"id": "4", "uri": "https://a.example/4",
                                 "content": "", "spoiler_text": ""}, good]))
    assert [i.external_id for i in fetch([one]).items] == [good["uri"]]


def test_an_oversized_body_is_too_large(one):
    one.statuses = timeline(40)
    small = EgressPolicy.from_setting("127.0.0.1", deadline=5.0, max_bytes=3000)
    with pytest.raises(SourceError) as info:
        fetch([one], policy=small)
    assert info.value.code == "too_large"


def test_clean_settings():
    clean = get_adapter("mastodon").clean_settings
    assert clean({"instance": "mastodon.social", "tag": "#Acme"}) == {
        "instances": ["https://mastodon.social"], "tag": "Acme"}
    assert clean({"instances": "mastodon.social, https://fosstodon.org/\nmastodon.social", "tag": "café_2"}) == {
        "instances": ["https://mastodon.social", "https://fosstodon.org"], "tag": "café_2"}
    assert clean({"instances": ["http://127.0.0.1:8080"], "tag": "x"}, LOOPBACK)["instances"] == ["http://127.0.0.1:8080"]
    bad = [({"tag": "acme"}, "instances"), ({"instances": [], "tag": "acme"}, "instances"),
           ({"instances": ["ftp://x.example"], "tag": "acme"}, "instances"),
           ({"instances": [5], "tag": "acme"}, "instances"), ({"instances": {"a": 1}, "tag": "acme"}, "instances"),
           ({"instances": [f"i{n}.example" for n in range(11)], "tag": "acme"}, "instances"),
           ({"instance": "mastodon.social"}, "tag"), ({"instance": "m.example", "tag": "two words"}, "tag"),
           ({"instance": "m.example", "tag": "2024"}, "tag"), ({"instance": "m.example", "tag": "a/b"}, "tag"),
           ({"instance": "m.example", "tag": "#"}, "tag"), ({"instance": "m.example", "tag": "x" * 101}, "tag")]
    for settings, field in bad:
        with pytest.raises(SourceSettingsError) as info:
            clean(settings)
        assert info.value.field == field, settings
    with pytest.raises(SourceSettingsError) as info:
        clean({"instance": "http://127.0.0.1:8080", "tag": "acme"}, EgressPolicy())
    assert info.value.field == "instances"


def test_status_html_to_text_and_link_headers():
    assert status_text("<p>Hello<br>world</p><p>Second &amp; <b>para</b></p>") == "Hello\nworld\nSecond & para"
    assert status_text("") == "" and status_text("<p></p><p> </p>") == ""
    header = ('<https://m.example/api/v1/timelines/tag/acme?limit=40&max_id=104>; rel="next", '
              '<https://m.example/api/v1/timelines/tag/acme?limit=40&min_id=120>; rel="prev"')
    assert link_param(header, "next", "max_id") == "104" and link_param(header, "prev", "min_id") == "120"
    assert link_param(None, "next", "max_id") is None and link_param(header, "next", "min_id") is None


def test_backfill_stops_when_an_instance_does_not_move_back(one, monkeypatch):
    one.statuses = timeline(40, start_id=100)
    same_page = one.handle(Request("GET", "/api/v1/timelines/tag/acme", {"limit": ["40"]}, {}, b""))

    def ignores_max_id(request):  # a broken server: the same page whatever max_id says
        return same_page

    monkeypatch.setattr(one, "handle", ignores_max_id)
    adapter, page, calls = get_adapter("mastodon"), {}, 0
    settings = {"instances": [one.base_url], "tag": "acme"}
    while not page.get("done"):
        page = adapter.fetch_window(settings, NOW - timedelta(days=1), NOW + timedelta(minutes=1), page, ctx()).cursor
        calls += 1
        assert calls <= 3
