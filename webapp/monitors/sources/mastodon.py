"""Mastodon hashtag timelines (`GET /api/v1/timelines/tag/:hashtag`) on one or several instances.

Each instance shows the public statuses with the tag that it knows of, its own and federated
ones, so several instances see more of the fediverse; the same status then arrives from each
under a different local id. Its `uri` (the ActivityPub id) is the same everywhere, so it is
the external id and the duplicates collapse (within a fetch here, across fetches in the
database). A reblog counts as the status it reblogs.

No account is needed on instances that allow unauthenticated timeline access (the default).
Rate limits (300 requests / 5 min per IP) come as 429 with an ISO 8601 `X-RateLimit-Reset`.

Cursor: {"tag": "acme", "instances": {<base URL>: {"newest": <newest status id seen>}}}. The
first fetch of an instance takes the newest page; later ones page FORWARD from `newest` with
`min_id` (the newest id of the page, as in its Link rel="prev"), oldest pages first, up to MAX_PAGES,
so a backlog is read over several fetches without gaps. An instance that fails is skipped
(its cursor is kept) while the others go on; the fetch fails only when all of them fail.

Backfill: pages back with `max_id` (Link rel="next", else the oldest id) until a status is older than `since`,
one page per call, instance after instance; page state {"instance": <index>, "max_id": id}.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import parse_qs, quote, urlsplit

from webapp.monitors.sources.http import get_json
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError,
)
from webapp.monitors.sources.http import expect
from webapp.monitors.sources.items import dedupe, make_item
from webapp.monitors.sources.settings_checks import clean_base_url, settings_object
from webapp.monitors.sources.text import html_to_text
from webapp.core.times import parse_time
from webapp.monitors.sources.windows import finished, in_window, list_index, next_in_list, window_start

log = logging.getLogger(__name__)

LIMIT = 40  # the API's maximum page size
MAX_PAGES = 5  # per instance and fetch
MAX_INSTANCES = 10
MAX_TAG = 100
_TAG = re.compile(r"\w+")
_LINE_BREAKS = re.compile(r"(?i)<br\s*/?>|</p\s*>")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')
_SEPARATORS = re.compile(r"[\s,]+")


def status_text(html: str | None) -> str:
    """Plain text of status HTML, one line per <br> or paragraph."""
    if not html:
        return ""
    lines = (html_to_text(chunk) for chunk in _LINE_BREAKS.split(html))
    return "\n".join(line for line in lines if line)


def id_key(value: str) -> tuple[int, str]:
    """Sort key of a status id: ids are numeric strings (or same-length flake ids elsewhere)."""
    return len(value), value


def newest_id(ids) -> str | None:
    ids = [i for i in ids if isinstance(i, str) and i]
    return max(ids, key=id_key) if ids else None


def link_param(header: str | None, rel: str, name: str) -> str | None:
    """The `name` query parameter of the Link header's URL for `rel`, if any."""
    for url, relation in _LINK.findall(header or ""):
        if relation.strip() == rel:
            values = parse_qs(urlsplit(url).query).get(name)
            return values[0] if values else None
    return None


def status_to_item(status: dict, host: str, now: datetime | None = None) -> FetchedItem | None:
    """A Status (or the status it reblogs) as a FetchedItem; None when it is unusable."""
    inner = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
    uri = inner.get("uri")
    if not isinstance(uri, str):
        return None
    spoiler = inner.get("spoiler_text") if isinstance(inner.get("spoiler_text"), str) else ""
    body = status_text(inner.get("content") if isinstance(inner.get("content"), str) else "")
    text = "\n".join(part for part in (html_to_text(spoiler), body) if part)
    account = inner.get("account") if isinstance(inner.get("account"), dict) else {}
    acct = account.get("acct") if isinstance(account.get("acct"), str) else None
    if acct and "@" not in acct:  # a local account: name its home, as other instances do
        acct = f"{acct}@{host}"
    url = inner.get("url") or uri
    # Mastodon's `language` is the author's default setting, often wrong: detected instead.
    return make_item(uri, text, acct, url, parse_time(inner.get("created_at")), now,
                     reach=account.get("followers_count"),
                     engaged=(inner.get("favourites_count"), inner.get("reblogs_count"), inner.get("replies_count")))


def _instance_list(settings: dict) -> list:
    values = []
    for name in ("instances", "instance", "base_url"):
        value = settings.get(name)
        if isinstance(value, str):
            values.extend(v for v in _SEPARATORS.split(value) if v)
        elif isinstance(value, list):
            values.extend(value)
        elif value is not None:
            raise SourceSettingsError("instances", "instances must be a list of host names or URLs")
    return values


