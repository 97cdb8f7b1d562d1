"""What the chat notifiers (Slack, Mattermost, Discord, Teams, Google Chat) share.

A chat kind is a `ChatChannel` declared in its own module: its hosts, its help text, `render`
(a `ChatView` to that service's JSON body, inside its limits) and `explain` (the service's
error answer to a human reason). The channel does the rest the same way for every service:
- `view(payload)` reads an alert payload (webapp/alerting/payload.py), a test message or a
  report summary (`summary_payload`) into one neutral `ChatView`, so each service only lays out;
- `clean_settings` accepts the service's incoming-webhook URL: https on one of its hosts, or
  any URL on a host that EGRESS_ALLOW opens (self-hosted servers, local fakes in tests);
- `send` posts through the egress guard (notifiers/http.py); a 429 waits for `Retry-After` or
  the body's `retry_after` (seconds, may be fractional), 5xx are retried with backoff (the
  delivery use case decides from the status), other 4xx are permanent with the service's reason.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from webapp.alerting.notifiers import http
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target, excerpt

ELLIPSIS = "…"
SUMMARY_TYPE = "report.summary"
STATUS_TITLES = {"firing": "FIRING", "resolved": "RESOLVED", "test": "TEST", "reminder": "STILL FIRING",
                 "report": "REPORT"}
COLORS = {"firing": "#d64545", "reminder": "#d64545", "resolved": "#2e9d5b", "test": "#3f6fd8",
          "report": "#3f6fd8"}
SAMPLE_CHARS = 300


def units(text: str) -> int:
    """Length in UTF-16 code units, as Discord and Teams count (never less than Python's len)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, ending with an ellipsis when cut."""
    text = "" if text is None else str(text)
    if units(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        size = units(ch)
        if used + size > limit - 1:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


def one_line(text) -> str:
    return " ".join(str(text or "").split())


def number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def is_web(url) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 2000


# -- the neutral message ----------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    label: str
    text: str
    url: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class ChatView:
    """One notification, as every chat service lays it out (all text plain, unescaped)."""

    status: str                                   # firing | reminder | resolved | test | report
    title: str                                    # "FIRING: rule · monitor"
    facts: list[tuple[str, str]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    more: int = 0
    notes: list[str] = field(default_factory=list)   # spike attribution, failing sources
    text: str = ""                                # a report's summary
    link: str | None = None
    link_text: str = "Open in Sentimon"

    @property
    def color(self) -> str:
        return COLORS.get(self.status, COLORS["test"])

    def plain(self) -> str:
        """The whole message as plain text lines (for fallbacks and notification previews)."""
        lines = [self.title, *(f"{k}: {v}" for k, v in self.facts)]
        if self.text:
            lines.append(self.text)
        lines += self.notes
        lines += [f"[{s.label}] {s.text}" for s in self.samples]
        return "\n".join(lines)


def _attribution_lines(found) -> list[str]:
    """Spike attribution in whatever shape the insights give it: a sentence, or a mapping with
    a summary and lists of contributors (strings or {term|author|source|name, share|count})."""
    if not found:
        return []
    if isinstance(found, str):
        return [f"Why: {one_line(found)[:500]}"]
    if isinstance(found, list):
        found = {"contributors": found}
    if not isinstance(found, dict):
        return []
    lines = []
    summary = found.get("summary") or found.get("text")
    if isinstance(summary, str) and summary.strip():
        lines.append(f"Why: {one_line(summary)[:500]}")
    for key, items in found.items():
        if not isinstance(items, list) or not items:
            continue
        names = []
        for item in items[:5]:
            if isinstance(item, dict):
                name = next((item[k] for k in ("term", "author", "source", "name", "lang") if item.get(k)), None)
                share = item.get("share", item.get("count"))
                if name is not None:
                    names.append(f"{one_line(name)[:80]}" + (f" ({number(share)})" if share is not None else ""))
            elif isinstance(item, (str, int, float)):
                names.append(one_line(item)[:80])
        if names:
            lines.append(f"{key.replace('_', ' ').capitalize()}: {', '.join(names)}")
    return lines[:6]


def _source_lines(details: dict) -> list[str]:
    """source_down: the failing sources, with since when and their last error."""
    lines = []
    for s in (details.get("sources") or [])[:5]:
        if isinstance(s, dict):
            error = f": {one_line(s.get('error'))[:200]}" if s.get("error") else ""
            lines.append(f"Source {one_line(s.get('name'))[:120]} failing since {s.get('failing_since')}{error}")
    return lines


def _name(found) -> str | None:
    return found.get("name") if isinstance(found, dict) else None


def view(payload: dict) -> ChatView:
    """The neutral view of an alert, test or report-summary payload (never raises on odd data)."""
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    link = data.get("link") if is_web(data.get("link")) else None
    if payload.get("type") == SUMMARY_TYPE:
        return ChatView("report", one_line(data.get("title") or "Sentimon report")[:250],
                        text=str(data.get("text") or ""), link=link, link_text="Open the report")
    status = data.get("status") or "firing"
    if status == "firing" and data.get("reminder"):
        status = "reminder"
    rule = one_line(_name(data.get("rule")) or "Test alert")
    monitor = one_line(_name(data.get("monitor")) or "Sentimon")
    title = f"{STATUS_TITLES.get(status, 'ALERT')}: {rule} · {monitor}"
    threshold = f"{data.get('op') or ''} {number(data.get('threshold'))}".strip() \
        if data.get("threshold") is not None else None
    facts = [(name, one_line(value)) for name, value in (
        ("Monitor", monitor), ("Rule", rule), ("Status", status),
        ("Value", number(data.get("value")) if data.get("value") is not None else None),
        ("Threshold", threshold), ("Window", data.get("window")),
        ("Time (UTC)", payload.get("timestamp"))) if value not in (None, "")]
    mentions = data.get("sample_mentions") if isinstance(data.get("sample_mentions"), list) else []
    samples = [Sample(one_line(m.get("label") or "unscored"), one_line(m.get("text"))[:SAMPLE_CHARS],
                      m.get("url") if is_web(m.get("url")) else None, one_line(m.get("author")) or None)
               for m in mentions if isinstance(m, dict)][:5]
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    attribution = data.get("attribution", payload.get("attribution", details.get("attribution")))
    notes = _attribution_lines(attribution) + _source_lines(details)
    more = data.get("more_mentions") if isinstance(data.get("more_mentions"), int) else 0
    return ChatView(status, title, facts, samples, more, notes, link=link)


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
    from webapp.alerting.notifiers.delivery import new_webhook_id

    target = notifier if isinstance(notifier, Target) else Target(
        notifier.id, notifier.kind, notifier.name, dict(notifier.settings or {}), notifier.secret)
    return get_channel(target.kind).send(target, Outbound(0, new_webhook_id(), summary_payload(title, text, link)), ctx)


# -- laying out text -------------------------------------------------------------------------

@dataclass(frozen=True)
class Markup:
    """A service's text markup: how it escapes untrusted text, makes bold text and links."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]          # (url, text) -> markup
    bullet: str = "•"


def body_lines(v: ChatView, m: Markup, *, facts: bool = True) -> list[str]:
    """The message under its title as lines of the service's markup, the link last."""
    out = [f"{m.bold(m.escape(k))}: {m.escape(val)}" for k, val in v.facts] if facts else []
    if v.text:
        out += [m.escape(line) for line in v.text.splitlines()]
    out += [m.escape(n) for n in v.notes]
    if v.samples:
        out.append(m.bold("Sample mentions"))
        out += [f"{m.bullet} {m.bold(m.escape(s.label))} {m.escape(s.text)}"
                + (f" {m.link(s.url, 'link')}" if s.url else "") for s in v.samples]
        if v.more:
            out.append(m.escape(f"… and {v.more} more"))
    if v.link:
        out.append(m.link(v.link, v.link_text))
    return out


def fit(lines: list[str], limit: int, keep_last: bool = True) -> str:
    """Lines joined within `limit` UTF-16 units: whole lines while they fit, then the first one
    that does not, cut with an ellipsis; the last line (the link) is kept whenever it fits."""
    tail = lines[-1:] if keep_last and lines else []
    head = lines[:-1] if tail else list(lines)
    room = limit - (units(tail[0]) + 1 if tail else 0)
    if room < 1:
        return clip("\n".join(lines), limit)
    kept, used = [], 0
    for line in head:
        cost = units(line) + (1 if kept else 0)
        if used + cost <= room:
            kept.append(line)
            used += cost
            continue
        left = room - used - (1 if kept else 0)
        if left >= 2:
            kept.append(clip(line, left))
        elif kept:
            kept[-1] = clip(kept[-1], units(kept[-1]))
            kept[-1] = kept[-1][:-1] + ELLIPSIS if kept[-1] else ELLIPSIS
        break
    return "\n".join(kept + tail)


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


__all__ = ["ChatChannel", "ChatView", "Markup", "Sample", "body_lines", "clip", "fit", "mask", "send_chat_text",
           "summary_payload", "view"]
