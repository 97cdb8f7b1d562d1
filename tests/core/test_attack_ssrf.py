"""SSRF attack suite: a canary on loopback must get ZERO hits, whatever the attacker types.

The app runs here with an egress policy that does NOT allow loopback: only 127.0.0.2/32 (a
"decoy" server standing in for a legitimate public site) is allowed, and names are answered by
a stub resolver injected into the policy (no real DNS). The canary listens on 127.0.0.1 (and
::1) at the same port as the decoy, serves a valid feed and answers 200 to anything, so any
request that slipped through would both succeed and be counted.

Each spelling is tried for feed URLs (saving through the API and the monitor form, the rss
adapter's fetch, a stored source's scheduled fetch) and webhook URLs (saving through the API
and the page form, a test delivery of a stored notifier); then redirects to the canary, DNS
answers that change between check and connect, and the byte and time limits.

A socket guard refuses every connection that is not to this machine and every DNS lookup of a
name, so nothing here can reach the internet even if the code under test were wrong.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from webapp.core import runtime
from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.alerting.models import Delivery, Notifier
from webapp.monitors.models import Monitor
from webapp.people.models import User
from webapp.monitors.services import fetching
from webapp.core.egress import EgressError, EgressPolicy, check_url, fetch
from webapp.monitors.services.manage import create_monitor
from webapp.alerting.notifiers import webhook
from webapp.monitors.sources.base import FetchContext, SourceError
from webapp.monitors.sources.rss import RssAdapter

from tests.helpers import app_config, make_user, migrated_app

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b'<item><guid>1</guid><title>canary item</title></item></channel></rss>')
PUBLIC = "93.184.216.34"   # a global address: passes the check, the socket guard refuses it
BLOCK_CODES = {"blocked", "invalid_url", "scheme"}


# -- servers -------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status=200, body=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/__sync__":   # the test's own probe (see Canary.hits)
            return self._send(204)
        self.server.requests.append(self.path)
        try:
            self.server.route(self, url.path, query)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host, port=0):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.connections, self.requests = 0, []
        super().__init__((host, port), _Handler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def verify_request(self, request, client_address):
        self.connections += 1   # counted at accept: a connection that sends nothing counts too
        return True

    def stop(self):
        self.shutdown()
        self.server_close()


class CanaryServer(_Server):
    def route(self, handler, path, query):
        handler._send(200, FEED, [("Content-Type", "application/rss+xml")])


class DecoyServer(_Server):
    """The allowed server: a feed, a webhook endpoint, redirects, a gzip bomb, a slow body."""

    bomb = b""

    def route(self, handler, path, query):
        if path == "/redirect":
            location = query["to"].encode().decode("latin-1")   # non-ASCII goes out as UTF-8
            handler._send(int(query.get("code", 302)), headers=[("Location", location)])
        elif path.startswith("/chain/"):   # /chain/N redirects N times, then serves the feed
            n = int(path.rsplit("/", 1)[1])
            handler._send(302, headers=[("Location", f"{n - 1}" if n > 1 else "../feed")])
        elif path == "/chain-to":   # ?n=N&to=URL: N relative hops, then a redirect to `to`
            n = int(query["n"])
            where = f"/chain-to?n={n - 1}&to={quote(query['to'], safe='')}" if n > 1 else query["to"]
            handler._send(302, headers=[("Location", where)])
        elif path == "/bomb":
            handler._send(200, self.bomb, [("Content-Type", "application/rss+xml"),
                                           ("Content-Encoding", "gzip")])
        elif path == "/dribble":
            handler.send_response(200)
            handler.send_header("Content-Length", "200")
            handler.end_headers()
            for _ in range(200):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.05)
        else:
            handler._send(200, FEED, [("Content-Type", "application/rss+xml")])


class Canary:
    """The canary on 127.0.0.1 (and ::1 when this machine has IPv6)."""

    def __init__(self):
        self.v4 = CanaryServer("127.0.0.1")
        self.port = self.v4.server_address[1]
        try:
            self.v6 = CanaryServer("::1")
            self.port6 = self.v6.server_address[1]
        except OSError:
            self.v6, self.port6 = None, self.port
        self.servers = [s for s in (self.v4, self.v6) if s is not None]

        self.probes = self.baseline = self.expected = 0

    def _attacker_connections(self) -> int:
        """Connections accepted so far that were not our probes. A probe goes last through
        each listener: once it is answered, every earlier connection has been accepted."""
        for server in self.servers:
            host, port = server.server_address[:2]
            conn = http.client.HTTPConnection(host, port, timeout=5)
            try:
                conn.request("GET", "/__sync__")
                conn.getresponse().read()
            finally:
                conn.close()
            self.probes += 1
        return sum(s.connections for s in self.servers) - self.probes

    def reset(self) -> None:
        self.baseline = self._attacker_connections()

    def hits(self) -> int:
        """Connections the canary accepted since this test began, other than our probes."""
        return self._attacker_connections() - self.baseline

    def stop(self):
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="module")
def canary_servers():
    found = Canary()
    yield found
    found.stop()


@pytest.fixture
def canary(canary_servers):
    """The canary, its count started afresh; after the test it must not have been reached
    (unless the test says how often it reached it on purpose, in `expected`)."""
    canary_servers.reset()
    canary_servers.expected = 0
    yield canary_servers
    assert canary_servers.hits() == canary_servers.expected, "the canary was reached"


@pytest.fixture(scope="module")
def decoy(canary_servers):
    """The allowed server on 127.0.0.2, same port as the canary (so a DNS answer alone decides)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    DecoyServer.bomb = b"".join([comp.compress(block) for _ in range(20)] + [comp.flush()])
    server = DecoyServer("127.0.0.2", canary_servers.port)
    yield server
    server.stop()


