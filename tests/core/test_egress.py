"""The SSRF-safe egress client against real HTTP(S) servers on 127.0.0.1 (no internet needed)."""
from __future__ import annotations

import gzip
import http.server
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from webapp.core import egress
from webapp.core.egress import EgressError, EgressPolicy, check_url, fetch, is_blocked_address

from tests.fake_http import QuietServer

LOCAL = EgressPolicy.from_setting("127.0.0.1")
DEFAULT = EgressPolicy()
BOMB_SIZE = 50 * 1024 * 1024
real_getaddrinfo = socket.getaddrinfo


def _make_bomb() -> bytes:
    """50 MB of zeros gzip-compressed (~50 KB), built without holding 50 MB in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    return b"".join([comp.compress(block) for _ in range(BOMB_SIZE // len(block))]
                    + [comp.flush()])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb = b""

    def log_message(self, *args):
        pass

    def send(self, status=200, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        self.do_GET()

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.server.requests.append((self.command, self.path, self.headers))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        route = url.path
        try:
            if route == "/plain":
                self.send(body=b"hello")
            elif route == "/latin1":
                self.send(body="café".encode("latin-1"), ctype="text/plain; charset=iso-8859-1")
            elif route == "/json":
                self.send(body=b'{"ok": true, "n": 3}', ctype="application/json")
            elif route == "/badjson":
                self.send(body=b"{nope", ctype="application/json")
            elif route == "/gzip":
                self.send(body=gzip.compress(b"squeezed " * 1000), headers=[("Content-Encoding", "gzip")])
            elif route == "/deflate":
                self.send(body=zlib.compress(b"deflated " * 1000), headers=[("Content-Encoding", "deflate")])
            elif route == "/bomb":
                self.send(body=self.bomb, ctype="application/xml", headers=[("Content-Encoding", "gzip")])
            elif route in ("/chunked", "/chunked-bomb"):   # Transfer-Encoding: chunked, gzip
                data = self.bomb if route == "/chunked-bomb" else gzip.compress(b"chunk " * 5000)
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Content-Encoding", "gzip")
                self.end_headers()
                for start in range(0, len(data), 4096):
                    piece = data[start:start + 4096]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            elif route == "/declared-huge":   # Content-Length over the cap; body never sent
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 1024 * 1024))
                self.end_headers()
            elif route == "/endless":   # no Content-Length: delimited by closing, 4 MB
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(64):
                    self.wfile.write(b"x" * 65536)
            elif route == "/dribble":   # one byte every 50 ms, for at most ~3 s
                self.send_response(200)
                self.send_header("Content-Length", "60")
                self.end_headers()
                for _ in range(60):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif route == "/slow-headers":   # status line and headers byte by byte
                for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"p" * 40:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
                self.close_connection = True
            elif route.startswith("/status/"):
                self.send(int(route.rsplit("/", 1)[1]), body=b"status body")
            elif route == "/redirect":   # ?to=<location>&code=<status>
                self.send(int(query.get("code", 302)), headers=[("Location", query["to"])])
            elif route.startswith("/chain/"):   # /chain/N -> relative ../chain/N-1 ... -> /plain
                n = int(route.rsplit("/", 1)[1])
                self.send(302, headers=[("Location", f"{n - 1}" if n > 1 else "../plain")])
            elif route == "/echo":
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                self.send(body=json.dumps({"method": self.command, "body": data.decode(),
                                           "headers": dict(self.headers)}).encode(),
                          ctype="application/json")
            else:
                self.send(404, body=b"not found")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True   # the client gave up, as intended


class Server(QuietServer):

    def __init__(self, context=None, host="127.0.0.1"):
        self.requests, self.connections, self.context = [], 0, context
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def verify_request(self, request, client_address):
        self.connections += 1
        return True

    def finish_request(self, request, client_address):
        if self.context is not None:
            request.settimeout(2)
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return   # the client refused our certificate
        super().finish_request(request, client_address)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()


@pytest.fixture(scope="module", autouse=True)
def bomb():
    Handler.bomb = _make_bomb()


@pytest.fixture(scope="module")
def servers():
    both = Server(), Server()
    yield both
    for srv in both:
        srv.stop()


@pytest.fixture
def server(servers):
    """The test server, with its request log and connection count cleared."""
    servers[0].requests, servers[0].connections = [], 0
    return servers[0]


@pytest.fixture
def other_server(servers):
    return servers[1]


def fail(code, *args, **kwargs) -> EgressError:
    with pytest.raises(EgressError) as info:
        fetch(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


# -- is_blocked_address --------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7",
    "203.0.113.9", "198.18.0.1", "192.0.0.8", "192.88.99.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
    "::ffff:0:127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1",
    "2002:7f00:1::1", "2002:a00:1::", "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1", "100::1",
])
def test_non_public_addresses_are_blocked(address):
    assert is_blocked_address(ipaddress.ip_address(address), DEFAULT)


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:2800:220:1::1", "2a00:1450:4001::200e",
    "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1",
])
def test_public_addresses_are_allowed(address):
    assert not is_blocked_address(ipaddress.ip_address(address), DEFAULT)


def test_allow_list_exempts_addresses_and_their_embedded_forms():
    policy = EgressPolicy.from_setting("127.0.0.1, 10.0.0.0/8, fd00::/8")
    for address in ("127.0.0.1", "10.9.8.7", "::ffff:127.0.0.1", "64:ff9b::a00:1", "fd00::5"):
        assert not is_blocked_address(ipaddress.ip_address(address), policy)
    for address in ("127.0.0.2", "::1", "169.254.169.254", "fc00::1"):
        assert is_blocked_address(ipaddress.ip_address(address), policy)


def test_egress_error_pickles():
    import pickle
    error = pickle.loads(pickle.dumps(EgressError("blocked", "no")))
    assert (error.code, str(error)) == ("blocked", "no")


# -- EgressPolicy.from_setting -------------------------------------------------------------

def test_from_setting_parses_ips_networks_and_names():
    policy = EgressPolicy.from_setting(" 127.0.0.1, ::1 ,10.0.0.0/8,Feeds.Internal,,[fd00::1]",
                                       max_bytes=10, deadline=2.5)
    assert policy.allow == (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"),
                            ipaddress.ip_network("10.0.0.0/8"), "feeds.internal",
                            ipaddress.ip_network("fd00::1/128"))
    assert (policy.max_bytes, policy.deadline, policy.max_redirects) == (10, 2.5, 5)


@pytest.mark.parametrize("value", [None, "", " , ,"])
def test_from_setting_blank_allows_nothing_extra(value):
    assert EgressPolicy.from_setting(value).allow == ()


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "999.1.1.1", "http://feeds.internal", "a b",
                                 "*.internal", "feeds.internal:8080", "-bad-.x"])
def test_from_setting_rejects_bad_entries_by_name(bad):
    with pytest.raises(ValueError, match="EGRESS_ALLOW") as info:
        EgressPolicy.from_setting(f"127.0.0.1,{bad}")
    assert repr(bad) in str(info.value)


# -- check_url -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/",
    "http://0x7f000001/", "http://127.1/", "http://127.0.0.1./", "http://0x7f.1./", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/", "http://localhost/", "http://LocalHost./",
    "http://foo.localhost/", "https://10.0.0.1:8443/x",
])
def test_check_url_blocks_local_addresses_in_any_spelling(url):
    for resolve in (True, False):   # literals and localhost are refused without a DNS query
        with pytest.raises(EgressError) as info:
            check_url(url, DEFAULT, resolve=resolve)
        assert info.value.code == "blocked"


@pytest.mark.parametrize("url, code", [
    ("file:///etc/passwd", "scheme"), ("gopher://127.0.0.1:70/_x", "scheme"),
    ("ftp://example.com/", "scheme"), ("javascript:alert(1)", "scheme"), ("example.com", "scheme"),
    ("http://user:pw@example.com/", "invalid_url"), ("http://user@example.com/", "invalid_url"),
    ("http:///path", "invalid_url"), ("http://exa mple.com/", "invalid_url"),
    ("http://example.com\\@127.0.0.1/", "invalid_url"), ("http://example.com:99999/", "invalid_url"),
    ("http://[::1/", "invalid_url"), ("http://bad_host!.com/", "invalid_url"),
    ("http://example.com/\nHost: evil", "invalid_url"),
])
def test_check_url_rejects_bad_urls(url, code):
    with pytest.raises(EgressError) as info:
        check_url(url, DEFAULT, resolve=False)
    assert info.value.code == code


@pytest.mark.parametrize("url", ["https://example.com/feed.xml", "http://Example.COM:8080/a?b=c",
                                 "https://bücher.example/rss", "http://93.184.216.34/"])
def test_check_url_accepts_public_urls_without_resolving(url):
    check_url(url, DEFAULT, resolve=False)


def test_check_url_allow_list_by_name_and_address(monkeypatch):
    check_url("http://localhost:8080/", EgressPolicy.from_setting("localhost"))
    check_url("http://2130706433/", LOCAL)
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"feeds.internal": ["10.1.2.3"]}))
    check_url("http://feeds.internal/rss", EgressPolicy.from_setting("feeds.internal"))
    with pytest.raises(EgressError, match="10.1.2.3"):
        check_url("http://feeds.internal/rss", DEFAULT)


def fake_dns(table):
    """A getaddrinfo stand-in answering from `table` (name -> addresses), else failing."""
    def getaddrinfo(host, port, *args, **kwargs):
        try:   # numeric addresses (urllib3 connecting to the checked IP) pass through
            return real_getaddrinfo(host, port, *args, flags=socket.AI_NUMERICHOST, **kwargs)
        except socket.gaierror:
            pass
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        fake_dns.calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port) if ":" not in a else (a, port, 0, 0)) for a in table[host]]
    fake_dns.calls = []
    return getaddrinfo


def test_every_resolved_address_must_be_allowed(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"mixed.test": ["93.184.216.34", "10.0.0.1"],
                                                         "public.test": ["93.184.216.34"]}))
    with pytest.raises(EgressError) as info:
        check_url("http://mixed.test/", DEFAULT)
    assert info.value.code == "blocked"
    check_url("http://public.test/", DEFAULT)


def test_dns_failure_is_reported(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({}))
    with pytest.raises(EgressError) as info:
        check_url("http://nowhere.invalid/", DEFAULT)
    assert info.value.code == "dns"


# -- fetch: basics -------------------------------------------------------------------------

def test_default_policy_blocks_loopback_before_connecting(server):
    for url in (server.base + "/plain", server.base.replace("127.0.0.1", "2130706433") + "/plain",
                server.base.replace("127.0.0.1", "localhost") + "/plain"):
        fail("blocked", url, policy=DEFAULT)
    assert server.connections == 0 and server.requests == []


def test_plain_get_sends_default_headers(server):
    resp = fetch(server.base + "/plain", policy=LOCAL)
    assert (resp.status, resp.content, resp.text, resp.url) == (200, b"hello", "hello",
                                                                 server.base + "/plain")
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    _, _, headers = server.requests[0]
    assert headers["User-Agent"] == LOCAL.user_agent
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["Host"] == f"127.0.0.1:{server.server_address[1]}"


def test_caller_headers_override_defaults_and_host_is_ours(server):
    fetch(server.base + "/plain", policy=LOCAL,
          headers={"user-agent": "custom/1", "Accept": "application/json", "Host": "evil.test"})
    _, _, headers = server.requests[0]
    assert headers["User-Agent"] == "custom/1" and headers["Accept"] == "application/json"
    assert headers["Host"] == f"127.0.0.1:{server.server_address[1]}"


def test_connects_to_checked_address_with_original_host_header(server, monkeypatch):
    """The name is resolved once; the socket goes to the first address that accepts
    (127.0.0.2 refuses: the server listens on 127.0.0.1 only)."""
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"feeds.test": ["127.0.0.2", "127.0.0.1"]}))
    port = server.server_address[1]
    resp = fetch(f"http://feeds.test:{port}/plain", policy=EgressPolicy.from_setting("127.0.0.0/8"))
    assert resp.content == b"hello"
    assert fake_dns.calls == ["feeds.test"]
    assert server.requests[0][2]["Host"] == f"feeds.test:{port}"


def test_ipv6_literal_with_allow_list():
    try:
        srv = Server(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        url = f"http://[::1]:{srv.server_address[1]}/plain"
        fail("blocked", url, policy=DEFAULT)
        assert fetch(url, policy=EgressPolicy.from_setting("::1")).content == b"hello"
        assert srv.connections == 1
        assert srv.requests[0][2]["Host"] == f"[::1]:{srv.server_address[1]}"
    finally:
        srv.stop()


def test_connection_refused_is_connect_error():
    with socket.socket() as sock:   # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fail("connect", f"http://127.0.0.1:{port}/", policy=LOCAL)


def test_json_and_text_decoding(server):
    assert fetch(server.base + "/json", policy=LOCAL).json() == {"ok": True, "n": 3}
    assert fetch(server.base + "/latin1", policy=LOCAL).text == "café"
    with pytest.raises(EgressError) as info:
        fetch(server.base + "/badjson", policy=LOCAL).json()
    assert info.value.code == "protocol"


@pytest.mark.parametrize("route, word", [("/gzip", b"squeezed "), ("/deflate", b"deflated ")])
def test_compressed_bodies_are_decoded(server, route, word):
    resp = fetch(server.base + route, policy=LOCAL)
    assert resp.content == word * 1000


def test_chunked_compressed_body_is_decoded(server):
    assert fetch(server.base + "/chunked", policy=LOCAL).content == b"chunk " * 5000


@pytest.mark.parametrize("status", [404, 500, 418])
def test_error_statuses_are_returned_not_raised(server, status):
    resp = fetch(f"{server.base}/status/{status}", policy=LOCAL)
    assert (resp.status, resp.content) == (status, b"status body")


def test_head_and_post(server):
    assert fetch(server.base + "/plain", policy=LOCAL, method="head").content == b""
    resp = fetch(server.base + "/echo", policy=LOCAL, method="POST", body=b"payload",
                 headers={"Content-Type": "text/plain"})
    assert resp.json()["method"] == "POST" and resp.json()["body"] == "payload"


# -- fetch: size limits and deadlines ------------------------------------------------------

@pytest.mark.parametrize("route", ["/bomb", "/chunked-bomb"])
def test_gzip_bomb_stops_at_the_cap_quickly_and_in_little_memory(server, route):
    tracemalloc.start()
    started = time.monotonic()
    try:
        fail("too_large", server.base + route, policy=LOCAL, max_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10   # a bound on a hang, not a speed
    assert peak < 8 * 1024 * 1024   # the bomb inflates to 50 MB


def test_declared_length_over_cap_is_refused_early(server):
    fail("too_large", server.base + "/declared-huge", policy=LOCAL)


def test_undeclared_huge_body_is_cut_off(server):
    fail("too_large", server.base + "/endless", policy=LOCAL, max_bytes=100_000)
    assert len(fetch(server.base + "/endless", policy=LOCAL).content) == 4 * 1024 * 1024


@pytest.mark.parametrize("route", ["/dribble", "/slow-headers"])
def test_slow_server_hits_the_total_deadline(server, route):
    started = time.monotonic()
    fail("timeout", server.base + route, policy=LOCAL, deadline=0.5)
    assert 0.4 < time.monotonic() - started < 2.5   # the server goes on for ~3 s


def test_policy_deadline_is_used_by_default(server):
    started = time.monotonic()
    fail("timeout", server.base + "/dribble", policy=EgressPolicy.from_setting("127.0.0.1", deadline=0.3))
    assert time.monotonic() - started < 2.5   # the server goes on for ~3 s


# -- fetch: redirects ----------------------------------------------------------------------

def redirect(server, to, code=302):
    return f"{server.base}/redirect?code={code}&to={quote(to, safe='')}"


def test_relative_redirect_chain_is_followed(server):
    resp = fetch(server.base + "/chain/3", policy=LOCAL)
    assert (resp.status, resp.content, resp.url) == (200, b"hello", server.base + "/plain")
    assert [path for _, path, _ in server.requests] == ["/chain/3", "/chain/2", "/chain/1", "/plain"]


def test_absolute_redirect_is_followed(server):
    resp = fetch(redirect(server, server.base + "/json", 301), policy=LOCAL)
    assert resp.json() == {"ok": True, "n": 3} and resp.url == server.base + "/json"


def test_too_many_redirects(server):
    fail("too_many_redirects", server.base + "/chain/6", policy=LOCAL)
    assert len(server.requests) == 6   # the start plus max_redirects hops
    assert fetch(server.base + "/chain/2", policy=EgressPolicy.from_setting(
        "127.0.0.1", max_redirects=2)).status == 200


def test_redirects_can_be_left_to_the_caller(server):
    resp = fetch(server.base + "/chain/1", policy=LOCAL, follow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "../plain"


@pytest.mark.parametrize("to", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                                "http://[::1]/", "http://0x7f000002/", "http://localhost/"])
def test_redirect_to_blocked_address_is_refused(server, to):
    fail("blocked", redirect(server, to), policy=LOCAL)
    assert len(server.requests) == 1


@pytest.mark.parametrize("to, code", [("ftp://example.com/file", "scheme"),
                                      ("file:///etc/passwd", "scheme"),
                                      ("http://user:pw@127.0.0.1/", "invalid_url")])
def test_redirect_to_bad_url_is_refused(server, to, code):
    fail(code, redirect(server, to), policy=LOCAL)


@pytest.mark.parametrize("code, method, body", [(303, "GET", ""), (302, "GET", ""),
                                                (301, "GET", ""), (307, "POST", "payload"),
                                                (308, "POST", "payload")])
def test_redirect_method_rewriting(server, code, method, body):
    resp = fetch(redirect(server, "/echo", code), policy=LOCAL, method="POST", body=b"payload",
                 headers={"Content-Type": "text/plain"})
    echoed = resp.json()
    assert (echoed["method"], echoed["body"]) == (method, body)
    assert ("Content-Type" in echoed["headers"]) == (method == "POST")


def test_credentials_are_not_forwarded_to_another_origin(server, other_server):
    secret = {"Authorization": "Bearer s3cret", "Cookie": "a=b", "X-Keep": "1"}
    same = fetch(redirect(server, "/echo"), policy=LOCAL, headers=secret).json()["headers"]
    assert same["Authorization"] == "Bearer s3cret" and same["Cookie"] == "a=b"
    other = fetch(redirect(server, other_server.base + "/echo"), policy=LOCAL,
                  headers=secret).json()["headers"]
    assert "Authorization" not in other and "Cookie" not in other and other["X-Keep"] == "1"


# -- HTTPS: certificate checked against the name while connecting to the IP ----------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=feeds.test", "-addext", "subjectAltName=DNS:feeds.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def tls_server(tls_files, monkeypatch):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    srv = Server(context)
    monkeypatch.setattr(egress, "_ca_bundle", lambda: tls_files[0])
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"feeds.test": ["127.0.0.1"],
                                                         "other.test": ["127.0.0.1"]}))
    yield srv
    srv.stop()


def test_https_verifies_the_name_while_connecting_to_the_ip(tls_server):
    port = tls_server.server_address[1]
    resp = fetch(f"https://feeds.test:{port}/plain", policy=LOCAL)
    assert resp.content == b"hello"
    assert tls_server.requests[0][2]["Host"] == f"feeds.test:{port}"


def test_https_with_a_certificate_for_another_name_fails(tls_server):
    port = tls_server.server_address[1]
    fail("connect", f"https://other.test:{port}/plain", policy=LOCAL)
    fail("connect", f"https://127.0.0.1:{port}/plain", policy=LOCAL)
    assert tls_server.requests == []
