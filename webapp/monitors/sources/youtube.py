"""YouTube Data API v3 `search.list`: videos whose title or description match a query.

Each search costs 100 of the project's 10,000 daily quota units, hence the long default
interval. Quota exhaustion (403 `quotaExceeded`) lasts until midnight Pacific time and is
reported as a rate limit until then, so the source pauses instead of failing all day.

Query push-down: the monitor query's positive terms in YouTube's syntax (`a|b` for OR, an
implicit AND between words, "phrases"), plus the source's `query` setting.

Cursor of `fetch`: {"newest": ISO publishedAt of the newest video seen}; the first fetch
looks back FIRST_SPAN, later ones from `newest` minus OVERLAP (videos reach the search index
late), following nextPageToken for up to MAX_PAGES pages. Backfill: publishedAfter /
publishedBefore with pageToken; the page state is {"pageToken": ...}.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from webapp.core.crypto import reveal
from webapp.monitors.sources import pushdown
from webapp.monitors.sources.api_calls import send
from webapp.monitors.sources.http import raise_for_status
from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter,
    SourceError, clamp,
)
from webapp.monitors.sources.http import retry_after_seconds
from webapp.monitors.sources.items import external_id
from webapp.monitors.sources.settings_checks import (
    check_base_url, settings_object, text_setting, with_optional,
)
from webapp.monitors.sources.text import collapse_whitespace, html_to_text, truncate
from webapp.core.times import parse_time

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
PAGE_SIZE = 50
MAX_PAGES = 2  # per scheduled fetch: 200 quota units at most
FIRST_SPAN = timedelta(days=1)
OVERLAP = timedelta(hours=1)
QUOTA_TZ = "America/Los_Angeles"  # YouTube quotas reset at midnight Pacific time
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
WATCH_URL = "https://www.youtube.com/watch?v="


def seconds_to_pacific_midnight(now: datetime) -> float:
    """Seconds from `now` to the next 00:00 in America/Los_Angeles (DST-aware)."""
    zone = ZoneInfo(QUOTA_TZ)
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return max(1.0, (midnight.astimezone(timezone.utc) - now).total_seconds())


def rfc3339(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_of(content: bytes) -> tuple[str, str]:
    """(first reason, message) of a Google API error body; ('', '') when it is not one."""
    try:
        error = json.loads(content).get("error")
    except (ValueError, AttributeError, RecursionError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = next((r for r in reasons if isinstance(r, str)), "")
    return reason, html_to_text(message)[:300]  # Google's messages hold links


def check_answer(ctx: FetchContext, response) -> None:
    """Map YouTube's error answers: quota -> rate_limited until Pacific midnight, others by status."""
    if response.status < 400:
        return
    reason, message = error_of(response.content)
    if reason == "quotaExceeded":
        raise SourceError("rate_limited", f"YouTube quota exceeded: {message}".rstrip(": "),
                          retry_after=seconds_to_pacific_midnight(ctx.now))
    if reason in RATE_REASONS:
        wait = retry_after_seconds(response.headers, ctx.now) or 60.0
        raise SourceError("rate_limited", f"YouTube: {message} ({reason})", retry_after=wait)
    if reason or message:
        raise SourceError(f"http_{response.status}",
                          f"YouTube answered HTTP {response.status}: {message} ({reason or 'error'})")
    raise_for_status(ctx, response, "YouTube")


def video_item(entry, now: datetime) -> FetchedItem | None:
    """One search result as an item; None unless it is a video with an id and some text."""
    if not isinstance(entry, dict):
        return None
    ident, snippet = entry.get("id"), entry.get("snippet")
    if not isinstance(ident, dict) or not isinstance(snippet, dict):
        return None
    video_id = ident.get("videoId")
    if ident.get("kind", "youtube#video") != "youtube#video" or not isinstance(video_id, str) \
            or not video_id.strip():
        return None
    parts = [snippet.get(k) for k in ("title", "description")]
    parts = [collapse_whitespace(html.unescape(p)) for p in parts if isinstance(p, str)]
    text = truncate("\n".join(p for p in parts if p), FETCHED_TEXT)
    if not text:
        return None
    channel = snippet.get("channelTitle")
    return FetchedItem(
        external_id=external_id(video_id.strip()), text=text,
        author=clamp(channel, MAX_AUTHOR) if isinstance(channel, str) else None,
        url=WATCH_URL + video_id.strip() if video_id.strip().isascii() else None,
        published_at=parse_time(snippet.get("publishedAt"), now),
    )


class YoutubeAdapter(SourceAdapter):
    kind = "youtube"
    label = "YouTube video search"
    help = ("Videos from YouTube search (title and description). Needs a YouTube Data API key from "
            "the Google Cloud console.")
    default_every = 3600
    min_every = 900
    supports_backfill = True
    fields = (
        SettingField("api_key", "API key", True,
                     "A YouTube Data API v3 key from the Google Cloud console.", secret=True),
        SettingField("query", "Search terms", False,
                     "Extra YouTube search terms (a|b for OR, -x to exclude), added to the "
                     "monitor's query; needed when the monitor has no query."),
        SettingField("base_url", "API address", False, f"Default {DEFAULT_BASE_URL}."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {"api_key": text_setting(settings, "api_key", "The API key", 200, required=True)}
        query = text_setting(settings, "query", "The search terms", 500)
        base = check_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    def _page(self, settings: dict, ctx: FetchContext, after: datetime, before: datetime | None,
              token: str | None):
        """(items, nextPageToken) of one search.list call."""
        settings = settings or {}
        key = reveal(settings.get("api_key"))  # stored sealed (webapp.core.crypto)
        if not key:
            raise SourceError("settings", "the source has no YouTube API key")
        terms = pushdown.flat(pushdown.clauses(ctx.monitor_query), "|")
        query = pushdown.combine(terms, settings.get("query"))
        if not query:
            raise SourceError("settings", "YouTube needs search terms: give the monitor a query "
                                          "or set the source's search terms")
        params = {"part": "snippet", "type": "video", "q": query, "order": "date",
                  "maxResults": PAGE_SIZE, "publishedAfter": rfc3339(after)}
        if before is not None:
            params["publishedBefore"] = rfc3339(before)
        if token:
            params["pageToken"] = token
        params["key"] = key
        base = settings.get("base_url") or DEFAULT_BASE_URL
        response = send(ctx, f"{base}/search", params=params, headers={"Accept": "application/json"})
        check_answer(ctx, response)
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise SourceError("parse", f"the YouTube answer is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
            raise SourceError("parse", "unexpected YouTube answer: no list of items")
        items = [i for i in (video_item(e, ctx.now) for e in data.get("items", [])) if i]
        following = data.get("nextPageToken")
        return items, following if isinstance(following, str) and following else None

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        newest = parse_time((cursor or {}).get("newest"))
        after = newest - OVERLAP if newest else ctx.now - FIRST_SPAN
        items, token = self._page(settings, ctx, after, None, None)
        for _ in range(MAX_PAGES - 1):
            if not token:
                break
            more, token = self._page(settings, ctx, after, None, token)
            items.extend(more)
        times = [i.published_at for i in items if i.published_at] + ([newest] if newest else [])
        return FetchResult(items=items, cursor={"newest": max(times).isoformat()} if times else {})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        token = (page or {}).get("pageToken")
        items, following = self._page(settings, ctx, since, until,
                                      token if isinstance(token, str) else None)
        return FetchResult(items=items, cursor={"pageToken": following} if following else {"done": True})

