"""The generic json adapter against local JSON APIs: paths, fields, paging, headers, errors."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.fake_news import LOOPBACK, NOW, FakeServer, context, server  # noqa: F401
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import SourceError, SourceSettingsError, get_adapter
from webapp.monitors.sources.json_source import _MISSING, resolve, to_datetime

FIELDS = {"id": "id", "text": "title", "author": "user.name", "url": "links.0.href",
          "published_at": "created"}


def posts(*numbers, created=None):
    return [{"id": n, "title": f"Acme post <b>{n}</b>", "user": {"name": f"user{n}"},
             "links": [{"href": f"https://example.com/p/{n}"}], "created": created or "2026-05-31T10:00:00Z"}
            for n in numbers]


def fetch(settings, **ctx):
    clean = get_adapter("json").clean_settings(settings, LOOPBACK)
    return get_adapter("json").fetch(clean, {}, context(**ctx))


def test_items_fields_and_skips(server):
    server.routes["/api"] = lambda req: (200, {}, {"data": {"results": [
        *posts(1), {"id": "x2", "title": "epoch seconds", "created": 1780300800},
        {"id": "x3", "title": "epoch millis", "created": 1780300800123, "links": [{"href": "javascript:x"}]},
        {"id": "x4", "title": "rfc 2822", "created": "Sun, 31 May 2026 10:00:00 GMT", "user": {"name": 7}},
        {"id": "x5", "title": "digits", "created": "1780300800", "user": None},
        {"title": "no id"}, {"id": "x7", "title": ""}, {"id": True, "title": "bool id"}, "junk", None,
        {"id": "x8", "title": "future", "created": "2099-01-01T00:00:00+02:00"}]}})
    result = fetch({"url": server.base + "/api", "items": "data.results", "fields": FIELDS})
    first, seconds, millis, rfc, digits, future = result.items
    assert (first.external_id, first.text, first.author, first.url) == \
        ("1", "Acme post 1", "user1", "https://example.com/p/1")
    assert first.published_at == datetime(2026, 5, 31, 10, tzinfo=timezone.utc)
    assert seconds.published_at == datetime(2026, 6, 1, 8, tzinfo=timezone.utc) == digits.published_at
    assert millis.published_at == datetime(2026, 6, 1, 8, 0, 0, 123000, tzinfo=timezone.utc) and millis.url is None
    assert rfc.published_at == first.published_at and rfc.author == "7" and digits.author is None
    assert future.published_at == NOW
    assert result.cursor == {"last_count": 6, "last_skipped": 5, "pages": 1}
    assert server.requests[-1].headers["accept"] == "application/json"


def test_top_level_list_and_text_from_several_paths(server):
    server.routes["/list"] = lambda req: (200, {}, [{"id": 1, "t": "Title", "b": "<p>Body</p>"}, {"id": 2, "b": "only"}])
    result = fetch({"url": server.base + "/list", "items": "",
                    "fields": '{"id": "id", "text": ["t", "b"]}'})  # JSON text, as a form sends it
    assert [i.text for i in result.items] == ["Title\nBody", "only"]


def test_next_pages_headers_and_origins(server):
    other = FakeServer()
    try:
        pages = {
            "/p1": {"items": posts(1, 2), "next": "/p2?cursor=b"},  # relative to the current page
            "/p2": {"items": posts(3), "paging": {"next": f"{server.base}/p3"}, "next": f"{server.base}/p3"},
            "/p3": {"items": posts(4), "next": f"{other.base}/p4"},  # another origin: no headers
            "/p4": {"items": posts(5), "next": f"{server.base}/p1"},
        }
        for path, body in pages.items():
            (other if path == "/p4" else server).routes[path] = lambda req, body=body: (200, {}, body)
        settings = {"url": server.base + "/p1", "items": "items", "fields": FIELDS, "next": "next",
                    "headers": {"X-Api-Key": "s3cret"}, "max_pages": 10}
        result = fetch(settings)
        assert [i.external_id for i in result.items] == ["1", "2", "3", "4", "5"]  # /p1 again: stop
        assert result.cursor["pages"] == 4
        assert [r.headers.get("x-api-key") for r in server.requests] == ["s3cret"] * 3
        assert "x-api-key" not in other.requests[0].headers
        assert server.requests[1].path == "/p2" and server.requests[1].query == {"cursor": "b"}
        assert len(fetch({**settings, "max_pages": 2}).items) == 3
        assert len(fetch({**settings, "max_pages": None}).items) == 4  # default: 3 pages
    finally:
        other.close()


def test_next_hops_go_through_the_egress_guard(server):
    server.routes["/p"] = lambda req: (200, {}, {"items": posts(1), "next": "http://10.1.2.3/steal"})
    with pytest.raises(SourceError) as info:
        fetch({"url": server.base + "/p", "items": "items", "fields": FIELDS, "next": "next"})
    assert info.value.code == "blocked"


@pytest.mark.parametrize("items, body, message", [
    ("data.results", {"data": {"results": {"a": 1}}}, "leads to an object, not a list"),
    ("data.results", {"data": []}, "does not exist"),
    ("data.results", {"data": {"other": []}}, "does not exist"),
    ("", {"results": []}, "the answer leads to an object"),
    ("data.0", {"data": ["text"]}, "leads to a string"),
])
def test_items_path_must_lead_to_a_list(server, items, body, message):
    server.routes["/api"] = lambda req: (200, {}, body)
    with pytest.raises(SourceError) as info:
        fetch({"url": server.base + "/api", "items": items, "fields": FIELDS})
    assert info.value.code == "parse" and message in info.value.message


def test_empty_list(server):
    server.routes["/api"] = lambda req: (200, {}, {"items": []})
    result = fetch({"url": server.base + "/api", "items": "items", "fields": FIELDS})
    assert result.items == [] and result.cursor == {"last_count": 0, "last_skipped": 0, "pages": 1}


@pytest.mark.parametrize("status, headers, body, code, retry_after", [
    (429, {"Retry-After": "90"}, b'{"error": "slow down"}', "rate_limited", 90),
    (500, {}, b"oops", "http_500", None),
    (404, {}, b"not here", "http_404", None),
    (200, {"Content-Type": "application/json"}, b'{"items": [', "parse", None),
    (200, {"Content-Type": "text/html"}, b"<html>login</html>", "parse", None),
])
def test_errors(server, status, headers, body, code, retry_after):
    server.queue("/api", status, headers, body)
    with pytest.raises(SourceError) as info:
        fetch({"url": server.base + "/api", "items": "items", "fields": FIELDS})
    assert info.value.code == code and info.value.retry_after == retry_after


def test_deeply_nested_answer(server):
    server.routes["/deep"] = lambda req: (200, {"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(SourceError) as info:
        fetch({"url": server.base + "/deep", "items": "", "fields": FIELDS})
    assert info.value.code == "parse"


def test_oversized_answer(server):
    server.routes["/api"] = lambda req: (200, {}, {"items": posts(*range(100))})
    with pytest.raises(SourceError) as info:
        fetch({"url": server.base + "/api", "items": "items", "fields": FIELDS},
              policy=EgressPolicy.from_setting("127.0.0.1", max_bytes=1000))
    assert info.value.code == "too_large"


def test_dotted_paths_and_times():
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}, "0": "key", "l": [1, 2, 3]}
    assert resolve(data, "a.b.1.c") == 2 and resolve(data, "a.b.-1.c") == 2 and resolve(data, "0") == "key"
    assert resolve(data, "") is data and resolve(data, "l.1") == 2
    for missing in ("a.x", "a.b.5.c", "a.b.c", "l.x", "a.b.0.c.d"):
        assert resolve(data, missing) is _MISSING
    assert to_datetime("2026-05-31T10:00:00") == datetime(2026, 5, 31, 10, tzinfo=timezone.utc)
    assert to_datetime("2026-05-31T12:00:00+02:00") == datetime(2026, 5, 31, 10, tzinfo=timezone.utc)
    assert to_datetime(1e20) is None and to_datetime("soon") is None and to_datetime(True) is None
    assert to_datetime(None) is None and to_datetime({"x": 1}) is None


def test_settings():
    clean = get_adapter("json").clean_settings
    assert clean({"url": " https://api.example.com/v1/items?x=1 ", "fields": {"id": "id", "text": "t"},
                  "headers": '{"Authorization": "Bearer x"}', "extra": 1}) == {
        "url": "https://api.example.com/v1/items?x=1", "items": "", "fields": {"id": "id", "text": "t"},
        "max_pages": 3, "headers": {"Authorization": "Bearer x"}}
    ok = {"url": "https://api.example.com/", "fields": {"id": "id", "text": "t"}}
    for bad, field in (
            ({}, "url"), ({**ok, "url": "javascript:alert(1)"}, "url"), ({**ok, "url": "http://127.0.0.1/"}, "url"),
            ({**ok, "fields": None}, "fields"), ({**ok, "fields": {"id": "id"}}, "fields"),
            ({**ok, "fields": {"id": "id", "text": "t", "title": "x"}}, "fields"),
            ({**ok, "fields": {"id": "a..b", "text": "t"}}, "fields"), ({**ok, "fields": "not json"}, "fields"),
            ({**ok, "fields": ["id"]}, "fields"), ({**ok, "items": "data."}, "items"), ({**ok, "items": 3}, "items"),
            ({**ok, "headers": {"Bad Name": "x"}}, "headers"), ({**ok, "headers": {"X-A": "a\r\nb"}}, "headers"),
            ({**ok, "headers": {"Host": "evil"}}, "headers"), ({**ok, "headers": {"X-A": 1}}, "headers"),
            ({**ok, "max_pages": 0}, "max_pages"), ({**ok, "max_pages": 21}, "max_pages"),
            ({**ok, "max_pages": "x"}, "max_pages"), ({**ok, "max_pages": True}, "max_pages"),
            ({**ok, "next": ".next"}, "next")):
        with pytest.raises(SourceSettingsError) as info:
            clean(bad, EgressPolicy())
        assert info.value.field == field, bad
    assert [f.name for f in get_adapter("json").fields if f.secret] == ["headers"]
    with pytest.raises(SourceError) as info:  # stored settings that no longer validate
        get_adapter("json").fetch({"url": "https://api.example.com/"}, {}, context())
    assert info.value.code == "settings"
    assert clean({**ok, "max_pages": "20"})["max_pages"] == 20
