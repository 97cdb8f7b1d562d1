"""RSS and Atom feeds (a JSON Feed is read by the `json` source kind: feedparser 6 does not parse it).

The feed is downloaded through the SSRF-safe egress client with a conditional GET, so an
unchanged feed costs one 304. feedparser only ever parses the downloaded bytes: it is given a
stream, never a string, because a string would make it fetch a URL or open a local file.
"""
from __future__ import annotations

import calendar
import hashlib
import io
from datetime import datetime, timezone
from urllib.parse import urlsplit

import feedparser

from webapp.monitors.sources import http
from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_URL
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField,
    SourceAdapter, SourceError, SourceSettingsError, clamp,
)
from webapp.monitors.sources.settings_checks import check_egress, settings_object
from webapp.monitors.sources.text import collapse_whitespace, html_to_text, truncate
from webapp.monitors.sources.useragent import for_context as feed_user_agent
from webapp.monitors.sources.xml_guard import refuse_entity_declarations

ACCEPT = ("application/rss+xml, application/atom+xml, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
MAX_ITEMS = 1000  # entries taken from one response; a 5 MB feed could otherwise hold ~50k
WEB_SCHEMES = ("http", "https")


def check_feed_url(value, policy=None) -> str:
    """The feed URL, stripped, if it is an absolute http(s) URL the egress policy may reach."""
    if not isinstance(value, str) or not value.strip():
        raise SourceSettingsError("url", "the feed URL is required")
    url = value.strip()
    if len(url) > MAX_URL:
        raise SourceSettingsError("url", f"the feed URL is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SourceSettingsError("url", "the feed URL is not a valid URL") from None
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise SourceSettingsError("url", "the feed URL must start with http:// or https://")
    if not parts.hostname:
        raise SourceSettingsError("url", "the feed URL has no host name")
    check_egress(url, policy, "url", "the feed URL")
    return url


def conditional_headers(cursor: dict, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from validators stored for this same URL."""
    if not cursor or cursor.get("url") != url:
        return {}
    headers = {}
    if cursor.get("etag"):
        headers["If-None-Match"] = str(cursor["etag"])
    if cursor.get("last_modified"):
        headers["If-Modified-Since"] = str(cursor["last_modified"])
    return headers


def cursor_from(response, url: str) -> dict:
    """The validators to send next time (only the small ones; dedupe is the database's job)."""
    cursor = {"url": url}
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if etag:
        cursor["etag"] = etag[:1024]
    if last_modified:
        cursor["last_modified"] = last_modified[:128]
    return cursor


def parse_feed(content: bytes, content_type: str | None, location: str):
    """feedparser's result for downloaded bytes; SourceError('parse') when it is no feed,
    SourceError('parse') too when it declares XML entities (bombs, XXE)."""
    refuse_entity_declarations(content)
    headers = {"content-location": location}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    except Exception as exc:  # feedparser on hostile bytes: record, never crash the worker
        raise SourceError("parse", f"the feed could not be parsed ({type(exc).__name__})") from None
    if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "not an RSS or Atom feed"
        raise SourceError("parse", f"the response is not a readable feed: {reason}")
    return parsed


def entry_datetime(entry, now: datetime | None = None) -> datetime | None:
    """published, else updated, as aware UTC; never later than `now` (clock-skewed feeds)."""
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
            return min(when, now) if now is not None else when
    return None


def _title_text(entry) -> str:
    title = entry.get("title") or ""
    detail = entry.get("title_detail") or {}
    if "html" in (detail.get("type") or ""):
        return html_to_text(title)
    return collapse_whitespace(title)


def _body_html(entry) -> str:
    if entry.get("summary"):
        return entry["summary"]
    for content in entry.get("content") or ():
        if content.get("value"):
            return content["value"]
    return ""


def entry_text(entry) -> str:
    """Title and body as plain text, one line each, cut to FETCHED_TEXT characters."""
    title, body = _title_text(entry), html_to_text(_body_html(entry))
    if title and body.startswith(title):  # microblog feeds repeat the body as the title
        title = ""
    return truncate("\n".join(part for part in (title, body) if part), FETCHED_TEXT)


def web_url(value) -> str | None:
    """`value` if it is an absolute http(s) URL that fits the column (no javascript: links)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        ok = urlsplit(value).scheme.lower() in WEB_SCHEMES and len(value) <= MAX_URL
    except ValueError:
        return None
    return value if ok else None


def entry_external_id(entry, text: str) -> str:
    """The entry id / guid, else its link, else a sha256 of title and link (or of the text)."""
    ident = (entry.get("id") or "").strip() or (entry.get("link") or "").strip()
    if not ident:
        basis = f"{entry.get('title') or ''}\n{entry.get('link') or ''}"
        if not basis.strip():
            basis = text
        ident = "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()
    if len(ident) > MAX_EXTERNAL_ID:
        ident = "sha256:" + hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()
    return ident


def entry_author(entry) -> str | None:
    detail = entry.get("author_detail") or {}
    return clamp(detail.get("name") or entry.get("author"), MAX_AUTHOR)


def entry_to_item(entry, now: datetime | None = None) -> FetchedItem | None:
    """One feed entry as a FetchedItem; None when it has no text at all."""
    text = entry_text(entry)
    if not text:
        return None
    return FetchedItem(
        external_id=entry_external_id(entry, text),
        text=text,
        author=entry_author(entry),
        url=web_url(entry.get("link")),
        published_at=entry_datetime(entry, now),
    )


class RssAdapter(SourceAdapter):
    kind = "rss"
    label = "RSS / Atom feed"
    help = ("News sites, blogs and podcasts publish a feed: paste its address (often linked as “RSS”, "
            "or ending in /feed or /rss), one per line.")
    default_every = 900
    min_every = 300
    fields = (
        SettingField("url", "Feed URL", True,
                     "The address of an RSS or Atom feed (http:// or https://)."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        return {"url": check_feed_url(settings.get("url"), policy)}

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        url = settings.get("url")
        if not url:
            raise SourceError("settings", "the source has no feed URL")
        cursor = dict(cursor or {})
        headers = {"Accept": ACCEPT, "User-Agent": feed_user_agent(ctx),
                   **conditional_headers(cursor, url)}
        # Statuses, rate limits (429 with Retry-After) and egress refusals as for every adapter.
        response = http.request(ctx, url, headers=headers)
        if response.status == 304:
            return FetchResult(items=[], cursor=cursor)
        if not 200 <= response.status < 300:
            raise SourceError(f"http_{response.status}",
                              f"the feed answered HTTP {response.status}")
        parsed = parse_feed(response.content, response.headers.get("Content-Type"),
                            response.url or url)
        items = []
        for entry in parsed.get("entries", [])[:MAX_ITEMS]:
            item = entry_to_item(entry, ctx.now)
            if item is not None:
                items.append(item)
        return FetchResult(items=items, cursor=cursor_from(response, url))
