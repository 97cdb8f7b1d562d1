"""A demo source that stays believable for days, offline: generated mentions of a fictional
espresso machine at the pace and daily rhythm of real talk.

The first fetch backfills a week of history (BACKFILL mentions, busier in the afternoon, UTC).
Each later fetch adds the mentions due since the previous one at the same pace and rhythm (about
BACKFILL / 168 an hour on average), whatever the fetch interval: a fractional carry keeps the
count exact, and a long pause is caught up (at most a week). Texts come from the template
generator (demo_text.compose), seeded by position, so they do not repeat in a loop, the
sentiment mix stays steady (rules on it stay quiet), and output depends only on (cursor, ctx.now).

Cursor: {"position": <mentions emitted so far>, "started": <ISO time of the first fetch>,
"until": <ISO time the emitted mentions cover>, "carry": <fraction of a mention owed>}.
Mention ids are "g<position>". Older cursors (without "until") continue from "now".
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SourceAdapter, SourceError,
)
from webapp.core.times import read_time
from webapp.monitors.sources import demo_text
from webapp.monitors.sources.settings_checks import clean_int, settings_object

SAMPLES_PATH = Path(__file__).resolve().parents[2] / "data" / "demo_mentions.jsonl"
BACKFILL = 1200  # mentions of the first fetch...
BACKFILL_SPAN = timedelta(days=7)  # ...spread over this much history before now, busier by day
PEAK_HOUR_UTC = 15
PER_HOUR = BACKFILL / (BACKFILL_SPAN / timedelta(hours=1))  # the live pace, on average
MAX_CATCH_UP = BACKFILL_SPAN    # after a long pause, at most this much is filled in
PER_FETCH_DEFAULT, PER_FETCH_MIN, PER_FETCH_MAX = 8, 1, 200   # an old setting, accepted and ignored


@lru_cache(maxsize=4)
def load_samples(path: Path = SAMPLES_PATH) -> tuple[dict, ...]:
    """The bundled sample mentions of `path` (scripts/make_demo_data.py), read once per process."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        samples = tuple(json.loads(line) for line in lines if line.strip())
    except (OSError, ValueError) as exc:
        raise SourceError("demo_data", f"the demo sample file cannot be read: {exc}") from None
    if not samples:
        raise SourceError("demo_data", "the demo sample file is empty")
    return samples


def generated_item(position: int, published_at: datetime) -> FetchedItem:
    """The mention at `position` of the demo's endless, never-looping stream."""
    made = demo_text.compose(position)
    return FetchedItem(external_id=f"g{position}", text=made["text"], author=made["author"],
                       url=made["url"], published_at=published_at)


def weight(at: datetime) -> float:
    """The daily rhythm: relative talk at `at` (peak at PEAK_HOUR_UTC, a fifth of it at night)."""
    return 1.2 + math.cos(2 * math.pi * ((at.hour + at.minute / 60 - PEAK_HOUR_UTC) / 24))


def due(start: datetime, end: datetime) -> float:
    """Mentions due over [start, end) at the history's pace and rhythm (in minute steps)."""
    total, t = 0.0, start
    mean = 1.2                                      # the average of weight() over a day
    while t < end:
        step = min(timedelta(minutes=1), end - t)
        total += PER_HOUR * weight(t) / mean * (step / timedelta(hours=1))
        t += step
    return total


def spread(now: datetime, span: timedelta, count: int) -> list[datetime]:
    """`count` instants evenly spaced over [now - span, now), oldest first."""
    return [now - span * (count - i) / count for i in range(count)]


def daily_rhythm(now: datetime, span: timedelta, count: int) -> list[datetime]:
    """`count` instants over [now - span, now), oldest first, denser in the afternoon (UTC).

    Each hour gets a share of `count` that follows a daily sine (peak at PEAK_HOUR_UTC, a
    fifth of the peak at night); within an hour the instants are evenly spaced.
    """
    hours = max(1, int(span.total_seconds() // 3600))
    start = now - timedelta(hours=hours)
    weights = [1.2 + math.cos(2 * math.pi * (((start + timedelta(hours=h)).hour - PEAK_HOUR_UTC) / 24))
               for h in range(hours)]
    total = sum(weights)
    exact = [count * w / total for w in weights]
    shares = [int(x) for x in exact]
    # Largest remainders get the items left over, so the shares add up to `count`.
    for h in sorted(range(hours), key=lambda h: exact[h] - shares[h], reverse=True)[:count - sum(shares)]:
        shares[h] += 1
    times = []
    for h, n in enumerate(shares):
        hour_start = start + timedelta(hours=h)
        times.extend(hour_start + timedelta(hours=1) * i / n for i in range(n))
    return times


def parse_per_fetch(value) -> int:
    """`per_fetch` of older settings, checked as before (the pace no longer depends on it)."""
    return clean_int(value, "per_fetch", PER_FETCH_DEFAULT, PER_FETCH_MIN, PER_FETCH_MAX)


def valid_position(cursor: dict) -> int | None:
    position = (cursor or {}).get("position")
    if isinstance(position, int) and not isinstance(position, bool) and position >= 0:
        return position
    return None


def cursor_time(text, fallback: datetime) -> datetime:
    """The cursor's time (core.times.read_time), or `fallback` when it has none or it is unreadable."""
    try:
        return read_time(text) or fallback
    except ValueError:
        return fallback


class DemoAdapter(SourceAdapter):
    kind = "demo"
    dedupe_urls = False  # generated mentions may share a link, like reposts do
    label = "Demo data (offline generated mentions)"
    help = ("Generated sample mentions at a believable pace: works offline, no account needed. Good for "
            "trying Sentimon out.")
    fields = ()

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        if "per_fetch" in settings:           # older monitors: still checked, kept, no effect
            return {"per_fetch": parse_per_fetch(settings.get("per_fetch"))}
        return {}

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        position = valid_position(cursor)
        if position is None:  # first fetch: a week of history at once
            times = daily_rhythm(ctx.now, BACKFILL_SPAN, BACKFILL)
            items = [generated_item(i, when) for i, when in enumerate(times)]
            return FetchResult(items=items, cursor={"position": len(items), "started": ctx.now.isoformat(),
                                                    "until": ctx.now.isoformat(), "carry": 0.0})
        since = max(cursor_time(cursor.get("until"), ctx.now), ctx.now - MAX_CATCH_UP)
        carry = cursor.get("carry")
        carry = float(carry) if isinstance(carry, (int, float)) and not isinstance(carry, bool) \
            and 0 <= carry < 1 else 0.0
        owed = carry + (due(since, ctx.now) if since < ctx.now else 0.0)
        count = int(owed)
        times = spread(ctx.now, ctx.now - since, count) if count else []
        items = [generated_item(position + i, when) for i, when in enumerate(times)]
        return FetchResult(items=items, cursor={
            "position": position + count, "started": cursor.get("started") or ctx.now.isoformat(),
            "until": max(since, ctx.now).isoformat(), "carry": round(owed - count, 6)})
