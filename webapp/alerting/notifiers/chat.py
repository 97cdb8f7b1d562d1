"""What the chat notifiers (Slack, Mattermost, Discord, Teams, Google Chat) share.

A chat kind is a `ChatChannel` declared in its own module: its hosts, its help text, `render`
(a `ChatView` to that service's JSON body, inside its limits) and `explain` (the service's
error answer to a human reason). The channel does the rest the same way for every service:
- `chat_view.view(payload)` reads an alert payload, a test message or a report summary
  (`summary_payload`) into one neutral `ChatView`, so each service only lays out;
- `clean_settings` accepts the service's incoming-webhook URL: https on one of its hosts, or
  any URL on a host that EGRESS_ALLOW opens (self-hosted servers, local fakes in tests);
- `send` posts through the egress guard (notifiers/http.py); a 429 waits for `Retry-After` or
  the body's `retry_after` (seconds, may be fractional), 5xx are retried with backoff (the
  delivery use case decides from the status), other 4xx are permanent with the service's reason.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from webapp.alerting.notifiers import http
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target, excerpt
from webapp.alerting.notifiers.chat_view import SUMMARY_TYPE, ChatView, one_line, number, view


def summary_payload(title: str, text: str, link: str | None = None, monitor: dict | None = None,
                    now: datetime | None = None) -> dict:
    """A short report summary (scheduled reports) that every chat channel sends as its own message.

    Queue it with `delivery.outbox(session, notifiers, payload, None, now)` for the same retries
    and delivery log as alerts, or send it at once with `send_chat_text`.
    """
    now = now or datetime.now(timezone.utc)
    return {"type": SUMMARY_TYPE, "timestamp": now.isoformat(),
            "data": {"title": title, "text": text, "link": link, "monitor": monitor}}


def send_chat_text(notifier, title: str, text: str, link: str | None, ctx: Context) -> SendResult:
    """Send a summary to a chat notifier (a Notifier row or a Target) now, once, without the outbox."""
    from webapp.alerting.notifiers import get_channel
    from webapp.alerting.notifiers.delivery import new_webhook_id, target_of

    target = notifier if isinstance(notifier, Target) else target_of(notifier)
    return get_channel(target.kind).send(target, Outbound(0, new_webhook_id(), summary_payload(title, text, link)), ctx)


# -- answers -------------------------------------------------------------------------------------

def body_json(text: str | None):
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def body_retry_after(text: str | None) -> float | None:
    """`retry_after` in a JSON body (Discord: seconds, fractional), if there is one."""
    found = body_json(text)
    value = found.get("retry_after") if isinstance(found, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 10 ** 6:
        return float(value)
    return None


def body_message(text: str | None) -> str:
    """The error message of a JSON or text answer: `error.message`, `message`, `error`, or the text."""
    found = body_json(text)
    if isinstance(found, dict):
        error = found.get("error")
        if isinstance(error, dict) and error.get("message"):
            return one_line(error["message"])[:300]
        for key in ("message", "error", "detailed_error"):
            if isinstance(found.get(key), str) and found[key].strip():
                return one_line(found[key])[:300]
    return one_line(text)[:300]


def explain(status: int, text: str) -> tuple[str, bool]:
    """(reason, gone) of an error answer: its message; 404 and 410 mean the webhook is gone."""
    return body_message(text) or f"HTTP {status}", status in (404, 410)


# -- the channel ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChatChannel:
    """A chat service's incoming webhook as a notification channel (see the module docstring)."""

    KIND: str
    LABEL: str
    HELP: str
    PLACEHOLDER: str
    hosts: tuple[str, ...]                          # exact names, or ".suffix" for subdomains
    render: Callable[[ChatView], dict]
    explain: Callable[[int, str], tuple[str, bool]] | None = None    # None: explain() below
    any_https_host: bool = False                    # self-hosted services (Mattermost)

    FIELDS = ("url",)               # what a request may give besides kind and name

    def host_allowed(self, host: str) -> bool:
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def clean_settings(self, data: dict, policy) -> tuple[dict, None]:
        url = http.clean_url(data.get("url"), policy, f"a {self.LABEL} notifier")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        if not _opened(host, policy):
            if parts.scheme != "https":
                raise NotifierInvalid("url", f"a {self.LABEL} webhook URL starts with https://")
            if not self.any_https_host and not self.host_allowed(host):
                raise NotifierInvalid("url", f"this is not a {self.LABEL} webhook URL (expected a host like "
                                      f"{self.hosts[0].lstrip('.')}, e.g. {self.PLACEHOLDER})")
        return {"url": url}, None

    def body(self, payload: dict) -> bytes:
        return json.dumps(self.render(view(payload)), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(self, target: Target, message: Outbound, ctx: Context) -> SendResult:
        result, response = http.post(target.settings["url"], self.body(message.payload),
                                     {"Content-Type": "application/json; charset=utf-8"}, ctx)
        if response is None or result.ok:
            return result
        text = response.text
        precise = body_retry_after(text)   # Discord's body is exact; its header rounds up
        if precise is not None:
            result.retry_after = precise
        if response.status == 429:
            wait = f" (retry after {number(result.retry_after)} s)" if result.retry_after is not None else ""
            result.error = f"{self.LABEL} is rate limiting: HTTP 429{wait}"
        elif response.status >= 500:
            result.error = f"{self.LABEL} had a server error (HTTP {response.status}); it will be retried"
        else:
            reason, gone = (self.explain or explain)(response.status, text)
            result.error = f"{self.LABEL} refused the message (HTTP {response.status}): {reason}"
            if gone:
                result.gone = f"{self.LABEL} says the webhook no longer exists: {reason}"
        result.excerpt = excerpt(text)
        return result

    def default_name(self, settings: dict) -> str:
        return f"{self.LABEL} {urlsplit(settings['url']).hostname}"[:120]

    def shown(self, settings: dict) -> dict:
        return {"url": mask(settings.get("url", ""))}

    def target(self, settings: dict) -> str:
        return mask(settings.get("url", ""))

    def sent_sentence(self, name: str, status, latency_ms) -> str:
        return f"Test message posted to {self.LABEL} through “{name}” (HTTP {status}, {latency_ms} ms)."


def _opened(host: str, policy) -> bool:
    """Whether EGRESS_ALLOW opens this host (by name or address): self-hosted and test servers."""
    try:
        return policy.allows_address(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return policy.allows_host(host)


def mask(url: str) -> str:
    """A chat webhook URL is its credential: show its host and the start of its path only."""
    parts = urlsplit(url)
    path = parts.path
    keep = path[:max(path.find("/", 1), 1)] if path.count("/") > 1 else path[:8]
    return f"{parts.scheme}://{parts.netloc}{keep}/…" if parts.netloc else "…"


__all__ = ["ChatChannel", "explain", "mask", "send_chat_text", "summary_payload"]
