"""A generic JSON API source, for services without an adapter of their own.

The user says where the list of items is in the answer (`items`, a dotted path, '' for a
top-level list) and where each field is in an item (`fields`: id, text, author, url,
published_at as dotted paths; `entities.0.name` indexes into lists). Optional `headers`
(API keys: stored, never shown again) go with every request to the same origin, and an
optional `next` path names the next page's URL, followed up to `max_pages` pages, each hop
through the egress guard. Items without an id or a text are skipped and counted, never fatal.

Cursor: {"last_count": items kept, "last_skipped": items skipped, "pages": pages read}. The
generic source cannot ask an unknown API for "what is new", so every fetch reads the first
pages again and the database drops what it has already stored.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from webapp.core.crypto import reveal_settings
from webapp.monitors.sources.api_calls import same_origin
from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR
from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter,
    SourceError, SourceSettingsError, clamp,
)
from webapp.monitors.sources.http import get_json
from webapp.monitors.sources.items import external_id
from webapp.monitors.sources.rss import web_url
from webapp.monitors.sources.settings_checks import check_web_url, settings_object
from webapp.monitors.sources.text import html_to_text, truncate
from webapp.core.numbers import digits_as_int
from webapp.core.times import as_utc, parse_time

FIELD_NAMES = ("id", "text", "author", "url", "published_at")
REQUIRED_FIELDS = ("id", "text")
MAX_PAGES_DEFAULT, MAX_PAGES_LIMIT = 3, 20
MAX_PATH = 200
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_MISSING = object()


# -- dotted paths ------------------------------------------------------------------------

def resolve(data, path: str):
    """The value at a dotted path ('' is `data` itself), or _MISSING. Digits index lists."""
    current = data
    for part in path.split(".") if path else ():
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(current) <= index < len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


def check_path(value, field: str, allow_empty: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise SourceSettingsError(field, "a path must be text, like data.items or user.name")
    path = value.strip()
    if not path and not allow_empty:
        raise SourceSettingsError(field, "the path is empty")
    if len(path) > MAX_PATH:
        raise SourceSettingsError(field, f"the path is longer than {MAX_PATH} characters")
    if path and any(not part for part in path.split(".")):
        raise SourceSettingsError(field, f"{path!r} has an empty part (two dots, or a dot at an end)")
    return path


def _object_setting(value, field: str) -> dict | None:
    """An object setting given as an object or as JSON text (from a form)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise SourceSettingsError(field, "must be a JSON object") from None
    if not isinstance(value, dict):
        raise SourceSettingsError(field, "must be an object")
    return value


def check_fields(value) -> dict:
    fields = _object_setting(value, "fields")
    if not fields:
        raise SourceSettingsError("fields", "fields must map at least id and text to paths")
    unknown = sorted(set(fields) - set(FIELD_NAMES))
    if unknown:
        raise SourceSettingsError("fields", f"unknown field {unknown[0]!r} "
                                            f"(known: {', '.join(FIELD_NAMES)})")
    clean = {}
    for name in FIELD_NAMES:
        raw = fields.get(name)
        if raw in (None, ""):
            if name in REQUIRED_FIELDS:
                raise SourceSettingsError("fields", f"fields.{name} is required")
            continue
        if name == "text" and isinstance(raw, list):  # several paths, joined line by line
            if not raw or len(raw) > 5:
                raise SourceSettingsError("fields", "fields.text takes a path or a list of 1-5 paths")
            clean[name] = [check_path(p, "fields") for p in raw]
        else:
            clean[name] = check_path(raw, "fields")
    return clean


