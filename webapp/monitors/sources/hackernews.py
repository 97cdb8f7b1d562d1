"""Hacker News stories and comments through the Algolia HN Search API (`search_by_date`).

The API is public (no key; about 10,000 requests an hour per IP) and answers newest first,
`hitsPerPage` hits per page, and never more than 1,000 hits per query. So instead of deep
`page` numbers, a long sweep narrows its time bound: each next page asks for
`created_at_i <= <oldest seen>` (and only steps `page` when a whole page shares one second).

Query push-down: the source's `query` setting is sent to Algolia as is; otherwise the
monitor query becomes up to MAX_SEARCHES conjunctive searches (Algolia ANDs words and has no
OR; see pushdown.search_strings), each with its own cursor. An empty query searches all.

Cursor: {"tags": "both", "searches": {<search string>: {"newest": <created_at_i>}}}. Each fetch
reads `created_at_i > newest - OVERLAP` (Algolia indexes items a little after they are
posted; the database drops the repeats), up to MAX_PAGES pages. If more remain, the search's
state keeps {"pending": {"upper", "page", "newest"}} and the next fetch continues the same
sweep before moving `newest` on, so nothing in between is skipped. The first fetch of a
search takes one recent page. A failure after some pages returns what was read (the
cursor resumes there); a failure before any page raises.

Backfill: `created_at_i >= since AND created_at_i <= upper`, one page per call; page state
{"search": <index>, "upper": <created_at_i>, "page": n}.
"""
from __future__ import annotations

import logging
from datetime import datetime

