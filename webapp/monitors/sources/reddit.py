"""Reddit posts: the OAuth JSON API when the user has approved app keys, else the public Atom feeds.

Reddit allows its JSON API only to registered apps (OAuth, client-credentials grant for
read-only access) with a descriptive User-Agent; without keys the public search and
subreddit Atom feeds still work, fetched through the RSS adapter (conditional GET, the
feed User-Agent). Both give the same ids (the post's fullname, t3_...), so switching a
source between the two modes does not duplicate mentions.

Query push-down: the monitor query's positive terms in Reddit's search syntax ((a OR b)
groups, "phrases"), plus the source's `query` setting; `subreddit` restricts to one
subreddit (or several joined by '+'); a subreddit without terms reads its newest posts.

Cursors: OAuth {"mode": "oauth", "newest_utc": created_utc of the newest post}: each fetch
reads the newest page and follows `after` while the page is all newer than that, up to
MAX_PAGES. Feed {"mode": "feed", "feed": <the rss cursor>}. No backfill: Reddit search has
no time range.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from webapp.core.crypto import reveal
from webapp.monitors.sources import pushdown
from webapp.monitors.sources.api_calls import send
from webapp.monitors.sources.http import raise_for_status
from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter,
    SourceError, SourceSettingsError, clamp,
)
from webapp.monitors.sources.http import retry_after_seconds
from webapp.monitors.sources.items import engagement, external_id, figure
from webapp.monitors.sources.rss import RssAdapter, web_url
from webapp.monitors.sources.settings_checks import check_base_url, settings_object, text_setting
from webapp.monitors.sources.text import collapse_whitespace, truncate
from webapp.monitors.sources.useragent import for_context

WWW_URL = "https://www.reddit.com"
OAUTH_URL = "https://oauth.reddit.com"
PAGE_SIZE = 100
MAX_PAGES = 3
TOKEN_MARGIN = 60.0  # renew a token this long before Reddit says it expires
_FULLNAME = re.compile(r"(?:^|/)(t3_[0-9a-z]+)$")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}(\+[A-Za-z0-9][A-Za-z0-9_]{1,20}){0,9}")

_tokens: dict[tuple, tuple[str, float]] = {}  # (token url, client id, secret hash) -> (token, expiry)
_tokens_lock = threading.Lock()


def clear_token_cache() -> None:
    with _tokens_lock:
        _tokens.clear()


def _cache_key(token_url: str, client_id: str, secret: str) -> tuple:
    return token_url, client_id, hashlib.sha256(secret.encode()).hexdigest()


def access_token(ctx: FetchContext, www: str, client_id: str, secret: str, user_agent: str) -> str:
    """A client-credentials token, cached (per process) until shortly before it expires."""
    token_url = f"{www}/api/v1/access_token"
    key = _cache_key(token_url, client_id, secret)
    with _tokens_lock:
        cached = _tokens.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = send(ctx, token_url, method="POST",
                    body=urlencode({"grant_type": "client_credentials"}).encode(),
                    headers={"Authorization": f"Basic {basic}", "User-Agent": user_agent,
                             "Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/json"})
    if response.status in (400, 401, 403):
        raise SourceError(f"http_{response.status}",
                          "Reddit refused the app's client id and secret "
                          f"(HTTP {response.status}); check the keys and that the app is approved")
    check_answer(ctx, response)
    data = _json(response.content)
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        error = data.get("error") if isinstance(data, dict) else None
        raise SourceError("auth", f"Reddit gave no access token ({error or 'no access_token'})")
    expires = data.get("expires_in")
    lifetime = float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) else 3600.0
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN))
    return token


def forget_token(www: str, client_id: str, secret: str) -> None:
    with _tokens_lock:
        _tokens.pop(_cache_key(f"{www}/api/v1/access_token", client_id, secret), None)


def _json(content: bytes):
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise SourceError("parse", f"the Reddit answer is not valid JSON: {exc}") from None


def check_answer(ctx: FetchContext, response) -> None:
    """Reddit's x-ratelimit-reset counts seconds from now (not an epoch), and remaining is a float."""
    if response.status == 429 or (response.status == 403 and _spent(response.headers)):
        wait = retry_after_seconds({"Retry-After": response.headers.get("Retry-After")}, ctx.now)
        reset = (response.headers.get("x-ratelimit-reset") or "").strip()
        if wait is None and re.fullmatch(r"\d+(\.\d+)?", reset):
            wait = float(reset)
        raise SourceError("rate_limited", f"Reddit rate limit (HTTP {response.status})", retry_after=wait)
    raise_for_status(ctx, response, "Reddit")


