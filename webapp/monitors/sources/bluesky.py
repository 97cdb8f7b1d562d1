"""Bluesky posts through `app.bsky.feed.searchPosts`, signed in with an app password.

Search is not open without an account any more (the public AppView answers 403), so the
adapter signs in with `com.atproto.server.createSession` ({identifier, password} ->
{accessJwt, refreshJwt, did, handle}) and keeps the session per process, keyed by (base
URL, identifier, a hash of the password: a cached session is never handed to settings that
carry a different password). The access token lives about two hours: it is renewed with
`com.atproto.server.refreshSession` (Bearer <refreshJwt>) shortly before its `exp`, or when
the server answers 400 {"error": "ExpiredToken"}; when the refresh fails too, a new session
is created. createSession is rate limited hard (30 per 5 minutes per account), hence the cache.

Query push-down: the source's `query` setting is sent as is; otherwise the monitor query
becomes up to MAX_SEARCHES conjunctive searches (words and "phrases"; see
pushdown.search_strings). Bluesky needs search words, so a query with none is an error.

Cursor: {"searches": {<q>: {"newest": <ISO sortAt of the newest post seen>}}}. A fetch asks
for `since = newest - OVERLAP` (the AppView indexes posts a little late), sort=latest, and
follows the answer's `cursor` for up to MAX_PAGES pages; a longer backlog is kept as
{"pending": {"since", "cursor", "newest"}} and continued by the next fetch before `newest`
moves on. The first fetch of a search takes one page. Backfill: since/until with the same
`cursor` paging, one page per call; page state {"search": <index>, "cursor": ...}.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from webapp.core.crypto import reveal
from webapp.monitors.sources.api_calls import error_name
from webapp.monitors.sources.http import get_json
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError,
)
from webapp.monitors.sources.http import expect
from webapp.monitors.sources.items import convert_all, dedupe, make_item
from webapp.monitors.sources.pushdown import MAX_SEARCHES, searches_for
from webapp.monitors.sources.settings_checks import clean_base_url, clean_text, settings_object, with_optional
from webapp.core.times import iso_millis, parse_time
from webapp.monitors.sources.windows import finished, list_index, next_in_list, sweep_searches, window_start

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bsky.social"
WEB_URL = "https://bsky.app/profile/{}/post/{}"
LIMIT = 100
MAX_PAGES = 10  # per fetch, shared by the searches
OVERLAP = timedelta(minutes=2)
REFRESH_MARGIN = timedelta(seconds=60)
EXPIRED = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})


@dataclass(frozen=True)
class Session:
    access: str
    refresh: str
    did: str
    handle: str


_SESSIONS: dict[tuple[str, str, str], Session] = {}
_LOCK = threading.Lock()


def clear_sessions() -> None:
    """Forget every cached session (tests; a changed password needs no call: it is in the key)."""
    with _LOCK:
        _SESSIONS.clear()


def token_expiry(token: str) -> datetime | None:
    """The `exp` of a JWT (read, not verified: only to renew it in time); None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(claims["exp"], tz=timezone.utc)
    except (IndexError, ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


def _session_from(data) -> Session:
    expect(data, dict, "the session")
    fields = [data.get(k) for k in ("accessJwt", "refreshJwt", "did", "handle")]
    if not all(isinstance(v, str) and v for v in fields):
        raise SourceError("parse", "unexpected answer: the session lacks its tokens")
    return Session(*fields)


class _Client:
    """XRPC calls for one (base URL, identifier, password), with the cached session."""

    def __init__(self, ctx: FetchContext, settings: dict):
        self.ctx = ctx
        self.base = settings.get("base_url") or DEFAULT_BASE_URL
        self.identifier = settings.get("identifier")
        self.password = reveal(settings.get("app_password"))  # stored sealed (webapp.core.crypto)
        if not isinstance(self.identifier, str) or not self.identifier:
            raise SourceError("settings", "the source has no Bluesky identifier")
        if not isinstance(self.password, str) or not self.password:
            raise SourceError("settings", "the source has no Bluesky app password")
        digest = hashlib.sha256(self.password.encode("utf-8")).hexdigest()
        self.key = (self.base, self.identifier.lower(), digest)

    def _store(self, session: Session | None) -> Session | None:
        with _LOCK:
            if session is None:
                _SESSIONS.pop(self.key, None)
            else:
                _SESSIONS[self.key] = session
        return session

    def create(self) -> Session:
        body = json.dumps({"identifier": self.identifier, "password": self.password}).encode()
        try:
            data, _ = get_json(self.ctx, f"{self.base}/xrpc/com.atproto.server.createSession",
                                method="POST", body=body, headers={"Content-Type": "application/json"})
        except SourceError as exc:
            self._store(None)
            if exc.code in ("http_400", "http_401"):
                name = error_name(exc) or exc.code
                raise SourceError("auth", f"Bluesky refused the identifier or app password "
                                          f"({name})") from None
            raise
        return self._store(_session_from(data))

    def refresh(self, session: Session) -> Session:
        """A renewed session, or a new one when the refresh token is no good any more."""
        try:
            data, _ = get_json(self.ctx, f"{self.base}/xrpc/com.atproto.server.refreshSession",
                                method="POST", headers={"Authorization": f"Bearer {session.refresh}"})
        except SourceError as exc:
            if exc.code in ("http_400", "http_401"):
                return self.create()
            raise
        return self._store(_session_from(data))

    def session(self) -> Session:
        with _LOCK:
            session = _SESSIONS.get(self.key)
        if session is None:
            return self.create()
        expiry = token_expiry(session.access)
        if expiry is not None and self.ctx.now >= expiry - REFRESH_MARGIN:
            return self.refresh(session)
        return session

    def get(self, method: str, params: dict) -> dict:
        session = self.session()
        for attempt in (1, 2):
            try:
                data, _ = get_json(self.ctx, f"{self.base}/xrpc/{method}", params=params,
                                    headers={"Authorization": f"Bearer {session.access}"})
                return expect(data, dict, "the answer")
            except SourceError as exc:
                expired = exc.code in ("http_400", "http_401") and error_name(exc) in EXPIRED
                if not expired or attempt == 2:
                    raise
                session = self.refresh(session)
        raise AssertionError("unreachable")


def post_url(uri: str, author: dict) -> str | None:
    """https://bsky.app/profile/<handle or did>/post/<rkey> for an at:// post URI."""
    parts = uri.split("/")
    if len(parts) != 5 or parts[0] != "at:" or parts[3] != "app.bsky.feed.post" or not parts[4]:
        return None
    handle = author.get("handle")
    who = handle if isinstance(handle, str) and handle and handle != "handle.invalid" else parts[2]
    return WEB_URL.format(who, parts[4])


def post_to_item(post: dict, now: datetime | None = None) -> tuple[FetchedItem | None, datetime | None]:
    """(a PostView as a FetchedItem or None, its sortAt: the earlier of createdAt and indexedAt)."""
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    created, indexed = parse_time(record.get("createdAt")), parse_time(post.get("indexedAt"))
    sort_at = min((t for t in (created, indexed) if t is not None), default=None)
    uri = post.get("uri")
    if not isinstance(uri, str) or not isinstance(record.get("text"), str):
        return None, sort_at
    item = make_item(uri, record["text"], author.get("handle"), post_url(uri, author),
                     created or indexed, now,
                     engaged=tuple(post.get(k) for k in ("likeCount", "repostCount", "replyCount", "quoteCount")))
    return item, sort_at


class BlueskyAdapter(SourceAdapter):
    kind = "bluesky"
    label = "Bluesky search"
    help = ("Posts from Bluesky's search. Needs an account: its handle and an app password (Settings "
            "→ Privacy and security → App passwords), never the account password.")
    default_every = 300
    min_every = 60
    fields = (
        SettingField("identifier", "Handle or email", True,
                     "The account that searches, e.g. you.bsky.social."),
        SettingField("app_password", "App password", True,
                     "An app password (Settings > Privacy and security > App passwords).", secret=True),
        SettingField("query", "Search", False, "Sent to Bluesky search as is. Empty: the monitor's query."),
        SettingField("base_url", "Service URL", False,
                     f"The account's PDS or entryway (default {DEFAULT_BASE_URL})."),
    )
    supports_backfill = True

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        identifier = clean_text(settings.get("identifier"), "identifier", "The handle or email", 253,
                                required=True)
        identifier = identifier.lstrip("@")
        if not identifier or any(ch.isspace() for ch in identifier):
            raise SourceSettingsError("identifier",
                                      "the handle or email must be one word, e.g. you.bsky.social")
        password = settings.get("app_password")
        if not isinstance(password, str) or not password.strip():
            raise SourceSettingsError("app_password", "the app password is required")
        if len(password.strip()) > 256:
            raise SourceSettingsError("app_password", "the app password is longer than 256 characters")
        clean = {"identifier": identifier, "app_password": password.strip()}
        query = clean_text(settings.get("query"), "query", "The search", 512)
        base = clean_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    # -- requests ------------------------------------------------------------------------

    def _searches(self, settings: dict, ctx: FetchContext) -> list[str]:
        searches = searches_for(settings, ctx, MAX_SEARCHES)
        if not any(searches):
            raise SourceError("settings", "Bluesky search needs words: give the monitor a query with "
                                          "a word or phrase, or set the source's search")
        return searches

    def _page(self, client: _Client, q: str, **params):
        """(items, sortAt times, next cursor or None) of one searchPosts call."""
        data = client.get("app.bsky.feed.searchPosts",
                          {"q": q, "limit": LIMIT, "sort": "latest", **params})
        posts = expect(data.get("posts"), list, "posts")
        items, times = convert_all(posts, post_to_item, client.ctx.now)
        token = data.get("cursor")
        return items, times, (token if isinstance(token, str) and token and posts else None)

    def _sweep(self, client: _Client, q: str, state: dict, pages: int):
        """One search's new posts: (items, new state, requests done, error or None)."""
        newest = parse_time(state.get("newest"))
        pending = state.get("pending") if isinstance(state.get("pending"), dict) else None
        first = newest is None and pending is None
        if pending:
            since, token = pending.get("since"), pending.get("cursor")
            target = parse_time(pending.get("newest"))
        else:
            since = iso_millis(newest - OVERLAP) if newest else None
            token, target = None, None
        items, seen, done, complete, error = [], [], 0, False, None
        for _ in range(1 if first else pages):
            params = {k: v for k, v in (("since", since), ("cursor", token)) if isinstance(v, str)}
            try:
                found, times, token = self._page(client, q, **params)
            except SourceError as exc:
                error = exc
                break
            done += 1
            items.extend(found)
            seen.extend(times)
            if token is None:
                complete = True
                break
        if not done:
            return [], state, 0, error
        top = max((t for t in (newest, target, *seen) if t is not None), default=None)
        if first:
            return items, {"newest": iso_millis(top or client.ctx.now)}, done, error
        if complete:
            return items, {"newest": iso_millis(top)}, done, error
        kept = {"newest": iso_millis(newest)} if newest else {}
        return items, {**kept, "pending": {"since": since, "cursor": token,
                                           "newest": iso_millis(top) if top else None}}, done, error

    # -- the adapter contract ------------------------------------------------------------

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        searches = self._searches(settings, ctx)
        client = _Client(ctx, settings)
        cursor = cursor if isinstance(cursor, dict) else {}
        stored = cursor.get("searches") if isinstance(cursor.get("searches"), dict) else {}
        items, states = sweep_searches(
            searches, lambda q: stored.get(q) if isinstance(stored.get(q), dict) else {},
            lambda q, state, pages: self._sweep(client, q, state, pages),
            max_pages=MAX_PAGES, log=log, what="bluesky")
        return FetchResult(items=dedupe(items), cursor={"searches": states})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        settings = settings or {}
        searches = self._searches(settings, ctx)
        since, until, page = window_start(since, until, page)
        index = list_index(page, "search")
        if index >= len(searches) or since >= until:
            return finished()
        params = {"since": iso_millis(since), "until": iso_millis(until)}
        if isinstance(page.get("cursor"), str):
            params["cursor"] = page["cursor"]
        found, _, token = self._page(_Client(ctx, settings), searches[index], **params)
        if token is not None:
            following = {"search": index, "cursor": token}
        else:
            following = next_in_list(index, len(searches), "search")
        return FetchResult(items=dedupe(found), cursor=following)
