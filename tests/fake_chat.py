"""Local fakes of the chat services' incoming webhooks (Slack, Mattermost, Discord, Teams
Workflows, Google Chat), on loopback, shaped like the real ones.

Each answers a good post as its service does (Slack and Mattermost `ok`, Discord 204, a
Workflows webhook 202, Google Chat the created message as JSON), checks what the service
checks (Slack needs `text` or `blocks` and header texts of ≤ 150; Discord ≤ 2,000 content, ≤ 10
embeds, title ≤ 256, description ≤ 4,096; Google Chat text ≤ 4,096; Teams needs an Adaptive Card
attachment) with the service's own error answer, and plays scripted answers first:
`fake.script("rate_limited", retry_after=1.5)` or `fake.script("gone")`, ... (see ANSWERS).
Every post is recorded in `fake.posts` (path, headers, parsed JSON).
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass

import pytest

from tests.fake_http import LoopbackServer

PATHS = {"slack": "/services/T0000/B0000/XXXXXXXX", "mattermost": "/hooks/xxx-generatedkey-xxx",
         "discord": "/api/webhooks/123456/tokentoken", "google_chat": "/v1/spaces/AAAA/messages?key=k&token=t",
         "teams": "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s"}
OK = {"slack": (200, {"Content-Type": "text/plain"}, "ok"), "mattermost": (200, {"Content-Type": "text/plain"}, "ok"),
      "discord": (204, {}, b""), "teams": (202, {}, b"")}


def _error(kind: str, what: str, retry_after: float = 1.0) -> tuple[int, dict, object]:
    """The service's own answer for a kind of failure."""
    header = {"Retry-After": str(math.ceil(retry_after))}
    answers = {
        "slack": {"rate_limited": (429, header, "rate_limited"), "invalid_payload": (400, {}, "invalid_payload"),
                  "gone": (404, {}, "no_service"), "channel_not_found": (404, {}, "channel_not_found"),
                  "action_prohibited": (403, {}, "action_prohibited"), "server": (500, {}, "internal_error")},
        "mattermost": {"rate_limited": (429, header, {"message": "Too many requests"}),
                       "gone": (400, {}, {"id": "web.incoming_webhook.invalid.app_error", "message": "Invalid webhook.",
                                          "status_code": 400}),
                       "invalid_payload": (400, {}, {"id": "web.incoming_webhook.parse.app_error",
                                                     "message": "Unable to parse incoming data.", "status_code": 400}),
                       "server": (503, {}, "Service Unavailable")},
        "discord": {"rate_limited": (429, header, {"message": "You are being rate limited.",
                                                   "retry_after": retry_after, "global": False}),
                    "gone": (404, {}, {"message": "Unknown Webhook", "code": 10015}),
                    "invalid_payload": (400, {}, {"message": "Invalid Form Body", "code": 50035}),
                    "server": (502, {}, "Bad Gateway")},
        "teams": {"rate_limited": (429, header, {"error": {"code": "WorkflowRequestsThrottled",
                                                           "message": "Rate limit is exceeded."}}),
                  "gone": (404, {}, {"error": {"code": "WorkflowNotFound", "message": "The workflow was not found."}}),
                  "invalid_payload": (400, {}, {"error": {"code": "InvalidRequestContent",
                                                          "message": "The request content is not valid."}}),
                  "server": (500, {}, {"error": {"code": "InternalServerError", "message": "boom"}})},
        "google_chat": {"rate_limited": (429, header, {"error": {"code": 429, "message": "Resource has been exhausted",
                                                                 "status": "RESOURCE_EXHAUSTED"}}),
                        "gone": (404, {}, {"error": {"code": 404, "message": "Requested entity was not found.",
                                                     "status": "NOT_FOUND"}}),
                        "invalid_payload": (400, {}, {"error": {"code": 400, "message": "Invalid JSON payload received.",
                                                                "status": "INVALID_ARGUMENT"}}),
                        "server": (503, {}, {"error": {"code": 503, "message": "The service is currently unavailable.",
                                                       "status": "UNAVAILABLE"}})},
    }
    return answers[kind][what]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check(kind: str, body) -> str | None:
    """The failure (an ANSWERS key) the real service would answer this body with, or None."""
    if not isinstance(body, dict):
        return "invalid_payload"
    if kind == "slack":
        headers = [b["text"]["text"] for b in body.get("blocks", []) if b.get("type") == "header"]
        bad = (not body.get("text") and not body.get("blocks")) or any(_units(h) > 150 for h in headers) \
            or len(body.get("blocks", [])) > 50 or any(
                _units((b.get("text") or {}).get("text", "")) > 3000 for b in body.get("blocks", []))
        return "invalid_payload" if bad else None
    if kind == "mattermost":
        return "invalid_payload" if not body.get("text") or _units(body["text"]) > 16383 else None
    if kind == "discord":
        embeds = body.get("embeds") or []
        total = sum(_units(e.get("title", "")) + _units(e.get("description", "")) + sum(
            _units(f["name"]) + _units(f["value"]) for f in e.get("fields", [])) for e in embeds)
        bad = (_units(body.get("content", "")) > 2000 or len(embeds) > 10 or total > 6000
               or any(_units(e.get("title", "")) > 256 or _units(e.get("description", "")) > 4096
                      or len(e.get("fields", [])) > 25 for e in embeds) or not (body.get("content") or embeds))
        return "invalid_payload" if bad else None
    if kind == "google_chat":
        return "invalid_payload" if not body.get("text") or _units(body["text"]) > 4096 else None
    attachments = body.get("attachments") or []
    cards = [a for a in attachments if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]
    good = body.get("type") == "message" and cards and cards[0]["content"].get("type") == "AdaptiveCard"
    return None if good else "invalid_payload"


@dataclass
class Post:
    path: str
    headers: dict
    json: object


class ChatFake(LoopbackServer):
    """One chat service's incoming webhook on loopback."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.posts: list[Post] = []
        self.scripted: list[tuple[int, dict, object]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url + PATHS[self.kind]

    def script(self, what: str, retry_after: float = 1.0) -> None:
        """Answer the next post with this failure ("rate_limited", "gone", "invalid_payload", "server", ...)."""
        self.scripted.append(_error(self.kind, what, retry_after))

    def respond(self, method, parts, headers, body):
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            parsed = None
        with self.lock:
            self.posts.append(Post(parts.path + (f"?{parts.query}" if parts.query else ""), headers, parsed))
            if self.scripted:
                return self.scripted.pop(0)
        if method != "POST" or not (parts.path + (f"?{parts.query}" if parts.query else "")).startswith(
                PATHS[self.kind].split("?")[0]):
            return 404, {}, "not found"
        failure = _check(self.kind, parsed)
        if failure:
            return _error(self.kind, failure)
        if self.kind == "google_chat":
            return 200, {}, {"name": "spaces/AAAA/messages/1", "text": parsed.get("text")}
        return OK[self.kind]


KINDS = tuple(PATHS)


@pytest.fixture
def chat_fake():
    """A factory: `chat_fake("slack")` starts that service's fake (closed after the test)."""
    started = []

    def start(kind: str) -> ChatFake:
        fake = ChatFake(kind)
        fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()