# -- DNS stub, policy, socket guard --------------------------------------------------------

class StubDNS:
    """The policy's resolver: answers from a table, each lookup of a name taking the next answer
    (the last one repeats). Unknown names fail like NXDOMAIN. Nothing goes to real DNS."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    def set(self, host: str, *answers: list[str]) -> None:
        self.answers[host] = [list(a) for a in answers]

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        queue = self.answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return queue.pop(0) if len(queue) > 1 else queue[0]


class SocketGuard:
    """Refuses (and records) connections to anything but this machine, and name lookups."""

    def __init__(self):
        self.refused: list[tuple] = []
        self.lookups: list[str] = []


def _local(host: str) -> bool:
    ip = ipaddress.ip_address(host.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or bool(mapped and mapped.is_loopback)


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    found = SocketGuard()
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            found.refused.append(tuple(address[:2]))
            raise ConnectionRefusedError(f"socket guard: no connections to {address[0]} in tests")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            found.lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"socket guard: no DNS for {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield found
    assert found.lookups == [], "a real DNS lookup was attempted"


@pytest.fixture
def dns():
    return StubDNS()


def strict_policy(dns, **overrides) -> EgressPolicy:
    """The production rules with only the decoy allowed: loopback is NOT open here."""
    return EgressPolicy.from_setting("127.0.0.2/32", resolver=dns, **overrides)


@pytest.fixture
def policy(dns, attack_app):
    found = strict_policy(dns)
    attack_app.extensions["sentimon.egress"] = found   # what runtime.egress_policy() hands out
    return found


@pytest.fixture(scope="module")
def attack_app(tmp_path_factory):
    """One app for the module (a fresh SQLite instance); its policy is replaced per test."""
    folder = tmp_path_factory.mktemp("attack")
    with migrated_app(app_config(folder)) as app:
        make_user(app, email="attacker@example.com", role="editor", password="attacker password")
        yield app


@pytest.fixture(scope="module")
def bearer(attack_app):
    with attack_app.app_context():
        user = db.session.execute(select(User).where(User.email == "attacker@example.com")).scalar_one()
        return {"Authorization": f"Bearer {create_token(user)}"}


@pytest.fixture
def api(attack_app, policy):
    return attack_app.test_client()


@pytest.fixture(scope="module")
def pages(attack_app):
    client = attack_app.test_client()
    response = client.post("/login", data={"email": "attacker@example.com",
                                           "password": "attacker password"})
    assert response.status_code == 302
    return client


# -- the spellings -------------------------------------------------------------------------

# Reach the canary if the guard let them through ({p}: its IPv4 port, {p6}: its IPv6 port).
LOOPBACK = [
    "http://127.0.0.1:{p}/feed", "http://127.1:{p}/feed", "http://127.0.1:{p}/feed",
    "http://2130706433:{p}/feed", "http://0177.0.0.1:{p}/feed", "http://0177.1:{p}/feed",
    "http://0x7f.1:{p}/feed", "http://0x7f000001:{p}/feed", "http://0x7f.0x0.0x0.0x1:{p}/feed",
    "http://017700000001:{p}/feed", "http://127.000.000.001:{p}/feed", "http://127.0.0.1.:{p}/feed",
    "http://0x7f.1.:{p}/feed", "http://2130706433.:{p}/feed", "http://127.255.255.254:{p}/feed",
    "http://0.0.0.0:{p}/feed", "http://0:{p}/feed", "http://localhost:{p}/feed",
    "http://LOCALHOST.:{p}/feed", "http://feeds.localhost:{p}/feed",
    "http://127\u30020\u30020\u30021:{p}/feed", "http://\uff11\uff12\uff17.0.0.1:{p}/feed",
    "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3:{p}/feed",
    "https://127.0.0.1:{p}/feed", "HTTP://127.0.0.1:{p}/feed",
    "http://[::ffff:127.0.0.1]:{p}/feed", "http://[::ffff:7f00:1]:{p}/feed",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/feed", "http://[::127.0.0.1]:{p}/feed",
    "http://[64:ff9b::127.0.0.1]:{p}/feed", "http://[2002:7f00:1::1]:{p}/feed",
    "http://[::1]:{p6}/feed", "http://[::1%25lo]:{p6}/feed", "http://[0:0:0:0:0:0:0:1]:{p6}/feed",
    "http://[::]:{p6}/feed",
    # userinfo tricks: the host a naive parser sees is not the one connected to
    "http://evil@127.0.0.1:{p}/feed", "http://example.com@127.0.0.1:{p}/feed",
    "http://user:pass@127.0.0.1:{p}/feed", "http://example.com:80@127.0.0.1:{p}/feed",
    "http://127.0.0.1:{p}\\@example.com/feed", "http://example.com%40127.0.0.1:{p}/feed",
    "http://127.0.0.1:{p}#@example.com/feed", "http://127.0.0.1:{p}?@example.com/feed",
    # other schemes
    "gopher://127.0.0.1:{p}/_GET%20/feed", "ftp://127.0.0.1:{p}/feed", "dict://127.0.0.1:{p}/",
    "file:///etc/passwd", "//127.0.0.1:{p}/feed", "http:/127.0.0.1:{p}/feed",
]
# Non-public ranges the canary cannot stand in for: the socket guard proves no connection.
ELSEWHERE = [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/", "http://[64:ff9b::a9fe:a9fe]/latest/",
    "http://[2002:a9fe:a9fe::1]/latest/", "http://0xa9fea9fe/latest/", "http://2852039166/latest/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://10.0.0.1/", "http://012.1/",
    "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/", "http://[fc00::1]/",
    "http://[fe80::1%25eth0]/", "http://169.254.0.1/", "http://224.0.0.1/", "http://[ff02::1]/",
    "http://239.255.255.250:1900/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "http://[2001:db8::1]/",
    "http://198.18.0.1/", "http://192.0.0.170/", "http://[100::1]/", "http://[64:ff9b:1::1]/",
]
SPELLINGS = LOOPBACK + ELSEWHERE
# Names: accepted when saved (no DNS then), refused when used, after the stub's answer.
NAMES = {
    "http://canary.test:{p}/feed": ["127.0.0.1"],
    "http://mapped.test:{p}/feed": ["::ffff:127.0.0.1"],
    "http://v6.test:{p6}/feed": ["::1"],
    "http://mixed.test:{p}/feed": [PUBLIC, "127.0.0.1"],   # one bad address is enough
    "http://metadata.google.internal/computeMetadata/v1/": ["169.254.169.254"],
    "http://cgnat.test/": ["100.64.0.1"],
    "http://nat64.test:{p}/feed": ["64:ff9b::7f00:1"],
}


def url_of(template: str, canary: Canary) -> str:
    return template.format(p=canary.port, p6=canary.port6)


def named(dns: StubDNS, template: str, canary: Canary) -> str:
    url = url_of(template, canary)
    dns.set(urlsplit(url).hostname, NAMES[template])
    return url


# -- saving: refused at once ---------------------------------------------------------------

@pytest.mark.parametrize("template", SPELLINGS)
def test_check_url_refuses_the_spelling_without_dns(template, canary, dns):
    for resolve in (False, True):
        with pytest.raises(EgressError) as info:
            check_url(url_of(template, canary), strict_policy(dns), resolve=resolve)
        assert info.value.code in BLOCK_CODES
    assert dns.calls == []


@pytest.mark.parametrize("template", SPELLINGS)
def test_api_refuses_a_monitor_with_the_feed_url(template, api, bearer, canary, attack_app):
    with attack_app.app_context():
        before = db.session.scalar(select(db.func.count(Monitor.id)))
    response = api.post("/api/v1/monitors", headers=bearer, json={
        "name": "attack", "sources": [{"kind": "rss", "url": url_of(template, canary)}]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == "validation_failed"
    with attack_app.app_context():
        assert db.session.scalar(select(db.func.count(Monitor.id))) == before
    assert canary.hits() == 0


@pytest.mark.parametrize("template", SPELLINGS)
def test_api_refuses_a_webhook_with_the_url(template, api, bearer, canary, attack_app):
    with attack_app.app_context():
        before = db.session.scalar(select(db.func.count(Notifier.id)))
    response = api.post("/api/v1/notifiers", headers=bearer,
                        json={"kind": "webhook", "url": url_of(template, canary)})
    assert response.status_code == 422, response.get_json()
    with attack_app.app_context():
        assert db.session.scalar(select(db.func.count(Notifier.id))) == before
    assert canary.hits() == 0


@pytest.mark.parametrize("template", LOOPBACK[:8] + ELSEWHERE[:3])
def test_page_forms_refuse_the_url_next_to_the_field(template, pages, policy, canary):
    url = url_of(template, canary)
    response = pages.post("/monitors/new", data={"name": "attack", "rss_urls": url, "every": 900})
    assert response.status_code == 400
    assert "cannot be used" in response.get_data(as_text=True)
    response = pages.post("/alerts/notifiers/webhook", data={"webhook-url": url})
    assert response.status_code == 400
    assert canary.hits() == 0


# -- using: refused again ------------------------------------------------------------------

@pytest.mark.parametrize("template", SPELLINGS)
def test_egress_fetch_refuses_the_spelling(template, canary, dns, guard):
    with pytest.raises(EgressError) as info:
        fetch(url_of(template, canary), policy=strict_policy(dns))
    assert info.value.code in BLOCK_CODES
    assert canary.hits() == 0 and guard.refused == [] and dns.calls == []


@pytest.mark.parametrize("template", sorted(NAMES))
def test_egress_fetch_refuses_names_that_resolve_to_blocked_addresses(template, canary, dns, guard):
    url = named(dns, template, canary)
    with pytest.raises(EgressError) as info:
        fetch(url, policy=strict_policy(dns))
    assert info.value.code == "blocked"
    assert dns.calls == [urlsplit(url).hostname]
    assert canary.hits() == 0 and guard.refused == []


@pytest.mark.parametrize("template", SPELLINGS + sorted(NAMES))
def test_rss_adapter_fetch_refuses(template, canary, dns, guard):
    url = named(dns, template, canary) if template in NAMES else url_of(template, canary)
    ctx = FetchContext(policy=strict_policy(dns))
    with pytest.raises(SourceError) as info:
        RssAdapter().fetch({"url": url}, {}, ctx)
    assert info.value.code in BLOCK_CODES
    assert canary.hits() == 0 and guard.refused == []


def _stored_feed(app, url: str) -> int:
    """An rss source whose URL was stored earlier (before the rules tightened, or by SQL)."""
    with app.app_context():
        monitor = create_monitor(db.session, "stored", "", [{"kind": "rss", "url": "https://example.com/f"}])
        source = next(s for s in monitor.sources if s.kind == "rss")
        source.settings = {"url": url}
        db.session.commit()
        return source.id


def _scheduled_fetch(app, source_id: int, slot: int = 1):
    with app.app_context():
        report = fetching.run_fetch(db.session, runtime.bus(app), source_id, slot, runtime.egress_policy(app))
        db.session.remove()
        return report


@pytest.mark.parametrize("template", SPELLINGS + sorted(NAMES))
def test_scheduled_fetch_of_a_stored_feed_url_is_refused(template, attack_app, policy, canary, dns, guard):
    url = named(dns, template, canary) if template in NAMES else url_of(template, canary)
    report = _scheduled_fetch(attack_app, _stored_feed(attack_app, url))
    assert report.status == "error" and report.error_code in BLOCK_CODES, report
    assert canary.hits() == 0 and guard.refused == []


def _stored_webhook(app, url: str) -> int:
    with app.app_context():
        notifier = Notifier(kind="webhook", name="stored", settings={"url": url},
                            secret=webhook.new_secret())
        db.session.add(notifier)
        db.session.commit()
        return notifier.id


def _test_send(api, bearer, notifier_id: int) -> dict:
    response = api.post(f"/api/v1/notifiers/{notifier_id}/test", headers=bearer)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("template", SPELLINGS + sorted(NAMES))
def test_webhook_delivery_to_a_stored_url_is_refused(template, api, bearer, attack_app, canary, dns, guard):
    url = named(dns, template, canary) if template in NAMES else url_of(template, canary)
    answer = _test_send(api, bearer, _stored_webhook(attack_app, url))
    assert answer["outcome"] != "sent"
    with attack_app.app_context():
        row = db.session.get(Delivery, answer["delivery"]["id"])
        assert row.last_http_status is None and row.status != "sent"
    assert canary.hits() == 0 and guard.refused == []


def test_names_pass_when_saved_and_are_checked_when_used(api, bearer, attack_app, canary, dns, guard):
    """No DNS when saving (so a lookup then could not be trusted anyway): names are accepted
    and refused at use, after resolution, for feeds and webhooks alike."""
    url = named(dns, "http://canary.test:{p}/feed", canary)
    created = api.post("/api/v1/monitors", headers=bearer,
                       json={"name": "named", "sources": [{"kind": "rss", "url": url}]})
    assert created.status_code == 201 and dns.calls == []
    source_id = created.get_json()["sources"][0]["id"]
    report = _scheduled_fetch(attack_app, source_id)
    assert (report.status, report.error_code) == ("error", "blocked")
    hook = api.post("/api/v1/notifiers", headers=bearer, json={"kind": "webhook", "url": url})
    assert hook.status_code == 201
    assert _test_send(api, bearer, hook.get_json()["id"])["outcome"] != "sent"
    assert dns.calls == ["canary.test", "canary.test"]
    assert canary.hits() == 0 and guard.refused == []


# -- redirects -----------------------------------------------------------------------------

def via_decoy(decoy, to: str, code: int = 302) -> str:
    return f"http://127.0.0.2:{decoy.server_address[1]}/redirect?code={code}&to={quote(to, safe='')}"


# As a Location, "http:/127.0.0.1:p/feed" is a path on the redirecting server (RFC 3986).
REDIRECT_TARGETS = [t for t in LOOPBACK if not t.startswith("http:/1")] + ELSEWHERE[:6] + sorted(NAMES)


@pytest.mark.parametrize("template", REDIRECT_TARGETS)
def test_feed_redirect_to_the_canary_is_refused(template, decoy, canary, dns, guard):
    target = named(dns, template, canary) if template in NAMES else url_of(template, canary)
    decoy.requests.clear()
    with pytest.raises(SourceError) as info:
        RssAdapter().fetch({"url": via_decoy(decoy, target)}, {}, FetchContext(policy=strict_policy(dns)))
    assert info.value.code in BLOCK_CODES | {"invalid_url"}
    assert len(decoy.requests) == 1   # the allowed hop was made; the next one never was
    assert canary.hits() == 0 and guard.refused == []


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_rechecked(code, decoy, canary, dns):
    with pytest.raises(EgressError) as info:
        fetch(via_decoy(decoy, f"http://127.0.0.1:{canary.port}/feed", code), policy=strict_policy(dns))
    assert info.value.code == "blocked"
    assert canary.hits() == 0


def test_redirect_to_the_canary_after_four_allowed_hops_is_refused(decoy, canary, dns):
    port = decoy.server_address[1]
    url = f"http://127.0.0.2:{port}/chain-to?n=4&to={quote(f'http://127.0.0.1:{canary.port}/feed', safe='')}"
    with pytest.raises(EgressError) as info:
        fetch(url, policy=strict_policy(dns))
    assert info.value.code == "blocked"
    assert canary.hits() == 0


def test_at_most_five_redirects_are_followed(decoy, dns):
    base = f"http://127.0.0.2:{decoy.server_address[1]}"
    assert fetch(base + "/chain/5", policy=strict_policy(dns)).content == FEED
    decoy.requests.clear()
    with pytest.raises(EgressError) as info:
        fetch(base + "/chain/6", policy=strict_policy(dns))
    assert info.value.code == "too_many_redirects"
    assert len(decoy.requests) == 6   # the first request and five hops


def test_webhooks_never_follow_redirects(api, bearer, attack_app, decoy, canary, dns):
    notifier_id = _stored_webhook(attack_app, via_decoy(decoy, f"http://127.0.0.1:{canary.port}/hook", 307))
    decoy.requests.clear()
    answer = _test_send(api, bearer, notifier_id)
    assert answer["outcome"] != "sent" and answer["delivery"]["last_http_status"] == 307
    assert len(decoy.requests) == 1
    assert canary.hits() == 0


# -- DNS rebinding: the answer changes between check and connect ---------------------------

def test_rebinding_cannot_move_the_connection_to_the_canary(decoy, canary, dns, guard):
    """First answer the allowed decoy, then the canary: the one checked answer is used."""
    dns.set("rebind.test", ["127.0.0.2"], ["127.0.0.1"])
    decoy.requests.clear()
    resp = fetch(f"http://rebind.test:{canary.port}/feed", policy=strict_policy(dns))
    assert resp.status == 200 and decoy.requests == ["/feed"]
    assert dns.calls == ["rebind.test"]
    assert canary.hits() == 0


def test_rebinding_with_a_public_first_answer_connects_only_to_that_address(canary, dns, guard):
    """First a public address (the check passes), then the canary: the socket goes to the
    checked public address (which the guard refuses: no test talks to the internet)."""
    dns.set("rebind-public.test", [PUBLIC], ["127.0.0.1"])
    with pytest.raises(EgressError) as info:
        fetch(f"http://rebind-public.test:{canary.port}/feed", policy=strict_policy(dns))
    assert info.value.code == "connect"
    assert guard.refused == [(PUBLIC, canary.port)]
    assert dns.calls == ["rebind-public.test"]
    assert canary.hits() == 0


def test_rebinding_between_two_scheduled_fetches_of_a_feed(attack_app, api, bearer, decoy, canary, dns):
    dns.set("feed-rebind.test", ["127.0.0.2"], ["127.0.0.1"])
    created = api.post("/api/v1/monitors", headers=bearer, json={
        "name": "rebind", "sources": [{"kind": "rss", "url": f"http://feed-rebind.test:{canary.port}/feed"}]})
    assert created.status_code == 201
    source_id = created.get_json()["sources"][0]["id"]
    first = _scheduled_fetch(attack_app, source_id, slot=1)
    assert (first.status, first.fetched) == ("ok", 1)
    second = _scheduled_fetch(attack_app, source_id, slot=2)
    assert (second.status, second.error_code) == ("error", "blocked")
    assert canary.hits() == 0


def test_rebinding_between_two_webhook_deliveries(api, bearer, decoy, canary, dns):
    dns.set("hook-rebind.test", ["127.0.0.2"], ["127.0.0.1"])
    created = api.post("/api/v1/notifiers", headers=bearer,
                       json={"kind": "webhook", "url": f"http://hook-rebind.test:{canary.port}/hook"})
    assert created.status_code == 201
    decoy.requests.clear()
    assert _test_send(api, bearer, created.get_json()["id"])["outcome"] == "sent"
    assert decoy.requests == ["/hook"]
    second = _test_send(api, bearer, created.get_json()["id"])
    assert second["outcome"] != "sent" and "non-public address" in (second["delivery"]["last_error"] or "")
    assert canary.hits() == 0


# -- limits: decoded bytes and total time --------------------------------------------------

def test_a_gzip_bomb_feed_stops_at_the_byte_cap(decoy, dns):
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        RssAdapter().fetch({"url": f"http://127.0.0.2:{decoy.server_address[1]}/bomb"}, {},
                           FetchContext(policy=strict_policy(dns, max_bytes=1024 * 1024)))
    assert info.value.code == "too_large"
    assert len(DecoyServer.bomb) < 100_000   # ~20 KB on the wire, 20 MB decoded
    assert time.monotonic() - started < 10   # a bound on a hang, not a speed


def test_a_slow_feed_hits_the_total_deadline(decoy, dns):
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        RssAdapter().fetch({"url": f"http://127.0.0.2:{decoy.server_address[1]}/dribble"}, {},
                           FetchContext(policy=strict_policy(dns, deadline=0.5)))
    assert info.value.code == "timeout"
    assert time.monotonic() - started < 5   # the decoy dribbles for 10 s


# -- EGRESS_ALLOW opens exactly what it names ----------------------------------------------

def test_egress_allow_opens_named_hosts_and_ranges_only(canary, dns):
    url = f"http://127.0.0.1:{canary.port}/feed"
    dns.set("intranet.test", ["127.0.0.1"])
    try:
        assert fetch(url, policy=EgressPolicy.from_setting("127.0.0.0/8", resolver=dns)).status == 200
        named_url = f"http://intranet.test:{canary.port}/feed"
        assert fetch(named_url, policy=EgressPolicy.from_setting("intranet.test", resolver=dns)).status == 200
        for setting in ("127.0.0.2/32", "10.0.0.0/8", "other.test", ""):
            with pytest.raises(EgressError):
                fetch(named_url, policy=EgressPolicy.from_setting(setting, resolver=dns))
    finally:
        canary.expected = 2   # exactly the two allowed requests
        assert canary.hits() == 2
