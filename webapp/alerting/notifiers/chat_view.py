"""The neutral view of a notification that every chat service lays out, and the text layout
helpers they share (pure, no I/O).

`view(payload)` reads an alert payload (webapp/alerting/payload.py), a test message or a
report summary into a `ChatView`; a service's module turns it into its JSON with `body_lines`
(its own `Markup`: escaping, bold, links) and `fit` / `clip`, which keep to its length limits
(counted in UTF-16 units, as Discord and Teams count) and cut with an ellipsis.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

ELLIPSIS = "…"
SUMMARY_TYPE = "report.summary"
REPORT_READY = "report.ready"   # the scheduled report's event (webapp/reports/services/render.summary)
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
    if payload.get("type") == REPORT_READY:   # a scheduled report (webapp/reports): its own title
        period = data.get("period") if isinstance(data.get("period"), dict) else {}
        title = " · ".join(one_line(p) for p in (_name(data.get("monitor")), period.get("label")) if p)
        data = {**data, "title": f"Report: {title}" if title else None}
    if payload.get("type") in (SUMMARY_TYPE, REPORT_READY):
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
