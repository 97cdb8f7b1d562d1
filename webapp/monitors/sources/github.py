"""GitHub issue and pull-request search (`GET /search/issues`), on github.com or GitHub Enterprise.

Search returns 100 results per page and reaches only the first 1,000 results of a query, so
every query is bounded by a `created:` range and history is read in ranges that move back in
time whenever a range holds more. Rate limits: the primary limit (403/429 with
x-ratelimit-remaining: 0, until x-ratelimit-reset) and secondary limits (403/429 with
Retry-After, or a "secondary rate limit" message: wait a minute) are SourceError('rate_limited').

Query push-down: the monitor query's positive terms (an OR list of at most 6 terms, GitHub
allows five operators), the source's `query` setting (qualifiers such as repo:owner/name or
is:issue pass through unchanged), and the created: range.

Cursor of `fetch`: {"newest": ISO created_at of the newest item seen}. The first fetch takes
the newest page of the last FIRST_SPAN; later fetches read created:>=newest oldest first, up
to MAX_PAGES pages, so a backlog is caught up over several fetches and nothing is skipped.
Backfill page state: {"page": n, "until": ISO end of the current range}.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

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
from webapp.monitors.sources.items import engagement, external_id
from webapp.monitors.sources.rss import web_url
from webapp.monitors.sources.settings_checks import (
    check_base_url, settings_object, text_setting, with_optional,
)
from webapp.monitors.sources.text import collapse_whitespace, truncate
from webapp.core.times import parse_time
from webapp.monitors.sources.windows import finished, latest_published

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 3  # per scheduled fetch
SEARCH_CAP = 1000  # results a search query can reach
MAX_OR_TERMS = 6
FIRST_SPAN = timedelta(days=1)
SECONDARY_WAIT = 60.0
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


def gh_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def has_next(link_header: str | None) -> bool:
    """Whether a Link header offers rel="next"."""
    return bool(link_header and _NEXT.search(link_header))


def error_message(content: bytes) -> str:
    """GitHub's `message` and the `errors[].message` details of an error body."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return content[:200].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return ""
    parts = [data.get("message")] if isinstance(data.get("message"), str) else []
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            detail = err.get("message") or " ".join(str(err.get(k)) for k in ("field", "code") if err.get(k))
            if detail:
                parts.append(str(detail))
        elif isinstance(err, str):
            parts.append(err)
    return "; ".join(parts)[:400]


def check_answer(ctx: FetchContext, response) -> None:
    if response.status < 400:
        return
    message = error_message(response.content)
    if response.status in (403, 429):
        wait = retry_after_seconds(response.headers, ctx.now)
        remaining = (response.headers.get("x-ratelimit-remaining") or "").strip()
        if remaining == "0" or wait is not None or "rate limit" in message.lower():
            raise SourceError("rate_limited", f"GitHub: {message or 'rate limited'}",
                              retry_after=wait if wait is not None else SECONDARY_WAIT)
    if message:
        raise SourceError(f"http_{response.status}", f"GitHub answered HTTP {response.status}: {message}")
    raise_for_status(ctx, response, "GitHub")


def issue_item(entry, now: datetime) -> FetchedItem | None:
    if not isinstance(entry, dict):
        return None
    title, body = entry.get("title"), entry.get("body")
    parts = [collapse_whitespace(p) for p in (title, body) if isinstance(p, str)]
    text = truncate("\n".join(p for p in parts if p), FETCHED_TEXT)
    url = web_url(entry.get("html_url"))
    ident = url or (str(entry["id"]) if isinstance(entry.get("id"), (int, str)) else None)
    if not text or not ident:
        return None
    user = entry.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return FetchedItem(
        external_id=external_id(ident), text=text,
        author=clamp(login, MAX_AUTHOR) if isinstance(login, str) else None,
        url=url, published_at=parse_time(entry.get("created_at"), now),
        engagement=engagement(entry.get("comments"), (entry.get("reactions") or {}).get("total_count")
                              if isinstance(entry.get("reactions"), dict) else None),
    )


