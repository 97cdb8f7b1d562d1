"""Test a source before it is saved: fetch once now, through the egress guard, and explain.

`probe(spec, policy)` validates one source spec as monitor creation does (`check_sources`), then
runs the adapter's own `fetch` once with an empty cursor and returns the first items or a human
explanation of what went wrong (`explain`, a pure function). Nothing is stored: no monitor,
source, cursor or mention. The new-monitor and edit pages run it for their "Test source" button
and, before saving, on every source being added (refusing the save when the problem is one that
waiting will not fix); `POST /api/v1/sources/test` is the API's twin.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from webapp.core import egress
from webapp.monitors.services.manage import check_sources
from webapp.monitors.sources import FetchContext, FetchedItem, SourceError, get_adapter

SHOWN_ITEMS = 5
PROBE_DEADLINE = 10.0   # seconds per request: a person is waiting for the page
URL_SETTINGS = ("url", "instances", "base_url")   # where an address problem is shown, in this order
# Problems that waiting does not fix: a source with one of them is refused on save.
LASTING = {"blocked", "dns", "scheme", "invalid_url", "parse", "too_large", "too_many_redirects",
           "settings", "http_400", "http_401", "http_403", "http_404", "http_405", "http_410"}


@dataclass(frozen=True)
class Explanation:
    """What a failed fetch means for the person setting the source up."""

    code: str
    text: str           # one or two sentences, never raw HTML or a Python error
    lasting: bool       # True: refused on save; False: it may work later (timeouts, 5xx, 429)
    about: str          # "address", "credentials" or "" (which input the text belongs next to)


@dataclass
class ProbeResult:
    ok: bool
    items: list[FetchedItem] = field(default_factory=list)   # the first SHOWN_ITEMS
    count: int = 0                                           # how many one fetch brought
    problem: Explanation | None = None
    errors: dict[str, str] = field(default_factory=dict)     # settings errors, keyed like check_sources
    setting: str | None = None                               # the setting the problem is about

    def as_dict(self) -> dict:
        return {
            "ok": self.ok, "count": self.count,
            "items": [{"external_id": i.external_id, "text": i.text, "author": i.author, "url": i.url,
                       "published_at": i.published_at.isoformat() if i.published_at else None}
                      for i in self.items],
            "problem": None if self.problem is None else {
                "code": self.problem.code, "message": self.problem.text, "lasting": self.problem.lasting,
                "setting": self.setting},
        }


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "a few minutes"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def explain(code: str, message: str = "", *, kind: str = "", retry_after: float | None = None) -> Explanation:
    """A sentence for a fetch failure `code` (SourceError / EgressError codes) of a source `kind`.

    Only the egress refusal's own message (a host name and an address, no remote text) is
    quoted; an HTTP error page's body never is.
    """
    status = int(code[5:]) if code.startswith("http_") and code[5:].isdigit() else None
    if code == "blocked":
        return Explanation(code, f"Refused: {egress.refusal_text(egress.EgressError(code, message))}",
                           True, "address")
    if code == "dns":
        return Explanation(code, "The host name could not be found. Check the address for typos "
                                 "(and that this server can reach the internet).", True, "address")
    if code in ("scheme", "invalid_url"):
        return Explanation(code, "This is not an address that can be fetched: use an http:// or "
                                 "https:// URL without a user name or password in it.", True, "address")
    if code == "parse":
        if kind in ("rss", "google_news"):
            text = ("The address answered, but not with an RSS or Atom feed (perhaps a web page). "
                    "Use the feed's own address, often linked as “RSS” or ending in /feed or /rss.")
        else:
            text = "The address answered, but not with the data this source kind reads."
        return Explanation(code, text, True, "address")
    if code == "rate_limited":
        return Explanation(code, f"The service is limiting requests (HTTP 429). Try again in "
                                 f"{_minutes(retry_after)}; saved sources wait that long by themselves.",
                           False, "")
    if code == "timeout":
        return Explanation(code, "The service did not answer in time. It may be slow or down: try again later.",
                           False, "address")
    if code == "connect":
        return Explanation(code, "No connection could be made to that host (refused, unreachable or a "
                                 "TLS certificate problem).", False, "address")
    if code == "too_large":
        return Explanation(code, "The answer is larger than Sentimon reads in one fetch.", True, "address")
    if code == "too_many_redirects":
        return Explanation(code, "The address redirects too many times.", True, "address")
    if status in (401, 403):
        return Explanation(code, f"The service refused the credentials (HTTP {status}). Check the key or "
                                 "token and its permissions.", True, "credentials")
    if status in (404, 410):
        return Explanation(code, f"Nothing was found at this address (HTTP {status}). Check the URL.",
                           True, "address")
    if status is not None and status >= 500:
        return Explanation(code, f"The service had an error (HTTP {status}). Try again later.", False, "")
    if status is not None:
        return Explanation(code, f"The service refused the request (HTTP {status}). Check the settings.",
                           code in LASTING, "")
    if code == "settings":
        return Explanation(code, "A setting the fetch needs is missing.", True, "")
    return Explanation(code, "The source could not be read this time. Try again later.", False, "")


def short_error(code: str | None, message: str | None, kind: str) -> str:
    """A stored fetch error (`code`, or a SourceError's "code: message" text) in a sentence, for
    source health: the status and reason, never the remote page's body."""
    text = (message or "").strip()
    if not code:
        head, _, rest = text.partition(": ")
        code, text = (head, rest) if head and head.replace("_", "").isalnum() and head.islower() else ("", text)
    if not code and not text:
        return ""
    return explain(code or "unknown", text, kind=kind).text


def _setting_for(kind: str, about: str) -> str | None:
    """The setting an explanation belongs next to (None: the source as a whole)."""
    fields = get_adapter(kind).fields
    if about == "credentials":
        return next((f.name for f in fields if f.secret), None)
    if about == "address":
        names = [f.name for f in fields]
        return next((n for n in URL_SETTINGS if n in names), None)
    return None


def probe(spec: dict, policy, *, monitor_query: str = "", fetch=egress.fetch,
          now: datetime | None = None) -> ProbeResult:
    """Validate `spec` ({"kind", ...settings}) and fetch it once; stores nothing."""
    clean, errors = check_sources([spec], policy)
    if errors:
        return ProbeResult(False, errors=errors)
    source = clean[0]
    adapter = get_adapter(source.kind)
    policy = replace(policy, deadline=min(policy.deadline, PROBE_DEADLINE))
    ctx = FetchContext(policy=policy, monitor_query=monitor_query or "",
                       now=now or datetime.now(timezone.utc), fetch=fetch)
    try:
        result = adapter.fetch(dict(source.settings), {}, ctx)
    except SourceError as exc:
        problem = explain(exc.code, exc.message, kind=source.kind, retry_after=exc.retry_after)
        return ProbeResult(False, problem=problem, setting=_setting_for(source.kind, problem.about))
    return ProbeResult(True, items=result.items[:SHOWN_ITEMS], count=len(result.items))