def clean_instance(value, policy=None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SourceSettingsError("instances", "each instance must be a host name or URL")
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    return clean_base_url(value, "", policy, field="instances", label=f"the instance {value!r}")


def clean_tag(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SourceSettingsError("tag", "the hashtag is required")
    tag = value.strip().lstrip("#")
    if not _TAG.fullmatch(tag) or tag.isdigit() or len(tag) > MAX_TAG:
        raise SourceSettingsError("tag", "the hashtag must be letters, digits or _ (not only digits), "
                                         f"at most {MAX_TAG}, without spaces")
    return tag


class MastodonAdapter(SourceAdapter):
    kind = "mastodon"
    label = "Mastodon hashtag"
    help = "Public posts with a hashtag on one or more Mastodon instances; no account needed."
    default_every = 300
    min_every = 60
    fields = (
        SettingField("instances", "Instances", True,
                     "Host names or URLs of one or more Mastodon instances, e.g. mastodon.social."),
        SettingField("tag", "Hashtag", True, "The hashtag to follow, without #."),
    )
    supports_backfill = True

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        instances = []
        for value in _instance_list(settings):
            base = clean_instance(value, policy)
            if base not in instances:
                instances.append(base)
        if not instances:
            raise SourceSettingsError("instances", "at least one instance is required")
        if len(instances) > MAX_INSTANCES:
            raise SourceSettingsError("instances", f"at most {MAX_INSTANCES} instances")
        return {"instances": instances, "tag": clean_tag(settings.get("tag"))}

    # -- requests ------------------------------------------------------------------------

    @staticmethod
    def _settings(settings: dict) -> tuple[list[str], str]:
        settings = settings or {}
        instances = settings.get("instances") or _instance_list(settings)
        tag = settings.get("tag")
        if not instances or not all(isinstance(i, str) for i in instances):
            raise SourceError("settings", "the source has no Mastodon instance")
        if not isinstance(tag, str) or not tag.strip("# "):
            raise SourceError("settings", "the source has no hashtag")
        return [i.rstrip("/") if "://" in i else "https://" + i for i in instances], tag.strip("# ")

    def _page(self, ctx: FetchContext, base: str, tag: str, **params):
        """(items, status ids, their created_at times, Link header) of one timeline page."""
        url = f"{base}/api/v1/timelines/tag/{quote(tag, safe='')}"
        data, response = get_json(ctx, url, params={"limit": LIMIT, **params})
        statuses = expect(data, list, "the timeline")
        host = urlsplit(base).netloc
        items, ids, times = [], [], []
        for status in statuses:
            if not isinstance(status, dict):
                continue
            if isinstance(status.get("id"), str):
                ids.append(status["id"])
            when = parse_time(status.get("created_at"))  # the timeline's own (reblog) time
            if when is not None:
                times.append(when)
            item = status_to_item(status, host, ctx.now)
            if item is not None:
                items.append(item)
        return items, ids, times, response.headers.get("Link")

    def _forward(self, ctx: FetchContext, base: str, tag: str, state: dict):
        """New statuses of one instance: (items, new state, error or None, pages read)."""
        newest = state.get("newest") if isinstance(state.get("newest"), str) else None
        items, done, error = [], 0, None
        for _ in range(MAX_PAGES if newest else 1):
            try:
                found, ids, _, _ = self._page(ctx, base, tag, **({"min_id": newest} if newest else {}))
            except SourceError as exc:
                error = exc
                break
            done += 1
            items.extend(found)
            top = newest_id(ids)  # what the Link rel="prev" URL carries as min_id
            if top is None:
                break
            newest = newest_id([newest, top])
            if len(ids) < LIMIT:
                break
        if done == 0:
            return [], state, error, 0
        return items, ({"newest": newest} if newest else {}), error, done

    # -- the adapter contract ------------------------------------------------------------

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        instances, tag = self._settings(settings)
        cursor = cursor if isinstance(cursor, dict) else {}
        stored = cursor.get("instances") if cursor.get("tag") == tag else None
        stored = stored if isinstance(stored, dict) else {}
        items, states, errors, pages = [], {}, [], 0
        for base in instances:
            state = stored.get(base) if isinstance(stored.get(base), dict) else {}
            found, states[base], error, done = self._forward(ctx, base, tag, state)
            items.extend(found)
            pages += done
            if error is not None:
                errors.append(error)
                log.warning("mastodon: %s failed: %s", base, error)
        if errors and pages == 0:  # every instance failed before reading anything
            limited = [e for e in errors if e.code == "rate_limited"]
            raise (limited or errors)[0]
        return FetchResult(items=dedupe(items), cursor={"tag": tag, "instances": states})

    def fetch_window(self, settings: dict, since: datetime, until: datetime, page: dict,
                     ctx: FetchContext) -> FetchResult:
        instances, tag = self._settings(settings)
        since, until, page = window_start(since, until, page)
        index = list_index(page, "instance")
        if index >= len(instances) or since >= until:
            return finished()
        max_id = page.get("max_id") if isinstance(page.get("max_id"), str) else None
        found, ids, times, link = self._page(ctx, instances[index], tag,
                                             **({"max_id": max_id} if max_id else {}))
        items = in_window(found, since, until, keep_undated=False)
        older = any(when < since for when in times)
        oldest = min(ids, key=id_key) if ids else None
        following = link_param(link, "next", "max_id")
        if following is None or (oldest is not None and id_key(following) > id_key(oldest)):
            following = oldest  # no Link, or one that would not move back: page by the ids
        moving = following is not None and (max_id is None or id_key(following) < id_key(max_id))
        if ids and len(ids) >= LIMIT and not older and moving:
            return FetchResult(items=dedupe(items), cursor={"instance": index, "max_id": following})
        return FetchResult(items=dedupe(items), cursor=next_in_list(index, len(instances), "instance"))
