"""The HTTP plumbing the local service fakes share (fake_news.py, fake_social.py).

`LoopbackServer` is a real ThreadingHTTPServer on 127.0.0.1 (port 0). Every GET or POST is
handed to `respond(method, parts, headers, body)` (the URL split, lower-case header names, the
request body) which answers `(status, headers, body)`; a dict or list body is sent as JSON, a
str as UTF-8. The fakes build their own request records and routing on top.
"""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from datetime import datetime, timezone
from urllib.parse import SplitResult, urlsplit

from webapp.core.egress import EgressPolicy

JSON = "application/json; charset=utf-8"
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)  # the fakes' and the tests' clock
LOOPBACK = EgressPolicy.from_setting("127.0.0.1", deadline=5.0)  # may reach the fakes only


def encode_body(body, headers: dict) -> tuple[bytes, dict]:
    """(bytes, headers): a dict or list as JSON (with a JSON Content-Type unless one is set)."""
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode(), {"Content-Type": JSON, **headers}
    if isinstance(body, str):
        return body.encode("utf-8"), headers
    return body, headers


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print a client hanging up (expected in these tests)."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that stops reading (the byte cap of the egress client) is expected.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class LoopbackServer:
    """A loopback HTTP server whose subclasses answer in `respond`; `start()`, then `close()`."""

    protocol_version = "HTTP/1.0"
    poll_interval = 0.05

    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = owner.protocol_version

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = owner.respond(
                    self.command, parts, {k.lower(): v for k, v in self.headers.items()}, body)
                payload, headers = encode_body(payload, dict(headers))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": self.poll_interval}, daemon=True)

    def respond(self, method: str, parts: SplitResult, headers: dict,
                body: bytes) -> tuple[int, dict, object]:
        """(status, headers, body) for one request; subclasses answer here."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