class GithubAdapter(SourceAdapter):
    kind = "github"
    label = "GitHub issues and pull requests"
    help = ("Issues, pull requests and comments found by GitHub's search. Needs a personal access "
            "token (read-only public access is enough).")
    default_every = 900
    min_every = 300
    supports_backfill = True
    fields = (
        SettingField("token", "Access token", True,
                     "A GitHub token (a fine-grained token with no extra permissions is enough "
                     "for public repositories).", secret=True),
        SettingField("query", "Search qualifiers", False,
                     "Extra GitHub search terms and qualifiers, e.g. repo:owner/name is:issue, "
                     "added to the monitor's query."),
        SettingField("base_url", "API address", False,
                     f"Default {DEFAULT_BASE_URL}; GitHub Enterprise: https://HOST/api/v3."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {"token": text_setting(settings, "token", "The access token", 500, required=True)}
        query = text_setting(settings, "query", "The search qualifiers", 500)
        base = check_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    def _search(self, settings: dict, ctx: FetchContext, created: str, order: str, page: int):
        """(items, total_count, results on the page, more pages?) of one search request."""
        settings = settings or {}
        if not settings.get("token"):
            raise SourceError("settings", "the source has no GitHub token")
        terms = pushdown.flat(pushdown.clauses(ctx.monitor_query), " OR ", max_or=MAX_OR_TERMS)
        if not terms and not settings.get("query"):
            raise SourceError("settings", "GitHub search needs terms: give the monitor a query or "
                                          "set the source's search qualifiers")
        params = {"q": pushdown.combine(terms, settings.get("query"), f"created:{created}"),
                  "sort": "created", "order": order, "per_page": PER_PAGE, "page": page}
        headers = {"Authorization": f"Bearer {reveal(settings['token'])}",  # stored sealed
                   "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        base = settings.get("base_url") or DEFAULT_BASE_URL
        response = send(ctx, f"{base}/search/issues", params=params, headers=headers)
        check_answer(ctx, response)
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise SourceError("parse", f"the GitHub answer is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise SourceError("parse", "unexpected GitHub answer: no list of items")
        total = data.get("total_count")
        total = total if isinstance(total, int) and not isinstance(total, bool) else 0
        items = [i for i in (issue_item(e, ctx.now) for e in data["items"]) if i]
        count = len(data["items"])
        return items, total, count, has_next(response.headers.get("Link")) and count > 0

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        newest = parse_time((cursor or {}).get("newest"))
        if newest is None:  # a new source: only the newest page of the recent past
            items, _, _, _ = self._search(settings, ctx, f">={gh_time(ctx.now - FIRST_SPAN)}", "desc", 1)
        else:
            items, page = [], 1
            while True:
                more, _, _, following = self._search(settings, ctx, f">={gh_time(newest)}", "asc", page)
                items.extend(more)
                if not following or page >= MAX_PAGES:
                    break
                page += 1
        latest = latest_published(items, newest)
        return FetchResult(items=items, cursor={"newest": latest.isoformat()} if latest else {})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        page = page or {}
        end = parse_time(page.get("until")) or until - timedelta(seconds=1)  # created: is inclusive
        number = page.get("page") if isinstance(page.get("page"), int) else 1
        number = max(1, min(number, SEARCH_CAP // PER_PAGE))
        if end < since:
            return finished()
        items, total, count, following = self._search(
            settings, ctx, f"{gh_time(since)}..{gh_time(end)}", "desc", number)
        reached = (number - 1) * PER_PAGE + count
        if following and number * PER_PAGE < SEARCH_CAP:
            return FetchResult(items=items, cursor={"page": number + 1, "until": end.isoformat()})
        if total > reached and items:
            # The range holds more than search can reach: continue with the range that ends
            # at the oldest item seen (inclusive, since several items share a second).
            oldest = min((i.published_at for i in items if i.published_at), default=since)
            following_end = oldest if oldest < end else end - timedelta(seconds=1)
            if following_end >= since:
                return FetchResult(items=items, cursor={"page": 1, "until": following_end.isoformat()})
        return finished(items)
