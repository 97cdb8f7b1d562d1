"""X (Twitter) API v2 recent search, with a per-monitor daily cap on the posts read.

X bills reads per post returned, so every source has `max_posts_per_day` (1..100,000, default
500). The cursor counts the posts read on the current UTC day, and each request asks for
`max_results = min(100, cap - read)` posts, so the count can never pass the cap. X will not
return fewer than 10 per request, so once fewer than 10 are left the source stops for the
day: the fetch raises SourceError('budget') with `retry_after` = seconds to the next UTC
midnight (the posts the API returned are all counted, whether the query keeps them or not).
Up to 9 posts of a cap may thus go unused on a busy day; the cap itself always holds.

Query push-down: the source's `query` setting is sent as is (X syntax, e.g. `acme -is:retweet
lang:en`); otherwise the monitor query is translated (words, "phrases", OR, -negation and
parentheses map 1:1, AND is a space; prefixes are dropped, negated groups rewritten; see
pushdown.x_query). At most 512 characters. A query with no positive term is an error.

Cursor: {"query": q, "newest_id": id, "day": "YYYY-MM-DD", "read": n}. A fetch asks for
`since_id = newest_id` and follows `next_token` (X's tokens do not expire) for up to
MAX_PAGES pages; if more remain, {"pending": {"since_id", "next_token", "newest_id"}} makes the
next fetch finish the series before `newest_id` moves on to the first page's `newest_id`, as
X's polling guide describes. The first fetch (or a changed query) takes one page. A failure
after some pages returns the posts read, so their cost stays counted.

Backfill: start_time / end_time within the last 7 days (recent search covers no more; an
older window is refused with SourceError('window')); one page per call; page state
{"next_token", "day", "read"}: a backfill slice spends against its own daily counter.
"""
from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.core.crypto import reveal
from webapp.monitors.sources.http import get_json
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
)
from webapp.monitors.sources.http import expect
from webapp.monitors.sources.items import dedupe, make_item
from webapp.monitors.sources.pushdown import monitor_query, own_search, x_query
from webapp.monitors.sources.settings_checks import (
    clean_base_url, clean_int, clean_text, settings_object, with_optional,
)
from webapp.core.times import (
    as_utc, epoch_ceil, from_epoch, iso_seconds, parse_time, seconds_until_next_utc_day,
)
from webapp.monitors.sources.windows import finished, in_window
from webapp.core.numbers import digits_only

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.x.com"
SEARCH_PATH = "/2/tweets/search/recent"
MIN_RESULTS, MAX_RESULTS = 10, 100  # what X accepts as max_results
MAX_PAGES = 10  # per fetch
MAX_QUERY = 512
DEFAULT_CAP, MAX_CAP = 500, 100_000
RECENT = timedelta(days=7)
BOUNDARY_MARGIN = timedelta(minutes=1)  # keep start_time clear of the 7-day edge
END_MARGIN = timedelta(seconds=11)  # end_time must be at least 10 s before the request
FIELDS = {"tweet.fields": "created_at,author_id,lang,note_tweet,public_metrics", "expansions": "author_id",
          "user.fields": "username,public_metrics"}


@dataclass
class Budget:
    """Posts read on `day` (UTC) against the daily `cap`."""

    cap: int
    day: str
    read: int = 0

    @classmethod
    def of(cls, state: dict, cap: int, now: datetime) -> "Budget":
        day = now.date().isoformat()
        read = state.get("read") if isinstance(state, dict) and state.get("day") == day else 0
        valid = isinstance(read, int) and not isinstance(read, bool) and read >= 0
        return cls(cap, day, read if valid else 0)

    def request_size(self) -> int | None:
        """max_results for the next request, or None when fewer than X's minimum are left."""
        left = self.cap - self.read
        return min(MAX_RESULTS, left) if left >= MIN_RESULTS else None

    def exhausted(self, now: datetime) -> SourceError:
        return SourceError("budget", f"the daily cap of {self.cap} posts is used up ({self.read} read "
                                     f"today; X returns at least {MIN_RESULTS} per request)",
                           retry_after=seconds_until_next_utc_day(now))


