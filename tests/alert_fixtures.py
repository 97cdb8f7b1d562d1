"""Fixtures of the alerting tests: a scripted webhook receiver and a real SMTP server, on loopback.

Import the fixtures into a test module: `from .alert_fixtures import smtp_server, webhook_server`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import free_port


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class WebhookServer:
    """Answers with the queued (status, headers, body) replies, then 200; records every request."""

    url: str
    replies: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    hold: threading.Event | None = None          # set: requests wait until it is set
    arrived: threading.Event = field(default_factory=threading.Event)

    def reply(self, status: int, body: bytes = b"", **headers) -> None:
        self.replies.append((status, headers, body))


@pytest.fixture
def webhook_server():
    lock = threading.Lock()
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            server: WebhookServer = state["server"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                server.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, headers, reply = server.replies.pop(0) if server.replies else (200, {}, b"ok")
            server.arrived.set()
            if server.hold is not None:
                server.hold.wait(30)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = state["server"] = WebhookServer(f"http://127.0.0.1:{httpd.server_address[1]}/hook")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    if server.hold is not None:
        server.hold.set()
    httpd.shutdown()
    httpd.server_close()


@dataclass
class SmtpServer:
    url: str
    messages: list = field(default_factory=list)   # (mail_from, rcpt_tos, email.message.EmailMessage)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    server = SmtpServer("")

    class Collect:
        async def handle_DATA(self, _server, _session, envelope):
            parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            server.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    server.url = f"smtp://127.0.0.1:{port}"
    yield server
    controller.stop()


def push(client, auth, drain, monitor_id: int, items: list[dict]) -> None:
    """Push mentions through the REST API and the bus, as a worker would store them."""
    for start in range(0, len(items), 5000):
        response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items[start:start + 5000],
                               headers=auth)
        assert response.status_code == 202, response.json
    drain()


def at(ts, text: str, n: int, prefix: str = "m") -> list[dict]:
    """`n` mentions with `text`, published at `ts`."""
    return [{"external_id": f"{prefix}-{ts.isoformat()}-{i}", "text": text, "published_at": ts.isoformat()}
            for i in range(n)]