def check_headers(value) -> dict | None:
    headers = _object_setting(value, "headers")
    if not headers:
        return None
    if len(headers) > MAX_HEADERS:
        raise SourceSettingsError("headers", f"at most {MAX_HEADERS} headers")
    clean = {}
    for name, header_value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise SourceSettingsError("headers", f"{name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise SourceSettingsError("headers", f"the {name} header is set by Sentimon itself")
        if not isinstance(header_value, str) or any(c in header_value for c in "\r\n\x00") \
                or len(header_value) > 4096:
            raise SourceSettingsError("headers", f"the value of {name} must be one line of text")
        clean[name] = header_value.strip()
    return clean


def check_max_pages(value) -> int:
    if value is None or value == "":
        return MAX_PAGES_DEFAULT
    value = digits_as_int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PAGES_LIMIT:
        raise SourceSettingsError("max_pages", f"max_pages must be a whole number from 1 to {MAX_PAGES_LIMIT}")
    return value


# -- values ------------------------------------------------------------------------------

def to_datetime(value, now: datetime | None = None) -> datetime | None:
    """ISO 8601, an HTTP/RFC 2822 date, or epoch seconds / milliseconds, as aware UTC."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value.strip(" \t\r\n")):
        value = float(value.strip(" \t\r\n"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= 1e11 else value  # 1e11 s is the year 5138
        try:
            when = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        return min(when, now) if now is not None else when
    when = parse_time(value, now)
    if when is None and isinstance(value, str):
        try:
            when = parsedate_to_datetime(value)
            when = as_utc(when)
        except (TypeError, ValueError, IndexError, OverflowError):   # year 9999 at -0100: 10000 UTC
            return None
        when = min(when, now) if now is not None else when
    return when


def _scalar_text(value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def item_from(entry, fields: dict, now: datetime) -> FetchedItem | None:
    """One answer item as a FetchedItem; None when its id or text is missing."""
    ident = _scalar_text(resolve(entry, fields["id"]))
    paths = fields["text"] if isinstance(fields["text"], list) else [fields["text"]]
    texts = [html_to_text(_scalar_text(resolve(entry, p)) or "") for p in paths]
    text = truncate("\n".join(t for t in texts if t), FETCHED_TEXT)
    if not ident or not text:
        return None
    author = _scalar_text(resolve(entry, fields["author"])) if "author" in fields else None
    url = web_url(resolve(entry, fields["url"])) if "url" in fields else None
    published = to_datetime(resolve(entry, fields["published_at"]), now) \
        if "published_at" in fields else None
    return FetchedItem(external_id=external_id(ident), text=text, author=clamp(author, MAX_AUTHOR),
                       url=url, published_at=published)


def items_of(data, path: str) -> list:
    """The list at `path` of an answer; a clear SourceError when the path does not lead to one."""
    found = resolve(data, path)
    where = f"the items path {path!r}" if path else "the answer"
    if found is _MISSING:
        raise SourceError("parse", f"{where} does not exist in the answer")
    if not isinstance(found, list):
        kind = {dict: "an object", str: "a string"}.get(type(found), type(found).__name__)
        raise SourceError("parse", f"{where} leads to {kind}, not a list")
    return found


class JsonAdapter(SourceAdapter):
    kind = "json"
    label = "JSON API (generic)"
    help = ("Any JSON API: give its URL, where the list of items is and which fields hold the id, "
            "text, author, link and time (dotted paths).")
    default_every = 900
    min_every = 60
    fields = (
        SettingField("url", "API URL", True, "The address that answers with JSON (http:// or https://)."),
        SettingField("items", "Items path", False,
                     "Dotted path to the list of items in the answer, e.g. data.results; "
                     "empty when the answer itself is the list."),
        SettingField("fields", "Fields", True,
                     'Paths inside each item, e.g. {"id": "id", "text": "title", "author": '
                     '"user.name", "url": "link", "published_at": "created"}; id and text are required.'),
        SettingField("headers", "Request headers", False,
                     'Extra headers, e.g. {"Authorization": "Bearer ..."}; kept secret.', secret=True),
        SettingField("next", "Next page path", False,
                     "Dotted path to the next page's URL in the answer, if the API pages."),
        SettingField("max_pages", "Pages per fetch", False,
                     f"How many pages to follow (1-{MAX_PAGES_LIMIT}, default {MAX_PAGES_DEFAULT})."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {
            "url": check_web_url(settings.get("url"), policy, "url", "The API URL"),
            "items": check_path(settings.get("items"), "items", allow_empty=True),
            "fields": check_fields(settings.get("fields")),
            "max_pages": check_max_pages(settings.get("max_pages")),
        }
        headers = check_headers(settings.get("headers"))
        if headers:
            clean["headers"] = headers
        following = check_path(settings.get("next"), "next", allow_empty=True)
        if following:
            clean["next"] = following
        return clean

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        try:
            settings = self.clean_settings(reveal_settings(settings or {}))  # headers are sealed
        except SourceSettingsError as exc:
            raise SourceError("settings", exc.message) from None
        start = settings["url"]
        url, visited, items, skipped, pages = start, set(), [], 0, 0
        while url and pages < settings["max_pages"] and url not in visited:
            visited.add(url)
            headers = settings.get("headers") if same_origin(url, start) else None
            try:
                data, response = get_json(ctx, url, headers=headers)
            except RecursionError:
                raise SourceError("parse", "the answer is nested too deeply") from None
            pages += 1
            for entry in items_of(data, settings["items"]):
                item = item_from(entry, settings["fields"], ctx.now)
                if item is None:
                    skipped += 1
                else:
                    items.append(item)
            url = self._next_url(data, settings.get("next"), response.url or url)
        return FetchResult(items=items, cursor={"last_count": len(items), "last_skipped": skipped,
                                                "pages": pages})

    @staticmethod
    def _next_url(data, path: str | None, current: str) -> str | None:
        if not path:
            return None
        found = resolve(data, path)
        if not isinstance(found, str) or not found.strip():
            return None
        return web_url(urljoin(current, found.strip()))