def _spent(headers) -> bool:
    raw = (headers.get("x-ratelimit-remaining") or "").strip()
    try:
        return raw != "" and float(raw) < 1
    except ValueError:
        return False


def fullname_id(item: FetchedItem) -> FetchedItem:
    """A feed item with the post's fullname as id: feedparser resolves the Atom <id> t3_x
    against the feed's URL (https://www.reddit.com/t3_x); the JSON API gives t3_x."""
    found = _FULLNAME.search(item.external_id)
    return replace(item, external_id=found.group(1)) if found else item


def post_item(child, now: datetime) -> FetchedItem | None:
    """One Listing child of kind t3 as an item."""
    if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(child.get("data"), dict):
        return None
    data = child["data"]
    name = data.get("name") or (f"t3_{data['id']}" if isinstance(data.get("id"), str) else None)
    parts = [collapse_whitespace(p) for p in (data.get("title"), data.get("selftext")) if isinstance(p, str)]
    text = truncate("\n".join(p for p in parts if p), FETCHED_TEXT)
    if not isinstance(name, str) or not name or not text:
        return None
    permalink = data.get("permalink")
    url = web_url(WWW_URL + permalink) if isinstance(permalink, str) and permalink.startswith("/") \
        else web_url(data.get("url"))
    created = data.get("created_utc")
    published = None
    if isinstance(created, (int, float)) and not isinstance(created, bool):
        try:
            published = min(datetime.fromtimestamp(created, tz=timezone.utc), now)
        except (OverflowError, OSError, ValueError):
            published = None
    author = data.get("author")
    return FetchedItem(external_id=external_id(name), text=text,
                       author=clamp(author, MAX_AUTHOR) if isinstance(author, str) else None,
                       url=url, published_at=published,
                       reach=figure(data.get("subreddit_subscribers")),
                       engagement=engagement(data.get("score"), data.get("num_comments")))


