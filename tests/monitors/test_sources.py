"""Source adapters: the registry, RSS/Atom against a real loopback server, HTML to text, demo."""
from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from webapp.core.egress import EgressError, EgressPolicy
from webapp.monitors.sources import (
    REGISTRY, FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError, UnknownSourceKind, available_kinds, get_adapter, html_to_text, register,
)
from webapp.monitors.sources import demo as demo_module
from webapp.monitors.sources.rss import entry_datetime

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)


# -- a loopback feed server --------------------------------------------------------------

class FeedServer:
    """Serves `routes[path] = (status, headers, body)` (or a callable(handler) returning one)
    on 127.0.0.1, and records each request's path and headers."""

    def __init__(self):
        self.routes: dict = {}
        self.requests: list[tuple[str, dict]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = owner.routes.get(self.path, (404, {}, b"not found"))
                status, headers, body = route(self) if callable(route) else route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def serve(self, path: str, body: bytes | str, status: int = 200,
              content_type: str = "application/rss+xml; charset=utf-8", **headers) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = (status, {"Content-Type": content_type, **headers}, body)
        return self.url(path)


@pytest.fixture(scope="module")
def server():
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.server.shutdown()
    srv.server.server_close()
    srv.thread.join(timeout=5)


def ctx(**overrides) -> FetchContext:
    return FetchContext(policy=overrides.pop("policy", LOOPBACK), now=overrides.pop("now", NOW),
                        **overrides)


def fetch_rss(url: str, cursor: dict | None = None, **ctx_overrides) -> FetchResult:
    return get_adapter("rss").fetch({"url": url}, cursor or {}, ctx(**ctx_overrides))


def rss(items: str, extra_ns: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{extra_ns}><channel>'
            f"<title>Acme news</title><link>https://example.com/</link>"
            f"<description>All about rockets</description>{items}</channel></rss>")


RSS_20 = rss("""
<item><guid isPermaLink="false">acme-1</guid><title>Acme Rocket review</title>
  <link>https://example.com/posts/1</link><description>A great machine.</description>
  <author>reviewer@example.com (Crema Fan)</author>
  <pubDate>Tue, 03 Jun 2025 09:39:21 GMT</pubDate></item>
<item><guid>https://example.com/posts/2</guid><title>Second post</title>
  <link>https://example.com/posts/2</link><description>Leaking again.</description>
  <dc:creator>tamp_king</dc:creator>
  <pubDate>Wed, 04 Jun 2025 10:00:00 +0200</pubDate></item>
""", ' xmlns:dc="http://purl.org/dc/elements/1.1/"')

ATOM_10 = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Acme blog</title><id>urn:uuid:feed</id><updated>2025-06-05T12:00:00Z</updated>
  <entry>
    <id>urn:uuid:entry-1</id><title>Rocket 2 announced</title>
    <link rel="alternate" href="/blog/rocket-2"/>
    <updated>2025-06-05T12:00:00Z</updated><published>2025-06-05T08:30:00+02:00</published>
    <author><name>Acme Team</name></author>
    <content type="html">&lt;p&gt;The &lt;b&gt;new&lt;/b&gt; model&lt;/p&gt;&lt;p&gt;ships soon&lt;/p&gt;</content>
  </entry>
  <entry>
    <id>urn:uuid:entry-2</id><title type="html">Fish &amp;amp; &lt;i&gt;chips&lt;/i&gt;</title>
    <updated>2025-06-06T00:00:00Z</updated>
    <summary>Plain summary</summary>
  </entry>
</feed>"""


# -- registry ----------------------------------------------------------------------------

def test_registry_knows_rss_and_demo():
    assert {"rss", "demo"} <= set(available_kinds())
    assert available_kinds() == sorted(available_kinds())
    for kind, adapter in REGISTRY.items():
        assert isinstance(adapter, SourceAdapter) and adapter.kind == kind and adapter.label
        assert adapter.min_every <= adapter.default_every
        assert all(isinstance(f, SettingField) for f in adapter.fields)
    assert get_adapter("rss").kind == "rss" and get_adapter("demo").kind == "demo"


@pytest.mark.parametrize("kind", ["carrier-pigeon", "", None, ["rss"], "RSS"])
def test_unknown_kind_is_a_clear_key_error(kind):
    with pytest.raises(UnknownSourceKind) as info:
        get_adapter(kind)
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert repr(kind) in message and "rss" in message and "demo" in message


def test_register_refuses_a_second_adapter_for_a_kind():
    class Again(SourceAdapter):
        kind = "rss"
        label = "another rss"

    with pytest.raises(ValueError):
        register(Again())
    assert type(get_adapter("rss")).__name__ == "RssAdapter"


def test_errors_carry_code_field_and_message():
    err = SourceError("http_500", "the feed answered HTTP 500")
    assert (err.code, err.message) == ("http_500", "the feed answered HTTP 500") and "500" in str(err)
    bad = SourceSettingsError("url", "the feed URL is required")
    assert isinstance(bad, ValueError) and (bad.field, bad.message) == ("url", "the feed URL is required")


# -- RSS settings ------------------------------------------------------------------------

def test_rss_clean_settings_normalises_and_drops_unknown_keys():
    clean = get_adapter("rss").clean_settings({"url": "  https://example.com/feed.xml ", "x": 1})
    assert clean == {"url": "https://example.com/feed.xml"}
    assert get_adapter("rss").clean_settings({"url": "http://example.org/a"}, LOOPBACK)


@pytest.mark.parametrize("settings", [
    {}, {"url": ""}, {"url": "   "}, {"url": None}, {"url": 42},
    {"url": "ftp://example.com/feed.xml"},
    {"url": "javascript:alert(1)"},
    {"url": "file:///etc/passwd"},
    {"url": "example.com/feed.xml"},
    {"url": "https://"},
    {"url": "https://example.com/" + "a" * 3000},
])
def test_rss_clean_settings_rejects_bad_urls(settings):
    with pytest.raises(SourceSettingsError) as info:
        get_adapter("rss").clean_settings(settings, EgressPolicy())
    assert info.value.field == "url" and info.value.message


def test_rss_clean_settings_applies_the_egress_policy():
    adapter = get_adapter("rss")
    for url in ("http://127.0.0.1/feed", "http://localhost/feed", "http://user:pw@example.com/f"):
        with pytest.raises(SourceSettingsError):
            adapter.clean_settings({"url": url}, EgressPolicy())
    # Without a policy only the syntax is checked; with the allow-list loopback is fine.
    assert adapter.clean_settings({"url": "http://127.0.0.1/feed"})
    assert adapter.clean_settings({"url": "http://127.0.0.1/feed"}, LOOPBACK)


def test_settings_must_be_an_object():
    for kind in ("rss", "demo"):
        with pytest.raises(SourceSettingsError):
            get_adapter(kind).clean_settings(["url"])


# -- RSS fetching ------------------------------------------------------------------------

def test_rss_20_feed(server):
    result = fetch_rss(server.serve("/rss.xml", RSS_20))
    first, second = result.items
    assert first == FetchedItem(
        external_id="acme-1", text="Acme Rocket review\nA great machine.", author="Crema Fan",
        url="https://example.com/posts/1",
        published_at=datetime(2025, 6, 3, 9, 39, 21, tzinfo=timezone.utc))
    assert second.external_id == "https://example.com/posts/2" and second.author == "tamp_king"
    assert second.published_at == datetime(2025, 6, 4, 8, 0, tzinfo=timezone.utc)
    assert json.loads(json.dumps(result.cursor)) == result.cursor
    # The request asked for a feed and carried the descriptive feed user agent.
    path, headers = server.requests[-1]
    assert path == "/rss.xml" and "rss" in headers["accept"]
    assert headers["user-agent"].startswith("Sentimon/0.1 (self-hosted monitoring; +")


def test_atom_10_feed(server):
    url = server.serve("/atom.xml", ATOM_10, content_type="application/atom+xml")
    first, second = fetch_rss(url).items
    assert first.external_id == "urn:uuid:entry-1"
    assert first.text == "Rocket 2 announced\nThe new model ships soon"
    assert first.author == "Acme Team"
    assert first.url == server.url("/blog/rocket-2")  # relative link resolved against the feed
    assert first.published_at == datetime(2025, 6, 5, 6, 30, tzinfo=timezone.utc)
    assert second.text == "Fish & chips\nPlain summary" and second.url is None
    assert second.published_at == datetime(2025, 6, 6, tzinfo=timezone.utc)  # from <updated>
    assert all(item.published_at.tzinfo is not None for item in (first, second))


def test_entries_without_guid_use_link_then_a_hash(server):
    url = server.serve("/noguid.xml", rss("""
        <item><title>Linked</title><link>https://example.com/a</link></item>
        <item><title>No link at all</title><description>just text</description></item>
        <item><title>No link at all</title><description>other text</description></item>
        <item><title>Other title</title></item>
        <item><description>body only, no title</description></item>
    """))
    items = fetch_rss(url).items
    ids = [item.external_id for item in items]
    assert ids[0] == "https://example.com/a"
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", i) for i in ids[1:])
    assert ids[1] == ids[2]  # same title + link -> same id (the database keeps the first)
    assert len(set(ids[1:])) == 3
    assert ids == [item.external_id for item in fetch_rss(url).items]  # stable across fetches
    assert items[1].url is None and items[1].published_at is None
    assert items[4].text == "body only, no title"


def test_html_in_descriptions_becomes_plain_text(server):
    url = server.serve("/html.xml", rss("""
        <item><guid>h1</guid><title>Caf&#233; &amp; crema</title>
          <description><![CDATA[<p>Hello&nbsp;<b>world</b> &amp; friends &lt;3</p>
          <script>alert("x")</script><style>p { color: red }</style>
          <ul><li>one</li><li>two</li></ul>]]></description></item>
        <item><guid>h2</guid><title>Escaped</title>
          <description>&lt;p&gt;Tom &amp;amp; Jerry&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;</description></item>
        <item><guid>h3</guid><title>Bad link</title><link>javascript:alert(1)</link></item>
    """))
    first, second, third = fetch_rss(url).items
    assert first.text == "Café & crema\nHello world & friends <3 one two"
    assert second.text == "Escaped\nTom & Jerry"
    assert "alert" not in first.text and "evil" not in second.text and "<p>" not in second.text
    assert third.url is None  # only http(s) links are kept


def test_etag_then_304_keeps_the_cursor(server):
    feed = RSS_20.encode()
    last_modified = "Tue, 03 Jun 2025 10:00:00 GMT"

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                     "Last-Modified": last_modified}, feed

    server.routes["/etag.xml"] = conditional
    url = server.url("/etag.xml")
    first = fetch_rss(url)
    assert len(first.items) == 2
    assert first.cursor["etag"] == '"v1"' and first.cursor["last_modified"] == last_modified
    second = fetch_rss(url, dict(first.cursor))
    assert second.items == [] and second.cursor == first.cursor
    _, headers = server.requests[-1]
    assert headers["if-none-match"] == '"v1"' and headers["if-modified-since"] == last_modified
    # Validators of another URL are never sent.
    fetch_rss(server.serve("/other.xml", RSS_20), dict(first.cursor))
    assert "if-none-match" not in server.requests[-1][1]


def test_a_feed_without_validators_clears_old_ones(server):
    url = server.serve("/plain.xml", RSS_20)
    result = fetch_rss(url, {"url": url, "etag": '"old"', "last_modified": "x"})
    assert len(result.items) == 2 and result.cursor == {"url": url}


@pytest.mark.parametrize("status", [500, 404, 403, 410, 503])
def test_http_error_statuses_are_source_errors(server, status):
    url = server.serve(f"/status-{status}", b"<html>oops</html>", status=status,
                       content_type="text/html")
    with pytest.raises(SourceError) as info:
        fetch_rss(url)
    assert info.value.code == f"http_{status}" and str(status) in str(info.value)


def test_a_missing_path_is_a_404_source_error(server):
    with pytest.raises(SourceError) as info:
        fetch_rss(server.url("/nothing-here.xml"))
    assert info.value.code == "http_404"


@pytest.mark.parametrize("body", [
    b"",
    b"this is not xml at all <<<>>> &&&",
    b"<html><head><title>Hi</title></head><body><p>A web page</p></body></html>",
    b'{"not": "a feed"}',
    b"\xff\xfe\x00\x00garbage\x00\x01\x02",
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title></chan",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]><x>&b;</x>",
])
def test_invalid_payloads_are_parse_errors(server, body):
    url = server.serve("/invalid.xml", body)
    with pytest.raises(SourceError) as info:
        fetch_rss(url)
    assert info.value.code == "parse"


def test_truncated_feed_yields_what_is_readable_or_a_source_error(server):
    url = server.serve("/truncated.xml", RSS_20[: len(RSS_20) // 2 + 300])
    try:
        result = fetch_rss(url)
    except SourceError as exc:
        assert exc.code == "parse"
    else:
        assert all(isinstance(item, FetchedItem) for item in result.items)


def test_a_body_naming_a_local_file_is_never_opened(server, tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text(rss("<item><guid>leak</guid><title>local file</title></item>"))
    url = server.serve("/path.xml", str(secret), content_type="text/plain")
    with pytest.raises(SourceError):
        fetch_rss(url)


def test_an_empty_feed_has_no_items(server):
    result = fetch_rss(server.serve("/empty.xml", rss("")))
    assert result.items == [] and "url" in result.cursor


def test_a_feed_with_300_entries(server):
    items = "".join(
        f"<item><guid>big-{i}</guid><title>Entry {i}</title><description>{'word ' * 50}</description>"
        f"<pubDate>Mon, 02 Jun 2025 {i % 24:02d}:00:00 GMT</pubDate></item>" for i in range(300))
    result = fetch_rss(server.serve("/big.xml", rss(items)))
    assert len(result.items) == 300
    assert len({item.external_id for item in result.items}) == 300
    assert result.items[299].text.startswith("Entry 299\nword word")


def test_long_texts_are_truncated(server):
    body = "lorem " * 5000
    result = fetch_rss(server.serve("/long.xml", rss(
        f"<item><guid>long</guid><title>Long</title><description>{body}</description></item>")))
    assert len(result.items[0].text) <= 10_000 and result.items[0].text.endswith("…")


def test_egress_refusals_become_source_errors(server):
    url = server.serve("/rss.xml", RSS_20)
    with pytest.raises(SourceError) as info:
        fetch_rss(url, policy=EgressPolicy())  # loopback is blocked by default
    assert info.value.code == "blocked"
    with pytest.raises(SourceError) as info:
        fetch_rss("http://127.0.0.1:1/feed.xml")  # nothing listens on port 1
    assert info.value.code == "connect"


def test_a_slow_server_is_a_timeout(server):
    def slow(handler):
        time.sleep(1.5)
        return 200, {"Content-Type": "application/rss+xml"}, RSS_20.encode()

    server.routes["/slow.xml"] = slow
    with pytest.raises(SourceError) as info:
        fetch_rss(server.url("/slow.xml"), policy=EgressPolicy.from_setting("127.0.0.1", deadline=0.5))
    assert info.value.code == "timeout"


def test_the_fetch_function_is_injectable():
    calls = []

    def fake_fetch(url, *, policy, headers=None, **kwargs):
        calls.append((url, headers))
        raise EgressError("dns", "cannot resolve feeds.example.com")

    with pytest.raises(SourceError) as info:
        fetch_rss("https://feeds.example.com/x.xml", fetch=fake_fetch)
    assert info.value.code == "dns" and calls[0][0] == "https://feeds.example.com/x.xml"


def test_future_dates_are_clamped_to_now():
    entry = {"published_parsed": time.strptime("2099-01-01", "%Y-%m-%d")}
    assert entry_datetime(entry, NOW) == NOW
    assert entry_datetime({}, NOW) is None
    assert entry_datetime({"updated_parsed": (2025, 1, 2, 3, 4, 5, 0, 0, 0)}) == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


# -- html_to_text -------------------------------------------------------------------------

@pytest.mark.parametrize("html, text", [
    ("", ""),
    (None, ""),
    ("plain text", "plain text"),
    ("<p>Hello <b>world</b></p>", "Hello world"),
    ("<p>one</p><p>two</p>three<br>four<br/>five", "one two three four five"),
    ("Fish &amp; chips &lt;3 &#8217; &#x2603; caf&eacute;", "Fish & chips <3 \u2019 \u2603 café"),
    ("<script>alert('x')</script>visible<style>.a{}</style>", "visible"),
    ("<SCRIPT type='text/javascript'>var a = '<p>';</SCRIPT>after", "after"),
    ("  lots \n\n of \t  space\u00a0here  ", "lots of space here"),
    ("<div><ul><li>a</li><li>b</li></ul></div>", "a b"),
    ("a < b and c > d", "a < b and c > d"),
    ("<b>unclosed <i>tags", "unclosed tags"),
    ("<p>trailing <script>never closed", "trailing"),
    ("nul\x00char", "nulchar"),
    ("<!-- a comment -->text<![CDATA[x]]>", "text"),
])
def test_html_to_text(html, text):
    assert html_to_text(html) == text


# -- demo ---------------------------------------------------------------------------------

def demo_fetch(settings=None, cursor=None, now=NOW) -> FetchResult:
    return get_adapter("demo").fetch(settings or {"per_fetch": 8}, cursor or {}, ctx(now=now))


def test_demo_settings():
    clean = get_adapter("demo").clean_settings
    assert clean({}) == {} and clean({"noise": True}) == {}
    assert get_adapter("demo").fields == ()
    assert clean({"per_fetch": " 12 "}) == {"per_fetch": 12}       # older monitors: checked, no effect
    for bad in (0, 201, -1, True, 2.5, "abc", "1e3", [3]):
        with pytest.raises(SourceSettingsError) as info:
            clean({"per_fetch": bad})
        assert info.value.field == "per_fetch"


def test_demo_first_fetch_backfills_a_week():
    result = demo_fetch()
    items = result.items
    assert len(items) == demo_module.BACKFILL
    assert [item.external_id for item in items[:3]] == ["g0", "g1", "g2"]
    assert items[-1].external_id == f"g{demo_module.BACKFILL - 1}"
    times = [item.published_at for item in items]
    assert times[0] == NOW - timedelta(days=7) and times[-1] < NOW
    assert times == sorted(times)  # oldest first
    per_hour = Counter(t.hour for t in times)  # busier in the afternoon than at night
    assert per_hour[demo_module.PEAK_HOUR_UTC] > 3 * per_hour[(demo_module.PEAK_HOUR_UTC + 12) % 24]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    assert result.cursor == {"position": demo_module.BACKFILL, "started": NOW.isoformat(),
                             "until": NOW.isoformat(), "carry": 0.0}
    assert all(item.text for item in items)
    assert len({item.text for item in items}) > 0.75 * len(items)      # a generator, not a loop
    assert json.loads(json.dumps(result.cursor)) == result.cursor


def test_demo_later_fetches_add_what_is_due_at_the_historys_pace():
    first = demo_fetch()
    later = NOW + timedelta(hours=1)
    second = demo_fetch({}, first.cursor, later)
    expected = demo_module.due(NOW, later)
    assert len(second.items) == int(expected) and 2 <= len(second.items) <= 20
    assert [i.external_id for i in second.items][0] == f"g{demo_module.BACKFILL}"
    assert all(NOW <= i.published_at < later for i in second.items)
    assert second.cursor["until"] == later.isoformat()
    assert second.cursor["carry"] == pytest.approx(expected - int(expected), abs=1e-6)
    # a minute later: usually nothing, the fraction carried on
    third = demo_fetch({}, second.cursor, later + timedelta(minutes=1))
    assert len(third.items) <= 1 and third.cursor["position"] == second.cursor["position"] + len(third.items)
    # the same time again adds nothing
    assert demo_fetch({}, second.cursor, later).items == []


def test_demo_catches_up_at_most_a_week_after_a_pause():
    first = demo_fetch()
    result = demo_fetch({}, first.cursor, NOW + timedelta(days=30))
    assert abs(len(result.items) - demo_module.BACKFILL) <= 2


def test_demo_is_deterministic():
    assert demo_fetch() == demo_fetch()
    cursor = {"position": 300, "started": NOW.isoformat(), "until": (NOW - timedelta(hours=2)).isoformat(), "carry": 0.5}
    assert demo_fetch(cursor=cursor) == demo_fetch(cursor=dict(cursor))


def test_demo_old_and_bad_cursors():
    for cursor in ({"position": -1}, {"position": "12"}, {"position": True}, {"other": 1}):
        assert len(demo_fetch(cursor=cursor).items) == demo_module.BACKFILL
    # an older cursor (no "until") continues from now, without a burst
    old = demo_fetch({"per_fetch": 8}, {"position": 240, "started": NOW.isoformat()})
    assert old.items == [] and old.cursor["until"] == NOW.isoformat() and old.cursor["position"] == 240
    odd = demo_fetch({}, {"position": 5, "until": "soon", "carry": "x"})
    assert odd.items == [] and odd.cursor["carry"] == 0.0


# -- the sample file ----------------------------------------------------------------------

def test_demo_sample_file_shape():
    lines = (ROOT / "webapp" / "data" / "demo_mentions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 500
    samples = [json.loads(line) for line in lines]
    ids = [s["id"] for s in samples]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"d\d{4}", i) for i in ids)
    for sample in samples:
        assert set(sample) == {"id", "text", "author", "url"}
        assert isinstance(sample["text"], str) and sample["text"].strip()
        assert sample["author"] is None or isinstance(sample["author"], str)
        assert sample["url"] is None or re.match(r"https://([a-z]+\.)?example\.(com|org)/", sample["url"])
    assert sum("Acme" in s["text"] or "Rocket" in s["text"] for s in samples) > len(samples) / 2
    assert demo_module.load_samples() == tuple(samples)


def test_demo_sample_file_is_what_the_script_generates(tmp_path):
    spec = importlib.util.spec_from_file_location("make_demo_data", ROOT / "scripts" / "make_demo_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "demo.jsonl"
    script.write(script.generate(), out)
    assert out.read_bytes() == (ROOT / "webapp" / "data" / "demo_mentions.jsonl").read_bytes()
