"""Spike attribution, the decisions (pure): the excess of a bucket over its baseline broken down
by source, author, domain, near-duplicate cluster and rising term, and a one-line summary.

    excess = max(count - baseline, 0)            (baseline: the volume_spike rule's median)
    share of the excess of a group = min(mentions of the group, excess) / excess

Groups are taken as having no baseline of their own: a story repeated on forty sites or one
author posting thirty times is the excess, not the normal traffic. With no excess (or no
baseline) shares are of the bucket's mentions instead, and the summary says so.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

TOP = 5
MIN_GROUP = 3            # a group smaller than this never makes the summary
SPECIFIC = 0.8           # a more specific group wins the summary with this much of the top share
EXAMPLE_CHARS = 200


@dataclass(frozen=True)
class Item:
    """One mention of the bucket as attribution reads it."""

    text: str
    source: str
    author: str | None = None
    url: str | None = None


def domain(url: str | None) -> str | None:
    """The host of a URL without "www.", lower-case; None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host or "." not in host or any(c.isspace() for c in host):
        return None
    return host[4:] if host.startswith("www.") else host


def _share(n: float, excess: float, count: int) -> float:
    base = excess if excess > 0 else count
    return round(min(n, base) / base, 3) if base else 0.0


def breakdown(values: list[str | None], excess: float, count: int, scale: float = 1.0) -> list[dict]:
    """The TOP most frequent values (None left out) with their mentions and share of the excess;
    `scale` turns counts of a sample into counts of the bucket."""
    return [{"value": value, "count": round(n * scale), "share": _share(n * scale, excess, count)}
            for value, n in Counter(v for v in values if v).most_common(TOP)]


def cluster_rows(items: list[Item], groups: list[list[int]], excess: float, count: int,
                 scale: float = 1.0) -> list[dict]:
    """The TOP near-duplicate clusters: copies, distinct sites, an example text, share."""
    out = []
    for group in groups[:TOP]:
        sites = {domain(items[i].url) for i in group} - {None}
        copies = round(len(group) * scale)
        out.append({"count": copies, "sites": len(sites), "example": items[group[0]].text[:EXAMPLE_CHARS],
                    "share": _share(copies, excess, count)})
    return out


def summary(result: dict) -> str:
    """One line saying what explains most of the excess (or the bucket, without an excess)."""
    of = "the excess" if result["excess"] > 0 else "the mentions"
    candidates = []
    for c in result["clusters"]:
        if c["count"] >= MIN_GROUP:
            where = f"on {c['sites']} sites" if c["sites"] > 1 else f"{c['count']} times"
            candidates.append((c["share"], 3, f"{_pct(c['share'])} of {of} is one story repeated {where}"))
    for key, words in (("authors", "one author, {v}"), ("domains", "one site, {v}"), ("sources", "{v}")):
        rows = result[key]
        # a lone source carries everything, as it always does: no explanation
        if rows and rows[0]["count"] >= MIN_GROUP and (key != "sources" or len(rows) > 1):
            prefix = "comes from " if key == "sources" else "is "
            candidates.append((rows[0]["share"], {"authors": 2, "domains": 1}.get(key, 0),
                               f"{_pct(rows[0]['share'])} of {of} {prefix}{words.format(v=rows[0]['value'])}"))
    if not candidates:
        if result["count"] == 0:
            return "No mentions in this bucket."
        return f"No single story, author, site or source stands out among {result['count']} mentions."
    # the most specific explanation (a story, then an author, a site, a source) that explains
    # nearly as much as the biggest one: "one story on 40 sites" says more than "from rss"
    best = max(share for share, _, _ in candidates)
    return max((specific, share, line) for share, specific, line in candidates if share >= SPECIFIC * best)[2]


def _pct(share: float) -> str:
    return f"{round(share * 100)} %"


def attribute(items: list[Item], count: int, baseline: float | None, groups: list[list[int]],
              terms: list[dict]) -> dict:
    """The attribution of a bucket of `count` mentions (`items` all of them or a sample)."""
    excess = max(count - baseline, 0.0) if baseline is not None else 0.0
    scale = count / len(items) if items else 1.0
    result = {
        "count": count, "baseline": baseline, "excess": round(excess, 2),
        "sampled": len(items) < count,
        "sources": breakdown([i.source for i in items], excess, count, scale),
        "authors": breakdown([i.author for i in items], excess, count, scale),
        "domains": breakdown([domain(i.url) for i in items], excess, count, scale),
        "clusters": cluster_rows(items, groups, excess, count, scale),
        "terms": terms[:TOP],
    }
    result["summary"] = summary(result)
    return result
