"""Local fakes of GDELT, YouTube, GitHub search, Reddit and Google News, for the adapter tests.

Each fake is a real HTTP server on 127.0.0.1 (ThreadingHTTPServer, port 0) that answers like
the service's public API documentation describes it: the same field names and nesting, the
same pagination (GDELT's 250 cap, YouTube page tokens, GitHub's Link header and 1,000-result
cap, Reddit's Listing `after`), the same error bodies and rate-limit headers. Every request is
recorded. `server.queue(path, status, headers, body)` makes the next request to `path` get
that answer instead (for errors and rate limits).
"""
from __future__ import annotations

import base64
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

import pytest

from tests.fake_http import JSON, LOOPBACK, NOW, LoopbackServer
from webapp.core.egress import EgressPolicy
from webapp.monitors.sources import FetchContext


@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> first value
    headers: dict  # lower-case names
    body: bytes
    at: float  # monotonic arrival time


class FakeServer(LoopbackServer):
    """A loopback HTTP server with per-path handlers `handler(request) -> (status, headers, body)`."""

    def __init__(self):
        super().__init__()
        self.routes: dict = {}
        self.requests: list[Request] = []
        self.queued: dict[str, deque] = defaultdict(deque)
        self.start()

    def respond(self, method, parts, headers, body):
        req = Request(method, parts.path,
                      {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                      headers, body, time.monotonic())
        self.requests.append(req)
        if self.queued[req.path]:
            return self.queued[req.path].popleft()
        route = self.routes.get(req.path)
        return route(req) if route else (404, {}, b"not found")

    @property
    def base(self) -> str:
        return self.base_url

    def queue(self, path: str, status: int, headers: dict | None = None, body=b"") -> None:
        self.queued[path].append((status, headers or {}, body))

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def context(query: str = "", now: datetime = NOW, policy: EgressPolicy = LOOPBACK) -> FetchContext:
    return FetchContext(policy=policy, monitor_query=query, now=now)


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.close()


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- GDELT DOC 2.0 --------------------------------------------------------------------------

GDELT_PATH = "/api/v2/doc/doc"
GDELT_TOO_FAST = ("Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com "
                  "for larger queries.")
GDELT_TOO_SHORT = ("Your search contained a phrase that was too short. Please make sure all phrases "
                   "and keywords are at least 3 characters long.")


def gdelt_article(n: int, seen: datetime, title: str | None = None) -> dict:
    return {"url": f"https://news.example.com/story/{n}", "url_mobile": f"https://m.news.example.com/{n}",
            "title": title or f"Acme rocket story number {n}",
            "seendate": seen.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "socialimage": f"https://news.example.com/img/{n}.jpg", "domain": "news.example.com",
            "language": "English", "sourcecountry": "United States"}


def _gdelt_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


class FakeGdelt:
    def __init__(self, server: FakeServer, articles: list[dict] | None = None):
        self.server, self.articles = server, list(articles or [])
        server.routes[GDELT_PATH] = self.handle

    @property
    def url(self) -> str:
        return self.server.base + GDELT_PATH

    def handle(self, req: Request):
        q = req.query
        if q.get("mode") != "artlist" or q.get("format") != "json":
            return 200, {"Content-Type": "text/html"}, "<html><body>Invalid mode</body></html>"
        words = [w.strip('()"') for w in q.get("query", "").split() if w not in ("OR",)]
        if any(0 < len(w) < 3 and ":" not in w for w in words):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, GDELT_TOO_SHORT + "\n"
        start, end = _gdelt_time(q["startdatetime"]), _gdelt_time(q["enddatetime"])
        chosen = [a for a in self.articles
                  if start <= datetime.strptime(a["seendate"], "%Y%m%dT%H%M%SZ").replace(
                      tzinfo=timezone.utc) <= end]
        chosen.sort(key=lambda a: a["seendate"], reverse=q.get("sort") == "datedesc")
        chosen = chosen[:min(int(q.get("maxrecords", 75)), 250)]
        return 200, {"Content-Type": JSON}, {"articles": chosen} if chosen else {}


# -- YouTube Data API v3 ----------------------------------------------------------------------

YT_PATH = "/youtube/v3/search"


def google_error(code: int, message: str, reason: str, domain: str = "global") -> dict:
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}]}}