class RedditAdapter(SourceAdapter):
    kind = "reddit"
    label = "Reddit posts"
    help = ("Posts from Reddit search or one subreddit. Works without a key at a low rate; an OAuth "
            "app (client id and secret) raises the limits.")
    default_every = 900
    min_every = 300
    fields = (
        SettingField("query", "Search terms", False,
                     "Extra Reddit search terms, added to the monitor's query."),
        SettingField("subreddit", "Subreddit", False,
                     "Only this subreddit (name without r/; several joined by +)."),
        SettingField("client_id", "OAuth client id", False,
                     "Client id of an approved Reddit app (script or web app). Without keys the "
                     "public Atom feeds are read instead."),
        SettingField("client_secret", "OAuth client secret", False,
                     "Secret of that Reddit app.", secret=True),
        SettingField("user_agent", "User agent", False,
                     "What Reddit asks apps to send: platform:app-id:version (by /u/username)."),
        SettingField("base_url", "Reddit address", False,
                     "Only for testing: one address for the token, API and feed endpoints."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {}
        for name, label, limit in (("query", "The search terms", 500), ("client_id", "The client id", 200),
                                   ("client_secret", "The client secret", 200),
                                   ("user_agent", "The user agent", 300)):
            value = text_setting(settings, name, label, limit)
            if value:
                clean[name] = value
        subreddit = text_setting(settings, "subreddit", "The subreddit", 220)
        if subreddit:
            subreddit = re.sub(r"^/?r/", "", subreddit).strip("/")
            if not _SUBREDDIT.fullmatch(subreddit):
                raise SourceSettingsError("subreddit", "a subreddit name has 2-21 letters, digits "
                                                       "or underscores (several joined by +)")
            clean["subreddit"] = subreddit
        if ("client_id" in clean) != ("client_secret" in clean):
            field = "client_secret" if "client_id" in clean else "client_id"
            raise SourceSettingsError(field, "give both the client id and the client secret, or neither")
        if settings.get("base_url"):
            clean["base_url"] = check_base_url(settings.get("base_url"), WWW_URL, policy)
        return clean

    @staticmethod
    def _terms(settings: dict, ctx: FetchContext) -> str:
        return pushdown.combine(pushdown.grouped(pushdown.clauses(ctx.monitor_query)),
                                settings.get("query"))

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        terms, subreddit = self._terms(settings, ctx), settings.get("subreddit")
        if not terms and not subreddit:
            raise SourceError("settings", "Reddit needs search terms or a subreddit: give the "
                                          "monitor a query, or set the source's terms or subreddit")
        if settings.get("client_id") and settings.get("client_secret"):
            return self._fetch_oauth(settings, terms, subreddit, cursor or {}, ctx)
        return self._fetch_feed(settings, terms, subreddit, cursor or {}, ctx)

    # -- public Atom feeds ---------------------------------------------------------------

    @staticmethod
    def feed_url(www: str, terms: str, subreddit: str | None) -> str:
        if subreddit and terms:
            return f"{www}/r/{quote(subreddit, safe='+')}/search.rss?" + urlencode(
                {"q": terms, "restrict_sr": "on", "sort": "new"})
        if subreddit:
            return f"{www}/r/{quote(subreddit, safe='+')}/new/.rss"
        return f"{www}/search.rss?" + urlencode({"q": terms, "sort": "new"})

    def _fetch_feed(self, settings, terms, subreddit, cursor, ctx) -> FetchResult:
        url = self.feed_url(settings.get("base_url") or WWW_URL, terms, subreddit)
        feed_cursor = cursor.get("feed") if cursor.get("mode") == "feed" else {}
        result = RssAdapter().fetch({"url": url}, dict(feed_cursor or {}), ctx)
        return FetchResult(items=[fullname_id(item) for item in result.items],
                           cursor={"mode": "feed", "feed": result.cursor})

    # -- OAuth JSON API ------------------------------------------------------------------

    def _listing(self, settings, terms, subreddit, after, ctx) -> tuple[list, str | None]:
        base = settings.get("base_url")
        www, api = base or WWW_URL, base or OAUTH_URL
        user_agent = settings.get("user_agent") or for_context(ctx)
        params = {"limit": PAGE_SIZE, "raw_json": 1}
        if terms:
            path = f"/r/{quote(subreddit, safe='+')}/search" if subreddit else "/search"
            params.update({"q": terms, "sort": "new"})
            if subreddit:
                params["restrict_sr"] = 1
        else:
            path = f"/r/{quote(subreddit, safe='+')}/new"
        if after:
            params["after"] = after
        client_id, secret = settings["client_id"], reveal(settings["client_secret"])  # stored sealed
        for attempt in (1, 2):
            token = access_token(ctx, www, client_id, secret, user_agent)
            response = send(ctx, api + path, params=params,
                            headers={"Authorization": f"bearer {token}", "User-Agent": user_agent,
                                     "Accept": "application/json"})
            if response.status == 401 and attempt == 1:  # revoked or expired early: renew once
                forget_token(www, client_id, secret)
                continue
            break
        check_answer(ctx, response)
        data = _json(response.content)
        listing = data.get("data") if isinstance(data, dict) else None
        if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
            raise SourceError("parse", "unexpected Reddit answer: not a Listing")
        following = listing.get("after")
        return listing["children"], following if isinstance(following, str) and following else None

    def _fetch_oauth(self, settings, terms, subreddit, cursor, ctx) -> FetchResult:
        newest = cursor.get("newest_utc") if cursor.get("mode") == "oauth" else None
        newest = newest if isinstance(newest, (int, float)) and not isinstance(newest, bool) else None
        items, after, seen = [], None, []
        for _ in range(MAX_PAGES if newest is not None else 1):
            children, after = self._listing(settings, terms, subreddit, after, ctx)
            created = [c["data"].get("created_utc") for c in children
                       if isinstance(c, dict) and isinstance(c.get("data"), dict)]
            created = [c for c in created if isinstance(c, (int, float)) and not isinstance(c, bool)]
            seen.extend(created)
            items.extend(i for i in (post_item(c, ctx.now) for c in children) if i)
            if not after or not created or min(created) <= (newest or 0):
                break
        top = max(seen + ([newest] if newest is not None else []), default=None)
        out = {"mode": "oauth"}
        if top is not None:
            out["newest_utc"] = top
        return FetchResult(items=items, cursor=out)
