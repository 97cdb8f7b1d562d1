"""Google News search as an RSS feed: the query becomes a news.google.com/rss/search URL.

The feed is fetched and parsed by the RSS adapter (conditional GET, feed User-Agent), so the
cursor is the RSS cursor. Google News titles read "Headline - Publisher" and the description
repeats them as HTML; the text is cut back to the headline and the publisher becomes the author.

Query push-down: the monitor query's positive terms in Google's syntax ((a OR b) groups,
"phrases"), plus the source's own `query` setting (Google operators such as site:example.com
or when:1d). Settings hl / gl / ceid choose the edition (default US English).
"""
from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

from webapp.monitors.sources import pushdown
from webapp.core.limits import MAX_AUTHOR
from webapp.monitors.sources.base import (
    FetchContext, FetchResult, SettingField, SourceAdapter, SourceError, SourceSettingsError,
    clamp,
)
from webapp.monitors.sources.rss import RssAdapter
from webapp.monitors.sources.settings_checks import (
    check_base_url, settings_object, text_setting, with_optional,
)

DEFAULT_BASE_URL = "https://news.google.com"
DEFAULTS = {"hl": "en-US", "gl": "US", "ceid": "US:en"}
_PATTERNS = {
    "hl": re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?"),
    "gl": re.compile(r"[A-Za-z]{2}"),
    "ceid": re.compile(r"[A-Za-z]{2}:[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?"),
}
_EXAMPLES = {"hl": "en-US", "gl": "US", "ceid": "US:en"}


def search_url(base: str, query: str, hl: str, gl: str, ceid: str) -> str:
    return f"{base}/rss/search?" + urlencode({"q": query, "hl": hl, "gl": gl, "ceid": ceid})


def tidy(item):
    """Headline only (the body repeats it with the publisher); publisher as author."""
    title, _, body = item.text.partition("\n")
    headline, dash, publisher = title.rpartition(" - ")
    if not dash:
        headline, publisher = title, ""
    if body and body.startswith(headline.strip()):
        item = replace(item, text=title)
    if item.author is None and publisher.strip():
        item = replace(item, author=clamp(publisher, MAX_AUTHOR))
    return item


class GoogleNewsAdapter(SourceAdapter):
    kind = "google_news"
    label = "Google News search"
    help = ("Google News search results as an RSS feed (free, no key), in the language and edition "
            "you choose.")
    default_every = 1800
    min_every = 900
    fields = (
        SettingField("query", "Search terms", False,
                     "Extra Google News terms or operators (site:example.com, when:7d), added to "
                     "the monitor's query; needed when the monitor has no query."),
        SettingField("hl", "Language", False, "Interface language, default en-US."),
        SettingField("gl", "Country", False, "Edition country, default US."),
        SettingField("ceid", "Edition", False, "Edition id COUNTRY:language, default US:en."),
        SettingField("base_url", "Address", False, f"Default {DEFAULT_BASE_URL}."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        clean = {}
        query = text_setting(settings, "query", "The search terms", 500)
        for name, default in DEFAULTS.items():
            value = text_setting(settings, name, name, 20) or default
            if not _PATTERNS[name].fullmatch(value):
                raise SourceSettingsError(name, f"{name} looks like {_EXAMPLES[name]}")
            clean[name] = value
        base = check_base_url(settings.get("base_url"), DEFAULT_BASE_URL, policy)
        return with_optional(clean, query=query, base_url=base, default_base_url=DEFAULT_BASE_URL)

    def feed_url(self, settings: dict, ctx: FetchContext) -> str:
        settings = settings or {}
        query = pushdown.combine(pushdown.grouped(pushdown.clauses(ctx.monitor_query)),
                                 settings.get("query"))
        if not query:
            raise SourceError("settings", "Google News needs search terms: give the monitor a "
                                          "query or set the source's search terms")
        edition = {name: settings.get(name) or default for name, default in DEFAULTS.items()}
        return search_url(settings.get("base_url") or DEFAULT_BASE_URL, query, **edition)

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        result = RssAdapter().fetch({"url": self.feed_url(settings, ctx)}, dict(cursor or {}), ctx)
        return FetchResult(items=[tidy(item) for item in result.items], cursor=result.cursor)
