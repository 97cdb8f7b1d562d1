"""Loopback fakes of the social services the hackernews, mastodon, bluesky and x adapters call.

Each fake is a small in-memory model of one API, answering on 127.0.0.1 with payloads shaped
like the real service's (field names, nesting, pagination tokens, error bodies, rate-limit
headers), written from the public API documentation:
- Algolia HN Search `GET /api/v1/search_by_date` (hits, nbHits, nbPages, page, hitsPerPage);
- Mastodon `GET /api/v1/timelines/tag/:hashtag` (Status entities, Link pagination headers,
  X-RateLimit-* with an ISO 8601 reset);
- Bluesky XRPC `com.atproto.server.createSession` / `refreshSession` and
  `app.bsky.feed.searchPosts` (PostViews, cursor, {"error", "message"} bodies, 400
  ExpiredToken, atproto's RateLimit-* headers with an epoch reset);
- X API v2 `GET /2/tweets/search/recent` (data / includes.users / meta, next_token that does
  not expire, problem-JSON errors, x-rate-limit-* headers, max_results 10..100).

`server.queue` holds canned replies served (one per request) before the model answers: the
tests inject 429s, 5xx, malformed and oversized bodies with it.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlencode

from tests.fake_http import NOW, LoopbackServer
from webapp.core.query import compile_query


def iso(when: datetime, millis: bool = True) -> str:
    when = when.astimezone(timezone.utc)
    if millis:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


# -- the server --------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def arg(self, name: str, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: object = b""
    headers: dict = field(default_factory=dict)


class FakeServer(LoopbackServer):
    """A loopback HTTP server (fake_http.LoopbackServer) that hands every request to `self.handle`."""

    protocol_version = "HTTP/1.1"
    poll_interval = 0.02

    def __init__(self):
        super().__init__()
        self.requests: list[Request] = []
        self.queue: list[Reply] = []
        self.lock = threading.Lock()

    def respond(self, method, parts, headers, body):
        request = Request(method, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                          headers, body)
        with self.lock:
            self.requests.append(request)
            reply = self.queue.pop(0) if self.queue else None
        if reply is None:
            reply = self.handle(request)
        return reply.status, reply.headers, reply.body

    def handle(self, request: Request) -> Reply:  # overridden by the fakes
        return Reply(404, {"error": "not found"})

    def calls(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def running(fake: FakeServer):
    fake.start()
    try:
        yield fake
    finally:
        fake.close()


def words_match(query: str, text: str) -> bool:
    """All words of a plain search (quotes ignored) occur in `text`, case-insensitively."""
    text = text.lower()
    return all(word in text for word in re.findall(r"[\w#@]+", query.lower()))


# -- Hacker News (Algolia) ---------------------------------------------------------------

def hn_story(object_id: int, when: datetime, title: str, url: str | None = None,
             story_text: str | None = None, author: str = "pg") -> dict:
    return {"_highlightResult": {"title": {"value": title, "matchLevel": "none", "matchedWords": []}},
            "_tags": ["story", f"author_{author}", f"story_{object_id}"],
            "author": author, "children": [], "created_at": iso(when, millis=False),
            "created_at_i": int(when.timestamp()), "num_comments": 0, "objectID": str(object_id),
            "points": 1, "story_id": object_id, "story_text": story_text, "title": title,
            "updated_at": iso(when), "url": url}


def hn_comment(object_id: int, when: datetime, comment_text: str, story_id: int = 1,
               parent_id: int | None = None, author: str = "dang") -> dict:
    return {"_highlightResult": {"comment_text": {"value": comment_text, "matchLevel": "none"}},
            "_tags": ["comment", f"author_{author}", f"story_{story_id}"],
            "author": author, "comment_text": comment_text, "created_at": iso(when, millis=False),
            "created_at_i": int(when.timestamp()), "objectID": str(object_id),
            "parent_id": parent_id or story_id, "story_id": story_id,
            "story_title": "A story", "story_url": "https://example.com/story",
            "updated_at": iso(when)}


class FakeHackerNews(FakeServer):
    PATH = "/api/v1/search_by_date"
    PAGINATION_LIMIT = 1000

    def __init__(self, hits: list[dict] | None = None):
        super().__init__()
        self.hits = list(hits or [])

    @staticmethod
    def _tags_match(tags: str, hit_tags: list[str]) -> bool:
        for group in re.findall(r"\([^)]*\)|[^,()]+", tags or ""):
            options = group.strip("()").split(",")
            if not any(o.strip() in hit_tags for o in options if o.strip()):
                return False
        return True

    @staticmethod
    def _numeric(filters: str, hit: dict):
        for part in filter(None, (filters or "").split(",")):
            match = re.fullmatch(r"\s*(\w+)\s*(<=|>=|<|>|=)\s*(-?\d+)\s*", part)
            if not match:
                return None  # a syntax error
            name, op, value = match.group(1), match.group(2), int(match.group(3))
            have = hit.get(name)
            ok = {"<": have < value, "<=": have <= value, ">": have > value,
                  ">=": have >= value, "=": have == value}[op]
            if not ok:
                return False
        return True

    def handle(self, request: Request) -> Reply:
        if request.path != self.PATH:
            return Reply(404, {"message": "Not Found", "status": 404})
        query = request.arg("query", "")
        per_page = int(request.arg("hitsPerPage", "20"))
        page = int(request.arg("page", "0"))
        filters = request.arg("numericFilters", "")
        found = []
        for hit in self.hits:
            numeric = self._numeric(filters, hit)
            if numeric is None:
                return Reply(400, {"message": f"invalid numeric filter: {filters}", "status": 400})
            text = " ".join(str(hit.get(k) or "") for k in ("title", "story_text", "comment_text", "author", "url"))
            if numeric and self._tags_match(request.arg("tags", ""), hit["_tags"]) and words_match(query, text):
                found.append(hit)
        found.sort(key=lambda h: h["created_at_i"], reverse=True)
        reachable = found[: self.PAGINATION_LIMIT]
        pages = -(-len(reachable) // per_page)
        return Reply(200, {
            "exhaustive": {"nbHits": True, "typo": True}, "exhaustiveNbHits": True,
            "exhaustiveTypo": True, "hits": reachable[page * per_page:(page + 1) * per_page],
            "hitsPerPage": per_page, "nbHits": len(found), "nbPages": pages, "page": page,
            "params": urlencode({k: v[0] for k, v in request.query.items()}),
            "processingTimeMS": 1, "query": query, "serverTimeMS": 2})


# -- Mastodon -----------------------------------------------------------------------------

def mastodon_status(status_id: int, when: datetime, content: str, acct: str = "alice",
                    domain: str = "social.example", tags=("acme",), spoiler_text: str = "",
                    uri: str | None = None, reblog: dict | None = None) -> dict:
    user = acct.split("@")[0]
    home = acct.split("@")[1] if "@" in acct else domain
    uri = uri or f"https://{home}/users/{user}/statuses/{status_id}"
    return {"id": str(status_id), "created_at": iso(when), "in_reply_to_id": None,
            "in_reply_to_account_id": None, "sensitive": bool(spoiler_text),
            "spoiler_text": spoiler_text, "visibility": "public", "language": "en", "uri": uri,
            "url": f"https://{home}/@{user}/{status_id}", "replies_count": 0,
            "reblogs_count": 0, "favourites_count": 0, "edited_at": None, "content": content,
            "reblog": reblog, "application": None,
            "account": {"id": "1", "username": user, "acct": acct, "display_name": user.title(),
                        "url": f"https://{home}/@{user}"},
            "media_attachments": [], "mentions": [],
            "tags": [{"name": t, "url": f"https://{domain}/tags/{t}"} for t in tags],
            "emojis": [], "card": None, "poll": None}


class FakeMastodon(FakeServer):
    PREFIX = "/api/v1/timelines/tag/"

    def __init__(self, statuses: list[dict] | None = None):
        super().__init__()
        self.statuses = list(statuses or [])

    @staticmethod
    def _tags(status: dict) -> set[str]:
        inner = status.get("reblog") or status
        return {t["name"].lower() for t in inner.get("tags", [])}

    def handle(self, request: Request) -> Reply:
        if not request.path.startswith(self.PREFIX):
            return Reply(404, {"error": "Record not found"})
        tag = request.path[len(self.PREFIX):].lower()
        limit = min(int(request.arg("limit", "20")), 40)
        rows = sorted((s for s in self.statuses if tag in self._tags(s)),
                      key=lambda s: int(s["id"]), reverse=True)
        max_id, since_id, min_id = (request.arg(n) for n in ("max_id", "since_id", "min_id"))
        if max_id:
            rows = [s for s in rows if int(s["id"]) < int(max_id)]
        if since_id:
            rows = [s for s in rows if int(s["id"]) > int(since_id)]
        if min_id:  # the statuses immediately newer than min_id, still newest first
            rows = sorted((s for s in rows if int(s["id"]) > int(min_id)), key=lambda s: int(s["id"]))
            rows = list(reversed(rows[:limit]))
        rows = rows[:limit]
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                   "X-RateLimit-Reset": (NOW + timedelta(minutes=5)).isoformat()}
        if rows:
            own = f"{self.base_url}{self.PREFIX}{tag}"
            headers["Link"] = (f'<{own}?limit={limit}&max_id={rows[-1]["id"]}>; rel="next", '
                               f'<{own}?limit={limit}&min_id={rows[0]["id"]}>; rel="prev"')
        return Reply(200, rows, headers)


# -- Bluesky ------------------------------------------------------------------------------

def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bsky_post(rkey: str, text: str, when: datetime, handle: str = "alice.bsky.social",
              did: str = "did:plc:alice", indexed: datetime | None = None) -> dict:
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": f"bafyreib{rkey.lower():0<20}",
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(),
                       "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/x@jpeg",
                       "labels": [], "createdAt": "2023-04-01T00:00:00.000Z"},
            "record": {"$type": "app.bsky.feed.post", "createdAt": iso(when), "langs": ["en"],
                       "text": text},
            "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
            "indexedAt": iso(indexed or when), "labels": []}


class FakeBluesky(FakeServer):
    CREATE = "/xrpc/com.atproto.server.createSession"
    REFRESH = "/xrpc/com.atproto.server.refreshSession"
    SEARCH = "/xrpc/app.bsky.feed.searchPosts"

    def __init__(self, posts: list[dict] | None = None, identifier: str = "alice.bsky.social",
                 password: str = "abcd-efgh-ijkl-mnop", now: datetime = NOW):
        super().__init__()
        self.posts = list(posts or [])
        self.identifier, self.password, self.now = identifier, password, now
        self.access: dict[str, bool] = {}  # token -> still valid
        self.refresh: set[str] = set()
        self.serial = 0

    def _jwt(self, scope: str, lifetime: timedelta) -> str:
        self.serial += 1
        payload = {"scope": scope, "sub": "did:plc:alice", "aud": "did:web:bsky.social",
                   "iat": int(self.now.timestamp()), "jti": str(self.serial),
                   "exp": int((self.now + lifetime).timestamp())}
        return f"{_b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{_b64(payload)}.{_b64(b'sig')}"

    def expire_access_tokens(self):
        for token in self.access:
            self.access[token] = False

    def _session(self) -> dict:
        access = self._jwt("com.atproto.appPass", timedelta(hours=2))
        refresh = self._jwt("com.atproto.refresh", timedelta(days=90))
        self.access[access] = True
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": "alice.bsky.social",
                "did": "did:plc:alice", "email": "alice@example.com", "emailConfirmed": True,
                "emailAuthFactor": False, "active": True}

    def _headers(self) -> dict:
        return {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999",
                "RateLimit-Reset": str(int(self.now.timestamp()) + 300),
                "RateLimit-Policy": "3000;w=300"}

    @staticmethod
    def _bearer(request: Request) -> str | None:
        value = request.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def handle(self, request: Request) -> Reply:
        headers = self._headers()
        if request.path == self.CREATE and request.method == "POST":
            body = request.json() or {}
            if (body.get("identifier"), body.get("password")) != (self.identifier, self.password):
                return Reply(401, {"error": "AuthenticationRequired",
                                   "message": "Invalid identifier or password"}, headers)
            return Reply(200, self._session(), headers)
        if request.path == self.REFRESH and request.method == "POST":
            token = self._bearer(request)
            if token not in self.refresh:
                return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"}, headers)
            self.refresh.discard(token)  # refresh tokens rotate
            return Reply(200, self._session(), headers)
        if request.path == self.SEARCH:
            token = self._bearer(request)
            if token is None:
                return Reply(403, {"error": "Forbidden", "message": "Authentication Required"}, headers)
            if token not in self.access:
                return Reply(401, {"error": "InvalidToken", "message": "Token could not be verified"}, headers)
            if not self.access[token]:
                return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"}, headers)
            return Reply(200, self._search(request), headers)
        return Reply(404, {"error": "MethodNotImplemented", "message": "Method Not Implemented"})

    def _search(self, request: Request) -> dict:
        q, limit = request.arg("q", ""), int(request.arg("limit", "25"))
        offset = int(request.arg("cursor", "0") or 0)
        since, until = request.arg("since"), request.arg("until")

        def sort_at(post):
            return min(parse_iso(post["record"]["createdAt"]), parse_iso(post["indexedAt"]))

        rows = [p for p in self.posts if words_match(q, p["record"]["text"])]
        if since:
            rows = [p for p in rows if sort_at(p) >= parse_iso(since)]
        if until:
            rows = [p for p in rows if sort_at(p) < parse_iso(until)]
        rows.sort(key=sort_at, reverse=True)
        page = rows[offset:offset + limit]
        answer = {"posts": page, "hitsTotal": len(rows)}
        if offset + limit < len(rows):
            answer["cursor"] = str(offset + limit)
        return answer


# -- X ------------------------------------------------------------------------------------

def x_post(post_id: int, text: str, when: datetime, author_id: str = "100") -> dict:
    return {"id": str(post_id), "text": text, "created_at": iso(when), "author_id": author_id,
            "lang": "en", "edit_history_tweet_ids": [str(post_id)]}


class FakeX(FakeServer):
    PATH = "/2/tweets/search/recent"

    def __init__(self, posts: list[dict] | None = None, token: str = "x-bearer",
                 users: dict | None = None, now: datetime = NOW):
        super().__init__()
        self.posts = list(posts or [])
        self.token, self.now = token, now
        self.users = users or {"100": {"id": "100", "username": "acmefan", "name": "Acme Fan"}}
        self.billed = 0  # posts returned, what X bills for
        self.remaining = 450

    def _headers(self) -> dict:
        self.remaining = max(0, self.remaining - 1)
        return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(int(self.now.timestamp()) + 900)}

    @staticmethod
    def invalid(message: str, parameters: dict) -> Reply:
        return Reply(400, {"errors": [{"parameters": parameters, "message": message}],
                           "title": "Invalid Request",
                           "detail": "One or more parameters to your request was invalid.",
                           "type": "https://api.twitter.com/2/problems/invalid-request"})

    def handle(self, request: Request) -> Reply:
        if request.path != self.PATH:
            return Reply(404, {"title": "Not Found Error", "type": "about:blank", "status": 404,
                               "detail": "Sorry, that page does not exist"})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                               "detail": "Unauthorized"})
        query = request.arg("query")
        if not query:
            return self.invalid("The `query` query parameter can not be empty", {"query": [""]})
        size = int(request.arg("max_results", "10"))
        if not 10 <= size <= 100:
            return self.invalid(f"The `max_results` query parameter value [{size}] is not between 10 and 100",
                                {"max_results": [str(size)]})
        start, end = request.arg("start_time"), request.arg("end_time")
        if start and parse_iso(start) < self.now - timedelta(days=7):
            return self.invalid(f"Invalid 'start_time':'{start}'. 'start_time' must be on or after "
                                f"{iso(self.now - timedelta(days=7), millis=False)}", {"start_time": [start]})
        token = request.arg("next_token")
        state = json.loads(base64.urlsafe_b64decode(token)) if token else {"offset": 0, "top": None}
        matcher = compile_query(query)
        rows = [p for p in self.posts if matcher.matches(p["text"])]
        for name, keep in (("since_id", lambda i, v: i > v), ("until_id", lambda i, v: i < v)):
            if request.arg(name):
                rows = [p for p in rows if keep(int(p["id"]), int(request.arg(name)))]
        if start:
            rows = [p for p in rows if parse_iso(p["created_at"]) >= parse_iso(start)]
        if end:
            rows = [p for p in rows if parse_iso(p["created_at"]) < parse_iso(end)]
        rows.sort(key=lambda p: int(p["id"]), reverse=True)
        if state["top"] is None:  # the series' newest id: later pages stay the same
            state["top"] = int(rows[0]["id"]) if rows else 0
        rows = [p for p in rows if int(p["id"]) <= state["top"]]
        page = rows[state["offset"]:state["offset"] + size]
        self.billed += len(page)
        headers = self._headers()
        if not page:
            return Reply(200, {"meta": {"result_count": 0}}, headers)
        meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if state["offset"] + size < len(rows):
            following = {"offset": state["offset"] + size, "top": state["top"]}
            meta["next_token"] = base64.urlsafe_b64encode(json.dumps(following).encode()).decode()
        authors = {p["author_id"] for p in page}
        users = [u for uid, u in self.users.items() if uid in authors]
        return Reply(200, {"data": page, "includes": {"users": users}, "meta": meta}, headers)
