"""Turning a service's record into a FetchedItem: stable external ids, clamped fields, and
dropping the repeats that overlapping pages return."""
from __future__ import annotations

import hashlib
from datetime import datetime

from webapp.core.limits import FETCHED_TEXT, MAX_AUTHOR, MAX_EXTERNAL_ID
from webapp.core.times import read_time
from webapp.insights.languages import MAX_FIGURE, normalize_code
from webapp.monitors.sources.base import FetchedItem, clamp
from webapp.monitors.sources.rss import web_url
from webapp.monitors.sources.text import truncate


def external_id(value: str) -> str:
    """`value` if it fits the external id column, else a sha256 of it."""
    if len(value) <= MAX_EXTERNAL_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def figure(value) -> int | None:
    """A count from a service's JSON (followers, likes, ...) if it is a whole number from 0 to
    MAX_FIGURE (floats such as 12.0 included); None for anything else (a string, a bool, -1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if 0 <= value <= MAX_FIGURE else None


def engagement(*values) -> int | None:
    """The sum of the counts a service gives (likes, reposts, replies, ...); None when none is one."""
    found = [f for f in map(figure, values) if f is not None]
    return min(sum(found), MAX_FIGURE) if found else None


def service_lang(value) -> str | None:
    """A service's language field if it is an ISO 639-1 code (X's "und", "qme", ... are not)."""
    try:
        code = normalize_code(value)
    except ValueError:
        return None
    return None if code == "und" else code


def make_item(ident, text: str, author=None, url=None, published_at: datetime | None = None,
              now: datetime | None = None, reach=None, engaged=None, lang=None) -> FetchedItem | None:
    """A FetchedItem clamped to the column sizes; None without an id or without text.

    `reach` is a count, `engaged` a count or a tuple of counts summed (`engagement`), `lang` the
    service's language code; whatever is not one is dropped."""
    if ident is None or isinstance(ident, bool) or not isinstance(ident, (str, int)):
        return None
    ident = str(ident).strip()
    text = truncate(text.strip(), FETCHED_TEXT) if isinstance(text, str) else ""
    if not ident or not text:
        return None
    if published_at is not None:
        try:   # a time the worker would refuse (core.times' range) becomes the fetch time
            published_at = read_time(published_at)
        except ValueError:
            published_at = None
    if published_at is not None and now is not None:
        published_at = min(published_at, now)
    return FetchedItem(
        external_id=external_id(ident),
        text=text,
        author=clamp(author, MAX_AUTHOR) if isinstance(author, str) else None,
        url=web_url(url),
        published_at=published_at,
        reach=figure(reach),
        engagement=engagement(*engaged) if isinstance(engaged, tuple) else figure(engaged),
        lang=service_lang(lang),
    )


def dedupe(items: list[FetchedItem]) -> list[FetchedItem]:
    """Items in order, each external id once (pages that overlap on a boundary repeat some)."""
    seen, out = set(), []
    for item in items:
        if item.external_id not in seen:
            seen.add(item.external_id)
            out.append(item)
    return out


def convert_all(records, convert, now: datetime | None) -> tuple[list[FetchedItem], list]:
    """(items, keys) of the dict records: `convert(record, now)` answers (item or None, key or None).

    The keys (times, ids) drive paging, so a record that makes no item still counts by its key.
    """
    items, keys = [], []
    for record in records:
        if not isinstance(record, dict):
            continue
        item, key = convert(record, now)
        if key is not None:
            keys.append(key)
        if item is not None:
            items.append(item)
    return items, keys
