"""GDELT DOC 2.0 API (`artlist` mode): worldwide online news, searched by keyword.

One request returns at most 250 articles of a time range, newest first, and the API covers
about the last three months. GDELT answers errors with HTTP 200 and a line of text or HTML
("Your search contained a phrase that was too short...", "Please limit requests to one every
5 seconds..."), and bans clients that ask faster than one request per 5 seconds, so every
request of this process waits its turn in a per-host guard (`MIN_INTERVAL`, `MAX_WAIT`).

Query push-down: the monitor query's positive terms in GDELT's syntax (words, "phrases",
(a OR b) groups), terms under 3 characters dropped (GDELT refuses short keywords), plus the
source's own `query` setting (GDELT operators such as sourcelang:english or domain:x.com).

Cursor of `fetch`: {"newest": ISO time of the newest seendate, "last_count": n}; the first
fetch looks back FIRST_SPAN, later ones from `newest` minus OVERLAP (seendates are
quarter-hourly). Backfill: one 250-article page per call over [since, until); a full page
continues with {"until": <oldest seendate seen + 1 s, as YYYYMMDDHHMMSS>}.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from webapp.monitors.sources import pushdown
from webapp.monitors.sources.api_calls import send
from webapp.monitors.sources.http import raise_for_status
from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter,
    SourceError, clamp,
)
from webapp.monitors.sources.items import external_id
from webapp.monitors.sources.rss import web_url
from webapp.monitors.sources.settings_checks import (
    check_base_url, settings_object, text_setting, with_optional,
)
from webapp.monitors.sources.text import html_to_text, truncate
from webapp.monitors.sources.throttle import HostThrottle
from webapp.core.times import parse_time
from webapp.monitors.sources.windows import finished, latest_published

DEFAULT_BASE_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
MAX_RECORDS = 250
MIN_TERM_LENGTH = 3
HORIZON = timedelta(days=90)  # what the DOC API searches back
FIRST_SPAN = timedelta(days=1)
OVERLAP = timedelta(minutes=15)
# Request spacing, read at call time (tests shrink them): GDELT asks for one per 5 seconds.
MIN_INTERVAL = 5.0
MAX_WAIT = 12.0  # wait at most this long for a slot, else rate_limited
RATE_LIMIT_RETRY_AFTER = 5.0
GUARD = HostThrottle()

_RATE_LIMIT_TEXT = re.compile(r"limit\s+requests|too\s+many\s+requests", re.IGNORECASE)
_SEENDATE = "%Y%m%dT%H%M%SZ"
_GDELT_TIME = "%Y%m%d%H%M%S"


def gdelt_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(_GDELT_TIME)


def parse_gdelt_time(value) -> datetime | None:
    """A `YYYYMMDDHHMMSS` (startdatetime style) or `YYYYMMDDTHHMMSSZ` (seendate) time, aware UTC."""
    if not isinstance(value, str):
        return None
    for fmt in (_SEENDATE, _GDELT_TIME):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def first_line(text: str, limit: int = 300) -> str:
    """The first line of visible text of a plain or HTML error page."""
    for line in text.splitlines():
        visible = html_to_text(line)
        if visible:
            return truncate(visible, limit)
    return "empty answer"


def parse_answer(content: bytes, host: str) -> dict:
    """The JSON object of an answer; GDELT's text/HTML error pages become SourceError."""
    text = content.decode("utf-8", "replace").strip()
    if not text:
        return {}
    if text[0] in "{[":
        try:
            data = json.loads(text, strict=False)  # GDELT titles may hold raw control chars
        except (ValueError, RecursionError) as exc:
            raise SourceError("parse", f"the GDELT answer is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise SourceError("parse", f"unexpected GDELT answer: a {type(data).__name__}")
        return data
    if _RATE_LIMIT_TEXT.search(text):
        GUARD.penalize(host, RATE_LIMIT_RETRY_AFTER)
        raise SourceError("rate_limited", first_line(text), retry_after=RATE_LIMIT_RETRY_AFTER)
    raise SourceError("api_error", first_line(text))


def article_item(article, now: datetime) -> FetchedItem | None:
    """One `articles` entry as an item; None without an http(s) url or a title."""
    if not isinstance(article, dict):
        return None
    url = web_url(article.get("url"))
    title = article.get("title")
    text = truncate(html_to_text(title), FETCHED_TEXT) if isinstance(title, str) else ""
    if not url or not text:
        return None
    seen = parse_gdelt_time(article.get("seendate"))
    domain = article.get("domain")
    return FetchedItem(
        external_id=external_id(url), text=text,
        author=clamp(domain, MAX_AUTHOR) if isinstance(domain, str) else None,
        url=url, published_at=min(seen, now) if seen else None,
    )


class GdeltAdapter(SourceAdapter):
    kind = "gdelt"
    label = "GDELT news search"
    help = ('Worldwide online news indexed by the GDELT Project (free, no key). Searches with the '
            "monitor's query unless a GDELT query is given.")
    default_every = 900
    min_every = 300
    supports_backfill = True
    fields = (
        SettingField("query", "GDELT query", False,
                     "Extra GDELT search terms or operators (sourcelang:english, domain:example.com), "
                     "added to the monitor's query. Needed when the monitor's query has no words "
                     "of 3 or more letters."),
        SettingField("base_url", "API address", False,
                     f"The DOC API endpoint (default {DEFAULT_BASE_URL})."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {}
        query = text_setting(settings, "query", "The GDELT query", 500)
        base = check_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    # -- requests ------------------------------------------------------------------------

    def _query(self, settings: dict, ctx: FetchContext) -> str:
        terms = pushdown.grouped(pushdown.clauses(ctx.monitor_query, min_len=MIN_TERM_LENGTH))
        query = pushdown.combine(terms, (settings or {}).get("query"))
        if not query:
            raise SourceError("settings", "GDELT needs a query: give the monitor a query with a "
                                          "word of 3 or more letters, or set the source's GDELT query")
        return query

    def _search(self, settings: dict, ctx: FetchContext, start: datetime, end: datetime):
        """(items, articles returned) of one artlist request over [start, end]."""
        base = (settings or {}).get("base_url") or DEFAULT_BASE_URL
        host = urlsplit(base).netloc.lower()
        params = {"query": self._query(settings, ctx), "mode": "artlist", "format": "json",
                  "maxrecords": MAX_RECORDS, "sort": "datedesc",
                  "startdatetime": gdelt_time(start), "enddatetime": gdelt_time(end)}
        GUARD.wait_turn(host, MIN_INTERVAL, MAX_WAIT)
        response = send(ctx, base, params=params, headers={"Accept": "application/json"})
        if response.status == 429:
            GUARD.penalize(host, RATE_LIMIT_RETRY_AFTER)
        raise_for_status(ctx, response, "GDELT")
        data = parse_answer(response.content, host)
        articles = data.get("articles", [])
        if not isinstance(articles, list):
            raise SourceError("parse", f"unexpected GDELT answer: articles is {type(articles).__name__}")
        items = [item for item in (article_item(a, ctx.now) for a in articles) if item]
        return items, articles

    # -- the adapter contract ------------------------------------------------------------

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        newest = parse_time((cursor or {}).get("newest"))
        start = newest - OVERLAP if newest else ctx.now - FIRST_SPAN
        start = max(start, ctx.now - HORIZON)
        items, articles = self._search(settings, ctx, start, ctx.now)
        latest = latest_published(items, newest)
        out = {"last_count": len(articles)}
        if latest:
            out["newest"] = latest.isoformat()
        return FetchResult(items=items, cursor=out)

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        start = max(since, ctx.now - HORIZON)
        end = parse_gdelt_time((page or {}).get("until")) or until
        end = min(end, until)
        if end <= start:
            return finished()
        items, articles = self._search(settings, ctx, start, end)
        if len(articles) < MAX_RECORDS:
            return finished(items)
        # A full page: the rest of the window lies before the oldest article seen. Ask again up
        # to one second after it (its own quarter-hour may hold more), always moving back.
        seen = [parse_gdelt_time(a.get("seendate")) for a in articles if isinstance(a, dict)]
        seen = [s for s in seen if s]
        oldest = min(seen) if seen else start
        following = oldest + timedelta(seconds=1)
        if following >= end:
            following = end - timedelta(seconds=1)
        if following <= start:
            return finished(items)
        return FetchResult(items=items, cursor={"until": gdelt_time(following)})