YT_QUOTA = google_error(403, 'The request cannot be completed because you have exceeded your '
                             '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                        "quotaExceeded", "youtube.quota")


def youtube_video(n: int, published: datetime, title: str | None = None, description: str = "") -> dict:
    return {"kind": "youtube#searchResult", "etag": f"etag{n}",
            "id": {"kind": "youtube#video", "videoId": f"vid{n:08d}"},
            "snippet": {"publishedAt": iso(published), "channelId": f"UC{n:022d}",
                        "title": title or f"Acme rocket review {n}", "description": description,
                        "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/vid{n}/default.jpg",
                                                   "width": 120, "height": 90}},
                        "channelTitle": f"Channel {n % 3}", "liveBroadcastContent": "none",
                        "publishTime": iso(published)}}


class FakeYouTube:
    def __init__(self, server: FakeServer, videos: list[dict] | None = None, key: str = "test-key"):
        self.server, self.videos, self.key = server, list(videos or []), key
        server.routes[YT_PATH] = self.handle

    @property
    def base(self) -> str:
        return self.server.base + "/youtube/v3"

    def handle(self, req: Request):
        q = req.query
        if q.get("key") != self.key:
            return 400, {}, google_error(400, "API key not valid. Please pass a valid API key.", "badRequest")
        if q.get("part") != "snippet":
            return 400, {}, google_error(400, "Required parameter: part", "required")
        after = datetime.fromisoformat(q["publishedAfter"]) if "publishedAfter" in q else None
        before = datetime.fromisoformat(q["publishedBefore"]) if "publishedBefore" in q else None
        chosen = sorted((v for v in self.videos
                         if (after is None or datetime.fromisoformat(v["snippet"]["publishedAt"]) >= after)
                         and (before is None or datetime.fromisoformat(v["snippet"]["publishedAt"]) < before)),
                        key=lambda v: v["snippet"]["publishedAt"], reverse=True)
        size = min(int(q.get("maxResults", 5)), 50)
        token = q.get("pageToken")
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = chosen[offset:offset + size]
        answer = {"kind": "youtube#searchListResponse", "etag": "page-etag", "regionCode": "US",
                  "pageInfo": {"totalResults": len(chosen), "resultsPerPage": size}, "items": page}
        if offset + size < len(chosen):
            answer["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        if offset:
            answer["prevPageToken"] = base64.urlsafe_b64encode(str(max(0, offset - size)).encode()).decode()
        return 200, {}, answer


# -- GitHub search ------------------------------------------------------------------------------

GH_PATH = "/search/issues"


def github_issue(n: int, created: datetime, title: str | None = None, body: str | None = "",
                 repo: str = "acme/rocket", pull: bool = False) -> dict:
    item = {"url": f"https://api.github.com/repos/{repo}/issues/{n}",
            "repository_url": f"https://api.github.com/repos/{repo}",
            "html_url": f"https://github.com/{repo}/{'pull' if pull else 'issues'}/{n}",
            "id": 1000000 + n, "node_id": f"I_kwDO{n}", "number": n,
            "title": title or f"Rocket issue {n}", "user": {"login": f"user{n % 5}", "id": n, "type": "User"},
            "labels": [], "state": "open", "locked": False, "comments": 0,
            "created_at": iso(created), "updated_at": iso(created), "closed_at": None,
            "author_association": "NONE", "body": body, "score": 1.0}
    if pull:
        item["pull_request"] = {"url": f"https://api.github.com/repos/{repo}/pulls/{n}",
                                "html_url": f"https://github.com/{repo}/pull/{n}"}
    return item


def _gh_created(q: str):
    """(low, high) inclusive bounds of the created: qualifier of a search query."""
    for word in q.split():
        if word.startswith("created:"):
            value = word[len("created:"):]
            if ".." in value:
                low, high = value.split("..")
                return datetime.fromisoformat(low), datetime.fromisoformat(high)
            if value.startswith(">="):
                return datetime.fromisoformat(value[2:]), None
    return None, None


class FakeGitHub:
    def __init__(self, server: FakeServer, issues: list[dict] | None = None, token: str = "ghp_test",
                 prefix: str = ""):
        self.server, self.issues, self.token, self.prefix = server, list(issues or []), token, prefix
        server.routes[prefix + GH_PATH] = self.handle

    @property
    def base(self) -> str:
        return self.server.base + self.prefix

    def handle(self, req: Request):
        limits = {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "29", "x-ratelimit-used": "1",
                  "x-ratelimit-reset": "1780315260", "x-ratelimit-resource": "search"}
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return 401, limits, {"message": "Bad credentials",
                                 "documentation_url": "https://docs.github.com/rest", "status": "401"}
        q, page, per_page = req.query.get("q", ""), int(req.query.get("page", 1)), int(req.query.get("per_page", 30))
        try:
            low, high = _gh_created(q)
        except ValueError:
            return 422, limits, {"message": "Validation Failed", "errors": [
                {"message": "The created qualifier is not a valid date.", "resource": "Search",
                 "field": "q", "code": "invalid"}], "documentation_url": "https://docs.github.com/rest"}
        if (page - 1) * per_page >= 1000:
            return 422, limits, {"message": "Only the first 1000 search results are available",
                                 "documentation_url": "https://docs.github.com/v3/search/"}
        chosen = [i for i in self.issues
                  if (low is None or datetime.fromisoformat(i["created_at"]) >= low)
                  and (high is None or datetime.fromisoformat(i["created_at"]) <= high)]
        chosen.sort(key=lambda i: i["created_at"], reverse=req.query.get("order", "desc") == "desc")
        reachable = chosen[:1000]
        items = reachable[(page - 1) * per_page:page * per_page]
        last = max(1, -(-len(reachable) // per_page))
        links = []

        def link(n: int, rel: str) -> str:
            return f'<{self.base}{GH_PATH}?' + urlencode({**req.query, "page": n}) + f'>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        headers = {**limits, **({"Link": ", ".join(links)} if links else {})}
        return 200, headers, {"total_count": len(chosen), "incomplete_results": False, "items": items}


# -- Reddit ---------------------------------------------------------------------------------------

def reddit_post(n: int, created: datetime, title: str | None = None, selftext: str = "",
                subreddit: str = "rockets") -> dict:
    ident = f"p{n:05d}"
    return {"kind": "t3", "data": {
        "name": f"t3_{ident}", "id": ident, "title": title or f"Acme rocket post {n}",
        "selftext": selftext, "author": f"redditor{n % 4}", "subreddit": subreddit,
        "permalink": f"/r/{subreddit}/comments/{ident}/acme_rocket_post_{n}/",
        "url": f"https://www.reddit.com/r/{subreddit}/comments/{ident}/acme_rocket_post_{n}/",
        "created_utc": created.timestamp(), "score": n, "num_comments": 0, "over_18": False}}


def reddit_atom(posts: list[dict], title: str = "search results") -> str:
    entries = []
    for post in posts:
        d = post["data"]
        when = datetime.fromtimestamp(d["created_utc"], tz=timezone.utc).isoformat()
        content = escape(f'<!-- SC_OFF --><div class="md"><p>{escape(d["selftext"])}</p></div><!-- SC_ON -->'
                         f' &#32; submitted by &#32; <a href="https://www.reddit.com/user/{d["author"]}">'
                         f'/u/{d["author"]}</a>')
        entries.append(
            f'<entry><author><name>/u/{d["author"]}</name><uri>https://www.reddit.com/user/{d["author"]}</uri>'
            f'</author><category term="{d["subreddit"]}" label="r/{d["subreddit"]}"/>'
            f'<content type="html">{content}</content><id>{d["name"]}</id>'
            f'<link href="https://www.reddit.com{d["permalink"]}" /><updated>{when}</updated>'
            f'<published>{when}</published><title>{escape(d["title"])}</title></entry>')
    return ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:media="http://search.yahoo.com/mrss/"><updated>2026-06-01T12:00:00+00:00</updated>'
            f'<id>/search.rss</id><title>{escape(title)}</title>{"".join(entries)}</feed>')


class FakeReddit:
    def __init__(self, server: FakeServer, posts: list[dict] | None = None,
                 client_id: str = "app-id", secret: str = "app-secret", expires_in: int = 86400):
        self.server, self.posts = server, list(posts or [])
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.expires_in, self.issued, self.count = expires_in, [], 0
        server.routes["/api/v1/access_token"] = self.token
        for path in ("/search", "/r/rockets/search", "/r/rockets/new"):
            server.routes[path] = self.listing
        for path in ("/search.rss", "/r/rockets/new/.rss", "/r/rockets/search.rss"):
            server.routes[path] = self.feed

    def token(self, req: Request):
        if req.method != "POST" or req.headers.get("authorization") != self.basic:
            return 401, {}, {"message": "Unauthorized", "error": 401}
        if parse_qs(req.body.decode()).get("grant_type") != ["client_credentials"]:
            return 200, {}, {"error": "unsupported_grant_type"}
        self.count += 1
        token = f"token-{self.count}"
        self.issued.append(token)
        return 200, {}, {"access_token": token, "token_type": "bearer",
                         "expires_in": self.expires_in, "scope": "*"}

    def _newest_first(self, req: Request) -> list[dict]:
        return sorted(self.posts, key=lambda p: p["data"]["created_utc"], reverse=True)

    def listing(self, req: Request):
        limits = {"x-ratelimit-used": "1", "x-ratelimit-remaining": "99.0", "x-ratelimit-reset": "420"}
        if req.headers.get("authorization", "").lower() not in {f"bearer {t}" for t in self.issued}:
            return 401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}, \
                {"message": "Unauthorized", "error": 401}
        posts = self._newest_first(req)
        start = 0
        if req.query.get("after"):
            names = [p["data"]["name"] for p in posts]
            start = names.index(req.query["after"]) + 1 if req.query["after"] in names else len(posts)
        size = min(int(req.query.get("limit", 25)), 100)
        page = posts[start:start + size]
        after = page[-1]["data"]["name"] if start + size < len(posts) and page else None
        return 200, limits, {"kind": "Listing", "data": {
            "after": after, "dist": len(page), "modhash": "", "geo_filter": "",
            "children": page, "before": None}}

    def feed(self, req: Request):
        agent = req.headers.get("user-agent", "")
        if not agent or agent.startswith(("python-", "curl/")):
            return 429, {"Content-Type": "text/html"}, "<html><body>Too Many Requests</body></html>"
        return 200, {"Content-Type": "application/atom+xml; charset=UTF-8"}, \
            reddit_atom(self._newest_first(req)[:25])


# -- Google News RSS ----------------------------------------------------------------------------------

def google_news_rss(stories: list[tuple[str, str, datetime]], query: str = "acme") -> str:
    """An RSS answer of news.google.com/rss/search for (headline, publisher, published) stories."""
    items = []
    for n, (headline, publisher, when) in enumerate(stories):
        link = f"https://news.google.com/rss/articles/CBMiStory{n}?oc=5"
        description = escape(f'<a href="{link}" target="_blank">{escape(headline)}</a>&nbsp;&nbsp;'
                             f'<font color="#6f6f6f">{escape(publisher)}</font>')
        items.append(f'<item><title>{escape(headline)} - {escape(publisher)}</title><link>{link}</link>'
                     f'<guid isPermaLink="false">CBMiStory{n}</guid><pubDate>{format_datetime(when, usegmt=True)}'
                     f'</pubDate><description>{description}</description>'
                     f'<source url="https://www.{publisher.lower().replace(" ", "")}.com">{escape(publisher)}'
                     f'</source></item>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
            'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
            f'<title>"{escape(query)}" - Google News</title><link>https://news.google.com/search?q={escape(query)}'
            '</link><language>en-US</language><webMaster>news-webmaster@google.com</webMaster>'
            f'<description>Google News</description>{"".join(items)}</channel></rss>')