def _id(value) -> str | None:
    return value if digits_only(value) else None


def newer(a: str | None, b: str | None) -> str | None:
    ids = [i for i in (a, b) if i is not None]
    return max(ids, key=int) if ids else None


def post_to_item(post: dict, usernames: dict, now: datetime | None = None,
                 followers: dict | None = None) -> FetchedItem | None:
    note = post.get("note_tweet") if isinstance(post.get("note_tweet"), dict) else {}
    text = note.get("text") if isinstance(note.get("text"), str) else post.get("text")
    post_id = _id(post.get("id"))
    if post_id is None or not isinstance(text, str):
        return None
    username = usernames.get(post.get("author_id"))
    url = (f"https://x.com/{username}/status/{post_id}" if username
           else f"https://x.com/i/web/status/{post_id}")
    metrics = post.get("public_metrics") if isinstance(post.get("public_metrics"), dict) else {}
    return make_item(post_id, html.unescape(text), username, url, parse_time(post.get("created_at")), now,
                     reach=(followers or {}).get(post.get("author_id")), lang=post.get("lang"),
                     engaged=tuple(metrics.get(k) for k in ("like_count", "retweet_count", "reply_count",
                                                            "quote_count")))


class XAdapter(SourceAdapter):
    kind = "x"
    label = "X (Twitter) recent search"
    help = ("Posts from X's recent search (last 7 days). Needs a paid API plan's bearer token; posts "
            "per day caps what it reads to stay within the plan.")
    default_every = 900
    min_every = 300
    fields = (
        SettingField("bearer_token", "Bearer token", True, "The app's API bearer token.", secret=True),
        SettingField("max_posts_per_day", "Posts per day", True,
                     f"Spending cap: posts read per UTC day at most (1-{MAX_CAP}, default {DEFAULT_CAP})."),
        SettingField("query", "Search", False,
                     "Sent to X as is (X syntax, e.g. acme -is:retweet). Empty: the monitor's query."),
        SettingField("base_url", "API base URL", False, f"Default {DEFAULT_BASE_URL}."),
    )
    supports_backfill = True

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        token = clean_text(settings.get("bearer_token"), "bearer_token", "The bearer token", 1024,
                           required=True)
        clean = {"bearer_token": token,
                 "max_posts_per_day": clean_int(settings.get("max_posts_per_day"), "max_posts_per_day",
                                                DEFAULT_CAP, 1, MAX_CAP)}
        query = clean_text(settings.get("query"), "query", "The search", MAX_QUERY)
        base = clean_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    # -- requests ------------------------------------------------------------------------

    @staticmethod
    def _query(settings: dict, ctx: FetchContext) -> str:
        query = own_search(settings) or x_query(monitor_query(ctx))
        if not query:
            raise SourceError("settings", "X needs search words: give the monitor a query with a word "
                                          "or phrase (prefixes like lov* cannot be searched), or set "
                                          "the source's search")
        if len(query) > MAX_QUERY:
            raise SourceError("settings", f"the query is {len(query)} characters in X's syntax, X takes "
                                          f"{MAX_QUERY}: shorten it or set the source's own search")
        return query

    @staticmethod
    def _cap(settings: dict) -> int:
        cap = settings.get("max_posts_per_day", DEFAULT_CAP)
        if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_CAP:
            raise SourceError("settings", "max_posts_per_day is not a number from 1 to 100000")
        return cap

    def _page(self, settings: dict, ctx: FetchContext, params: dict, budget: Budget):
        """(items, meta) of one search; the posts returned are counted on `budget`."""
        token = reveal(settings.get("bearer_token"))  # stored sealed (webapp.core.crypto)
        if not isinstance(token, str) or not token:
            raise SourceError("settings", "the source has no X bearer token")
        base = settings.get("base_url") or DEFAULT_BASE_URL
        try:
            data, _ = get_json(ctx, base + SEARCH_PATH, params={**FIELDS, **params},
                                headers={"Authorization": f"Bearer {token}"})
        except SourceError as exc:
            if exc.code in ("http_401", "http_403"):
                raise SourceError("auth", f"X refused the bearer token: {exc.message}") from None
            raise
        expect(data, dict, "the answer")
        posts = expect(data.get("data", []), list, "data")
        meta = expect(data.get("meta", {}), dict, "meta")
        budget.read += len(posts)
        includes = data.get("includes") if isinstance(data.get("includes"), dict) else {}
        users = includes.get("users") if isinstance(includes.get("users"), list) else []
        usernames = {u.get("id"): u.get("username") for u in users
                     if isinstance(u, dict) and isinstance(u.get("username"), str)}
        followers = {u.get("id"): (u.get("public_metrics") or {}).get("followers_count") for u in users
                     if isinstance(u, dict) and isinstance(u.get("public_metrics"), dict)}
        items = [item for item in (post_to_item(p, usernames, ctx.now, followers) for p in posts
                                   if isinstance(p, dict)) if item is not None]
        return items, meta

    # -- the adapter contract ------------------------------------------------------------

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        query, cap = self._query(settings, ctx), self._cap(settings)
        cursor = cursor if isinstance(cursor, dict) else {}
        budget = Budget.of(cursor, cap, ctx.now)
        if budget.request_size() is None:
            raise budget.exhausted(ctx.now)
        same = cursor.get("query") == query
        newest = _id(cursor.get("newest_id")) if same else None
        pending = cursor.get("pending") if same and isinstance(cursor.get("pending"), dict) else None
        first = newest is None and pending is None
        since_id = _id(pending.get("since_id")) if pending else newest
        token = pending.get("next_token") if pending else None
        target = _id(pending.get("newest_id")) if pending else None
        items, done, complete, error = [], 0, False, None
        for _ in range(1 if first else MAX_PAGES):
            size = budget.request_size()
            if size is None:
                break
            params = {"query": query, "max_results": size}
            if since_id:
                params["since_id"] = since_id
            if isinstance(token, str) and token:
                params["next_token"] = token
            try:
                found, meta = self._page(settings, ctx, params, budget)
            except SourceError as exc:
                error = exc
                break
            done += 1
            items.extend(found)
            if target is None:  # the first page of a series holds its newest id
                target = _id(meta.get("newest_id"))
            token = meta.get("next_token")
            if not isinstance(token, str) or not token:
                complete = True
                break
        if done == 0 and error is not None:
            raise error
        if error is not None:
            log.warning("x: stopped early after %d requests: %s", done, error)
        state = {"query": query, "day": budget.day, "read": budget.read}
        if first or complete:
            top = newer(newest, target)
            return FetchResult(items=dedupe(items), cursor={**state, **({"newest_id": top} if top else {})})
        kept = {"newest_id": newest} if newest else {}
        return FetchResult(items=dedupe(items), cursor={
            **state, **kept, "pending": {"since_id": since_id, "next_token": token, "newest_id": target}})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        query, cap = self._query(settings, ctx), self._cap(settings)
        since, until = as_utc(since), as_utc(until)
        earliest = ctx.now - RECENT
        if since < earliest:
            raise SourceError("window", f"X recent search covers only the last 7 days (from "
                                        f"{iso_seconds(earliest)}); this window starts {iso_seconds(since)}")
        start, end = max(since, earliest + BOUNDARY_MARGIN), min(until, ctx.now - END_MARGIN)
        if end <= start:
            return finished()
        page = page if isinstance(page, dict) else {}
        budget = Budget.of(page, cap, ctx.now)
        size = budget.request_size()
        if size is None:
            raise budget.exhausted(ctx.now)
        params = {"query": query, "max_results": size, "start_time": iso_seconds(start),  # floor
                  "end_time": iso_seconds(from_epoch(epoch_ceil(end)))}
        if isinstance(page.get("next_token"), str) and page["next_token"]:
            params["next_token"] = page["next_token"]
        found, meta = self._page(settings, ctx, params, budget)
        items = in_window(found, since, until)
        token = meta.get("next_token")
        if isinstance(token, str) and token:
            following = {"next_token": token, "day": budget.day, "read": budget.read}
        else:
            following = {"done": True}
        return FetchResult(items=dedupe(items), cursor=following)