from webapp.monitors.sources.http import get_json
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
)
from webapp.monitors.sources.http import expect
from webapp.monitors.sources.items import convert_all, dedupe, make_item
from webapp.monitors.sources.pushdown import MAX_SEARCHES, searches_for
from webapp.monitors.sources.settings_checks import (
    clean_base_url, clean_choice, clean_text, settings_object, with_optional,
)
from webapp.monitors.sources.text import collapse_whitespace, html_to_text
from webapp.core.times import epoch_ceil, epoch_floor, from_epoch, parse_time
from webapp.monitors.sources.windows import (
    finished, in_window, list_index, next_in_list, sweep_searches, window_start,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://hn.algolia.com"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
HITS_PER_PAGE = 100
MAX_PAGES = 10  # per fetch, shared by the searches
OVERLAP = 120  # seconds re-read below the cursor
TAGS = {"story": "story", "comment": "comment", "both": "(story,comment)"}


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def hit_to_item(hit: dict, now: datetime | None = None) -> tuple[FetchedItem | None, int | None]:
    """(the hit as a FetchedItem or None, its created_at_i or None)."""
    key = _int(hit.get("created_at_i"))
    published = from_epoch(key) if key is not None else parse_time(hit.get("created_at"))
    if key is None and published is not None:
        key = epoch_floor(published)
    object_id = hit.get("objectID")
    title = hit.get("title") if isinstance(hit.get("title"), str) else ""
    body = hit.get("story_text") or hit.get("comment_text")
    text = "\n".join(part for part in (collapse_whitespace(title),
                                       html_to_text(body if isinstance(body, str) else ""))
                     if part)
    url = hit.get("url") if isinstance(hit.get("url"), str) and hit.get("url") else None
    if url is None and isinstance(object_id, (str, int)):
        url = ITEM_URL.format(object_id)
    item = make_item(object_id, text, hit.get("author"), url, published, now,
                     engaged=(hit.get("points"), hit.get("num_comments")))
    return item, key


def _valid_state(state) -> dict:
    """A search's stored state if it has the expected shape, else {} (start afresh)."""
    if not isinstance(state, dict):
        return {}
    newest, pending = _int(state.get("newest")), state.get("pending")
    clean = {} if newest is None else {"newest": newest}
    if isinstance(pending, dict) and _int(pending.get("page")) is not None and (
            pending.get("upper") is None or _int(pending.get("upper")) is not None):
        clean["pending"] = {"upper": pending.get("upper"), "page": pending["page"],
                            "newest": _int(pending.get("newest"))}
    return clean


class HackerNewsAdapter(SourceAdapter):
    kind = "hackernews"
    label = "Hacker News (stories and comments)"
    help = "Stories and comments from Hacker News through Algolia's free search API; no key needed."
    default_every = 300
    min_every = 60
    fields = (
        SettingField("query", "Search", False,
                     "Sent to Hacker News search as is. Empty: the monitor's query."),
        SettingField("tags", "Items", False, "story, comment or both (default both)."),
        SettingField("base_url", "API base URL", False,
                     f"For a mirror or a test server (default {DEFAULT_BASE_URL})."),
    )
    supports_backfill = True

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {"tags": clean_choice(settings.get("tags"), "tags", tuple(TAGS), "both")}
        query = clean_text(settings.get("query"), "query", "The search", 512)
        base = clean_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    # -- requests ------------------------------------------------------------------------

    def _searches(self, settings: dict, ctx: FetchContext) -> list[str]:
        return searches_for(settings, ctx, MAX_SEARCHES)

    def _page(self, settings: dict, ctx: FetchContext, search: str, filters: list[str],
              page: int) -> tuple[list[FetchedItem], list[int], bool]:
        """(items, created_at_i of every hit, whether more pages follow) of one request."""
        tags = TAGS.get((settings or {}).get("tags") or "both", TAGS["both"])
        base = (settings or {}).get("base_url") or DEFAULT_BASE_URL
        params = {"query": search, "tags": tags, "hitsPerPage": HITS_PER_PAGE, "page": page}
        if filters:
            params["numericFilters"] = ",".join(filters)
        data, _ = get_json(ctx, base + SEARCH_PATH, params=params)
        expect(data, dict, "the answer")
        hits = expect(data.get("hits"), list, "hits")
        items, keys = convert_all(hits, hit_to_item, ctx.now)
        pages = _int(data.get("nbPages"))
        more = len(hits) >= HITS_PER_PAGE and (pages is None or page + 1 < pages)
        return items, keys, more

    def _sweep(self, settings, ctx, search, state, pages):
        """Read one search's new items; returns (items, new state, requests done, error)."""
        newest, pending = state.get("newest"), state.get("pending")
        first = newest is None and pending is None
        lower = None if newest is None else newest - OVERLAP
        upper, page = (pending["upper"], pending["page"]) if pending else (None, 0)
        target = pending.get("newest") if pending else None
        items, seen, done, complete, error = [], [], 0, False, None
        for _ in range(1 if first else pages):
            filters = [f"created_at_i>{lower}"] if lower is not None else []
            if upper is not None:
                filters.append(f"created_at_i<={upper}")
            try:
                page_items, keys, more = self._page(settings, ctx, search, filters, page)
            except SourceError as exc:
                error = exc
                break
            done += 1
            items.extend(page_items)
            seen.extend(keys)
            if not more or not keys:
                complete = True
                break
            oldest = min(keys)
            upper, page = (oldest, 0) if upper is None or oldest < upper else (upper, page + 1)
        if not done:
            return [], state, 0, error
        top = max((k for k in (newest, target, *seen) if k is not None), default=None)
        if first:
            return items, {"newest": top if top is not None else epoch_floor(ctx.now)}, done, error
        if complete:
            return items, {"newest": top}, done, error
        return items, {"newest": newest,
                       "pending": {"upper": upper, "page": page, "newest": top}}, done, error

    # -- the adapter contract ------------------------------------------------------------

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        tags = settings.get("tags") or "both"
        searches = self._searches(settings, ctx)
        cursor = cursor if isinstance(cursor, dict) else {}
        stored = cursor.get("searches") if cursor.get("tags") == tags else None
        stored = stored if isinstance(stored, dict) else {}
        items, states = sweep_searches(
            searches, lambda search: _valid_state(stored.get(search)),
            lambda search, state, pages: self._sweep(settings, ctx, search, state, pages),
            max_pages=MAX_PAGES, log=log, what="hackernews")
        return FetchResult(items=dedupe(items), cursor={"tags": tags, "searches": states})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        searches = self._searches(settings or {}, ctx)
        since, until, page = window_start(since, until, page)
        index = list_index(page, "search")
        if index >= len(searches) or since >= until:
            return finished()
        top = epoch_ceil(until) - 1  # created_at_i < until
        upper = _int(page.get("upper"))
        upper = top if upper is None else min(upper, top)
        number = _int(page.get("page")) or 0
        filters = [f"created_at_i>={epoch_floor(since)}", f"created_at_i<={upper}"]
        items, keys, more = self._page(settings or {}, ctx, searches[index], filters, number)
        items = in_window(items, since, until)
        if more and keys:
            oldest = min(keys)
            following = ({"search": index, "upper": oldest, "page": 0} if oldest < upper
                         else {"search": index, "upper": upper, "page": number + 1})
        else:
            following = next_in_list(index, len(searches), "search")
        return FetchResult(items=dedupe(items), cursor=following)
