"""The one outbound HTTP client of Sentimon, hardened against SSRF.

Every request to a URL a user chose (feeds, APIs, webhooks) goes through `fetch`, so no user
can make the server reach itself, the cloud metadata service or the intranet:
- only http(s) URLs, without credentials;
- the host is resolved once; EVERY address must pass `is_blocked_address` or be allow-listed;
- the socket goes to that checked IP (Host, SNI, certificate use the name): no DNS rebinding;
- redirects are followed by hand, each hop checked again;
- one deadline bounds connecting and every socket read (not getaddrinfo: it has no timeout);
- the body is decoded chunk by chunk and dropped once over the cap (gzip bombs stay small).
No Flask and no work at import: callers pass an `EgressPolicy`.
"""
from __future__ import annotations

import functools
import http.client
import io
import ipaddress
import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Callable, Iterable
from urllib.parse import quote, urljoin, urlsplit

import urllib3
from urllib3 import HTTPHeaderDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

__all__ = ["EgressError", "EgressPolicy", "EgressResponse", "fetch", "check_url",
           "is_blocked_address", "system_resolver"]

ERROR_CODES = frozenset({"scheme", "invalid_url", "dns", "blocked", "connect", "timeout",
                         "too_large", "too_many_redirects", "protocol"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
_CHUNK = 64 * 1024
_SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")   # an RFC 9110 method name
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")

# Refused unless allow-listed. Spelled out because ipaddress.is_private differs between
# Python versions; the ipaddress flags are checked as well, as a second net.
_BLOCKED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/8",            # unspecified, loopback, IPv4-compatible and -translated (SIIT)
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
    "100::/64", "2001::/23",   # discard-only; IETF protocol space incl. Teredo 2001::/32
    "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


# What to do about a "blocked" refusal, for the messages people read (forms, API, source health).
ALLOW_HINT = ("Sentimon does not fetch local or private addresses unless an administrator allows "
              "them with the EGRESS_ALLOW setting (e.g. EGRESS_ALLOW=127.0.0.1 or a host name), "
              "then restarts.")


def refusal_text(exc: "EgressError") -> str:
    """The refusal as a sentence, with ALLOW_HINT when the address was refused (not malformed)."""
    text = str(exc).rstrip(".") + "."
    return f"{text} {ALLOW_HINT}" if exc.code == "blocked" else text


class EgressError(Exception):
    """A request was refused or failed: `code` (in ERROR_CODES) says why, the message how."""

    def __init__(self, code: str, message: str):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown egress error code {code!r}")
        super().__init__(message)
        self.code = code

    def __reduce__(self):   # keep it picklable (Celery) despite the two-argument __init__
        return type(self), (self.code, str(self))


@dataclass(frozen=True)
class EgressPolicy:
    """What outbound requests may reach and what they may cost.

    `allow` holds ip networks and lower-case host names exempt from the block list (a feed
    server on the intranet, 127.0.0.1 in tests). A name exempts all its addresses.
    `resolver(host, port)` returns the host's addresses as strings (`system_resolver`, i.e.
    getaddrinfo, when None); tests inject a stub to play DNS rebinding against the client.
    """

    allow: tuple = ()
    max_bytes: int = 5 * 1024 * 1024
    deadline: float = 20.0
    connect_timeout: float = 5.0
    max_redirects: int = 5
    user_agent: str = "Sentimon/0.1 (+https://github.com/sentimon/sentimon)"
    resolver: Callable[[str, int], Iterable[str]] | None = field(default=None, compare=False)

    @classmethod
    def from_setting(cls, value: str | None, **overrides) -> "EgressPolicy":
        """Parse EGRESS_ALLOW: comma-separated host names, IPs or CIDRs (blank: none)."""
        allow: list = []
        for entry in filter(None, (part.strip() for part in (value or "").split(","))):
            try:
                allow.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                name = _normalize_host(entry)
                if name is None or re.fullmatch(r"[0-9.]+", name):   # e.g. a mistyped IP
                    raise ValueError(f"EGRESS_ALLOW: {entry!r} is not a host name, IP address "
                                     "or CIDR network") from None
                allow.append(name.rstrip("."))
        return cls(allow=tuple(allow), **overrides)

    def allows_host(self, host: str) -> bool:
        """Whether the (normalized) host name is allow-listed by name."""
        return host.rstrip(".") in self.allow

    def allows_address(self, ip: IPAddress) -> bool:
        """Whether the address lies in an allow-listed network."""
        return any(not isinstance(net, str) and net.version == ip.version and ip in net
                   for net in self.allow)


@dataclass
class EgressResponse:
    """A completed response: final URL after redirects, status, headers, decoded body."""

    url: str
    status: int
    headers: HTTPHeaderDict
    content: bytes

    @property
    def text(self) -> str:
        """The body as text in the Content-Type charset, else UTF-8 (errors replaced)."""
        message = Message()
        message["content-type"] = self.headers.get("Content-Type", "")
        try:
            return self.content.decode(message.get_content_charset() or "utf-8", "replace")
        except LookupError:   # unknown charset name
            return self.content.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON; invalid JSON is a 'protocol' error."""
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise EgressError("protocol", f"the response is not valid JSON: {exc}") from None


@dataclass(frozen=True)
class _Target:
    """A validated URL, split into what the connection needs."""

    url: str
    scheme: str
    host: str                   # ASCII, lower-case, without brackets
    port: int
    path: str                   # request target: path and query
    literal: IPAddress | None   # the address, when the host is an IP (in any spelling)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def is_blocked_address(ip: IPAddress, policy: EgressPolicy) -> bool:
    """Whether `ip` must not be contacted (a pure decision, no I/O).

    Allow-listed networks win. IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4
    (2002::/16) addresses are judged by the IPv4 address they embed; Teredo (2001::/32) is
    simply blocked. Otherwise anything in _BLOCKED_NETWORKS or not global is blocked.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(int(ip))   # drop the %zone
    if policy.allows_address(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_blocked_address(embedded, policy)
    if any(net.version == ip.version and ip in net for net in _BLOCKED_NETWORKS):
        return True
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def check_url(url: str, policy: EgressPolicy, *, resolve: bool = True) -> None:
    """Validate a URL before it is saved; raise EgressError if it cannot be fetched.

    Always checks scheme, credentials, host syntax and hosts that need no DNS (IP literals
    in any spelling, localhost). resolve=True also resolves the name and checks every address.
    """
    target = _parse(url)
    if resolve or target.literal is not None or _is_localhost(target.host):
        _addresses(target, policy)


def fetch(url: str, *, policy: EgressPolicy, method: str = "GET", headers: dict | None = None,
          body: bytes | None = None, follow_redirects: bool = True,
          deadline: float | None = None, max_bytes: int | None = None) -> EgressResponse:
    """Send a request under `policy`, following redirects, and return the final response.

    Non-2xx statuses are returned, not raised. `deadline` (seconds for everything) and
    `max_bytes` (decoded body) override the policy's values for this call.
    """
    end = time.monotonic() + (policy.deadline if deadline is None else deadline)
    limit = policy.max_bytes if max_bytes is None else max_bytes
    method = method.upper()
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    sent = HTTPHeaderDict({"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"})
    for name, value in (headers or {}).items():
        sent[name] = value   # replaces a default case-insensitively
    sent.discard("Host")   # always the target's own
    target = _parse(url)
    for _hop in range(policy.max_redirects + 1):
        pool, resp = _open(target, _addresses(target, policy), method, sent, body, policy, end)
        try:
            location = resp.headers.get("Location")
            if not (follow_redirects and resp.status in _REDIRECTS and location):
                if (resp.length_remaining or 0) > limit:   # Content-Length over the cap
                    raise EgressError("too_large", f"the response is larger than {limit} bytes")
                return EgressResponse(target.url, resp.status, resp.headers,
                                      _read_body(resp, target, limit, end))
        finally:
            resp.close()
            pool.close()
        if resp.status in (301, 302, 303) and method != "HEAD":   # HEAD stays HEAD
            method, body = "GET", None
            for name in _BODY_HEADERS:
                sent.discard(name)
        following = _parse(urljoin(target.url, location.strip().replace(" ", "%20")))
        if (following.scheme, following.host, following.port) != (
                target.scheme, target.host, target.port):
            for name in _CREDENTIAL_HEADERS:   # never hand credentials to another origin
                sent.discard(name)
        target = following
    raise EgressError("too_many_redirects", f"more than {policy.max_redirects} redirects")


# -- URL parsing and address checks ------------------------------------------------------

def _normalize_host(host: str) -> str | None:
    """The host name in ASCII (IDNA) lower case; None if it is not a valid host name."""
    try:
        name = host.lower() if host.isascii() else host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = (name[:-1] if name.endswith(".") else name).split(".")
    return name if len(name) <= 253 and all(_LABEL.fullmatch(x) for x in labels) else None


def _literal_ip(host: str) -> IPAddress | None:
    """The address if the host is an IP literal, including the legacy IPv4 spellings that
    resolvers accept too (2130706433, 0177.0.0.1, 0x7f.1, 127.1), with a trailing dot too."""
    host = host.removesuffix(".") if ":" not in host else host
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            pass
    return None


def _is_localhost(host: str) -> bool:
    host = host.rstrip(".")
    return host == "localhost" or host.endswith(".localhost")   # RFC 6761: always loopback


def _parse(url: str) -> _Target:
    """Check scheme, credentials, host and port of `url`; raise EgressError if bad."""
    if not isinstance(url, str) or _UNSAFE_URL_CHARS.search(url):
        raise EgressError("invalid_url", "the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressError("invalid_url", f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise EgressError("scheme", f"only http and https URLs are allowed, not {scheme!r}")
    if "@" in parts.netloc:
        raise EgressError("invalid_url", "URLs with credentials (user@host) are not allowed")
    if not parts.hostname or port == 0:
        raise EgressError("invalid_url", "the URL has no host or port 0")
    literal = _literal_ip(parts.hostname)
    host = parts.hostname if literal is not None else _normalize_host(parts.hostname)
    if host is None:
        raise EgressError("invalid_url", f"invalid host name {parts.hostname!r}")
    if literal is None:   # IDNA maps full-width digits and ideographic dots: 127。0。0。1
        literal = _literal_ip(host)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")   # only non-ASCII gets quoted
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?[]")
    return _Target(url, scheme, host, port or _DEFAULT_PORTS[scheme], path, literal)


def _addresses(target: _Target, policy: EgressPolicy) -> list[str]:
    """The target's addresses (as connectable strings), every one of them checked."""
    by_name = policy.allows_host(target.host)
    if target.literal is not None:
        found = [(target.literal, str(target.literal))]
    elif _is_localhost(target.host) and not by_name:
        raise EgressError("blocked", f"{target.host} is a local address")
    else:
        try:
            answer = [str(raw) for raw in (policy.resolver or system_resolver)(target.host, target.port)]
            found = [(ipaddress.ip_address(raw.split("%")[0]), raw) for raw in answer]
        except (OSError, UnicodeError, ValueError) as exc:
            raise EgressError("dns", f"cannot resolve {target.host}: {exc}") from None
        if not found:
            raise EgressError("dns", f"{target.host} has no IP address")
    for ip, _ in found if not by_name else ():
        if is_blocked_address(ip, policy):
            raise EgressError("blocked", f"{target.host} points to a non-public address "
                              f"({ip}) that is not allowed")
    return list(dict.fromkeys(raw for _, raw in found))


def system_resolver(host: str, port: int) -> list[str]:
    """The host's IPv4/IPv6 addresses from getaddrinfo (IPv6 with its %zone, if any)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


# -- connections -------------------------------------------------------------------------

class _DeadlineReader(io.RawIOBase):
    """Socket reader giving every recv only the time left until the deadline, so a peer
    dribbling the status line, headers or body cannot hold a request past it."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float):
        super().__init__()
        self._raw, self._sock, self._deadline = raw, sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("egress deadline exceeded")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()   # drops the makefile() reference that keeps the socket open
        super().close()


class _DeadlineHTTPResponse(http.client.HTTPResponse):
    """http.client's response, reading through a _DeadlineReader."""

    def __init__(self, sock, *args, deadline: float, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(_DeadlineReader(self.fp.detach(), sock, deadline))


class _DeadlineMixin:
    """For urllib3 connections: responses obey the absolute deadline `egress_deadline`."""

    def __init__(self, *args, egress_deadline: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_class = functools.partial(_DeadlineHTTPResponse, deadline=egress_deadline)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = type("_HTTPConnection", (_DeadlineMixin, HTTPConnection), {})


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = type("_HTTPSConnection", (_DeadlineMixin, HTTPSConnection), {})


@functools.lru_cache(maxsize=1)
def _ca_bundle() -> str | None:
    """certifi's CA bundle, else the system bundle, else None (OpenSSL's defaults)."""
    try:
        import certifi
        return certifi.where()
    except ImportError:
        return _SYSTEM_CA_BUNDLE if os.path.exists(_SYSTEM_CA_BUNDLE) else None


def _remaining(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise EgressError("timeout", "the request took longer than its deadline")
    return left


def _egress_error(exc: Exception, target: _Target) -> EgressError | None:
    """The EgressError for a urllib3/socket/http.client failure (None: not one of those)."""
    if isinstance(exc, NewConnectionError):
        return EgressError("connect", f"cannot connect to {target.host}: {exc.__cause__ or exc}")
    if isinstance(exc, (Urllib3Timeout, socket.timeout)):
        return EgressError("timeout", f"{target.host} did not answer within the deadline")
    if isinstance(exc, SSLError):
        return EgressError("connect", f"TLS with {target.host} failed: {exc}")
    if isinstance(exc, (HTTPError, OSError, http.client.HTTPException)):
        return EgressError("protocol", f"bad response from {target.host}: {exc}")
    return None


def _open(target: _Target, addresses: list[str], method: str, headers: HTTPHeaderDict,
          body: bytes | None, policy: EgressPolicy, end: float):
    """Send the request to the first checked address that accepts a connection.

    Returns (pool, response) with the body unread; the caller closes both. The next address
    is tried only when connecting failed, so nothing is ever sent twice.
    """
    headers = HTTPHeaderDict(headers)
    headers["Host"] = target.host_header
    tls_name = str(target.literal) if target.literal is not None else target.host
    failure = None
    for address in addresses:
        left = _remaining(end)
        options = dict(port=target.port, retries=False, maxsize=1, egress_deadline=end,
                       timeout=urllib3.Timeout(connect=min(policy.connect_timeout, left), read=left))
        if target.scheme == "https":
            pool = _HTTPSPool(address, server_hostname=tls_name, assert_hostname=tls_name,
                              cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle(), **options)
        else:
            pool = _HTTPPool(address, **options)
        try:
            return pool, pool.urlopen(method, target.path, body=body, headers=headers,
                                      redirect=False, retries=False, preload_content=False,
                                      decode_content=True, assert_same_host=False)
        except Exception as exc:
            pool.close()
            failure = _egress_error(exc, target)
            if failure is None:
                raise
            if not isinstance(exc, ConnectTimeoutError):   # (NewConnectionError is one too)
                raise failure from None
    raise failure


def _read_body(resp: urllib3.BaseHTTPResponse, target: _Target, limit: int, end: float) -> bytes:
    """Read and decode the body chunk by chunk; stop as soon as it exceeds `limit` bytes.
    (urllib3 2.x inflates at most the requested amount per read: bounded memory.)"""
    chunks, size = [], 0
    try:
        for chunk in resp.stream(min(_CHUNK, limit + 1), decode_content=True):
            size += len(chunk)
            if size > limit:
                raise EgressError("too_large", f"the response is larger than {limit} bytes")
            _remaining(end)
            chunks.append(chunk)
    except Exception as exc:   # an EgressError raised above maps to None: re-raised as is
        error = _egress_error(exc, target)
        if error is None:
            raise
        raise error from None
    return b"".join(chunks)
