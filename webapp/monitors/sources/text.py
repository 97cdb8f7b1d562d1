"""Plain text from the HTML that feeds and APIs put in their item bodies.

Sentiment scoring and query matching want words, not markup: tags go, entities are unescaped,
script/style contents are dropped entirely, and runs of whitespace become one space. The
markup is first sanitised by nh3 (the ammonia HTML5 sanitiser: its parser is the browsers' one,
so what a browser would run is what gets dropped, content included), then the standard
library's tolerant `html.parser` collects the words, so malformed markup degrades instead of failing.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Elements whose contents are never text a reader sees.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "math"})
# Elements that separate words visually; without a space "a</p><p>b" would read "ab".
_BREAKING = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
# Elements nh3 removes together with their contents (the rest of unknown markup keeps its text).
_DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "noscript", "noembed", "noframes",
    "template", "textarea", "xmp", "plaintext", "title", "head", "object", "embed", "applet",
    "svg", "math",
})
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters other than whitespace (NUL breaks PostgreSQL text columns).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden_depth += 1
        elif tag in _BREAKING:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in _BREAKING:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag in _BREAKING:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)


def collapse_whitespace(text: str) -> str:
    """`text` without control characters, with each whitespace run as one space, trimmed."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", text)).strip()


def html_to_text(html: str | None) -> str:
    """The visible text of an HTML fragment (or of plain text, unchanged but for whitespace)."""
    if not html:
        return ""
    collector = _TextCollector()
    try:
        collector.feed(sanitize_html(html))
        collector.close()
    except Exception:  # html.parser is lenient, but never let odd markup fail a fetch
        pass
    return collapse_whitespace("".join(collector.parts))


def sanitize_html(html: str) -> str:
    """`html` with every script, style, frame, embed, event handler, attribute and comment
    removed by nh3 (only harmless formatting tags remain, without attributes)."""
    return nh3.clean(html, clean_content_tags=set(_DROPPED_WITH_CONTENT), attributes={}, link_rel=None)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, with '…'."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"
