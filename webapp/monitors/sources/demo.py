"""A demo source that replays bundled sample mentions, so a fresh install shows data offline.

The samples (`webapp/data/demo_mentions.jsonl`, made by `scripts/make_demo_data.py`) are about
a fictional espresso machine. The first fetch backfills a week of history at once, so charts
have something to show; each later fetch replays the next few samples as if just posted.
Output depends only on (settings, cursor, ctx.now): no randomness, no network.

Cursor: {"position": <samples emitted so far>, "started": <ISO time of the first fetch>}.
A replayed sample gets the id "<sample id>-r<round>", where round counts passes over the whole
file, so a second pass yields new mentions instead of duplicates the database would drop.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from webapp.monitors.sources.base import (
    FetchContext, FetchedItem, FetchResult, SettingField, SourceAdapter, SourceError,
    SourceSettingsError,
)
from webapp.monitors.sources.settings_checks import settings_object

SAMPLES_PATH = Path(__file__).resolve().parents[2] / "data" / "demo_mentions.jsonl"
BACKFILL = 1200  # samples emitted by the first fetch (the sample set replayed twice)...
BACKFILL_SPAN = timedelta(days=7)  # ...spread over this much history before now, busier by day
PEAK_HOUR_UTC = 15
RECENT_SPAN = timedelta(minutes=5)  # later fetches' samples fall within this before now
PER_FETCH_DEFAULT, PER_FETCH_MIN, PER_FETCH_MAX = 8, 1, 200


@lru_cache(maxsize=4)
def load_samples(path: Path = SAMPLES_PATH) -> tuple[dict, ...]:
    """The sample mentions of `path`, read once per process (on first use, not at import)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        samples = tuple(json.loads(line) for line in lines if line.strip())
    except (OSError, ValueError) as exc:
        raise SourceError("demo_data", f"the demo sample file cannot be read: {exc}") from None
    if not samples:
        raise SourceError("demo_data", "the demo sample file is empty")
    return samples


def sample_item(samples, position: int, published_at: datetime) -> FetchedItem:
    """The mention emitted at `position` of the endless replay of `samples`."""
    rnd, index = divmod(position, len(samples))
    sample = samples[index]
    return FetchedItem(
        external_id=f"{sample['id']}-r{rnd}",
        text=sample["text"],
        author=sample.get("author"),
        url=sample.get("url"),
        published_at=published_at,
    )


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
    """`per_fetch` as an int in range; accepts ints and digit strings (form input)."""
    if value is None or value == "":
        return PER_FETCH_DEFAULT
    if isinstance(value, bool):
        raise SourceSettingsError("per_fetch", "per_fetch must be a whole number")
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise SourceSettingsError("per_fetch", "per_fetch must be a whole number")
        value = int(value)
    if not isinstance(value, int):
        raise SourceSettingsError("per_fetch", "per_fetch must be a whole number")
    if not PER_FETCH_MIN <= value <= PER_FETCH_MAX:
        raise SourceSettingsError(
            "per_fetch", f"per_fetch must be from {PER_FETCH_MIN} to {PER_FETCH_MAX}")
    return value


def valid_position(cursor: dict) -> int | None:
    position = (cursor or {}).get("position")
    if isinstance(position, int) and not isinstance(position, bool) and position >= 0:
        return position
    return None


class DemoAdapter(SourceAdapter):
    kind = "demo"
    dedupe_urls = False  # it replays its samples, URLs included, round after round
    label = "Demo data (offline sample mentions)"
    help = ("Bundled sample mentions replayed on schedule: works offline, no account needed. Good for "
            "trying Sentimon out.")
    fields = (
        SettingField("per_fetch", "Mentions per fetch", False,
                     f"How many sample mentions each fetch replays "
                     f"({PER_FETCH_MIN}-{PER_FETCH_MAX}, default {PER_FETCH_DEFAULT})."),
    )

    def clean_settings(self, settings: dict, policy=None) -> dict:
        settings_object(settings)
        return {"per_fetch": parse_per_fetch(settings.get("per_fetch"))}

    def fetch(self, settings: dict, cursor: dict, ctx: FetchContext) -> FetchResult:
        samples = load_samples()
        position = valid_position(cursor)
        if position is None:  # first fetch: a week of history at once
            start, times = 0, daily_rhythm(ctx.now, BACKFILL_SPAN, BACKFILL)
            started = ctx.now.isoformat()
        else:
            try:
                count = parse_per_fetch((settings or {}).get("per_fetch"))
            except SourceSettingsError as exc:
                raise SourceError("settings", exc.message) from None
            start, times = position, spread(ctx.now, RECENT_SPAN, count)
            started = cursor.get("started") or ctx.now.isoformat()
        items = [sample_item(samples, start + i, when) for i, when in enumerate(times)]
        return FetchResult(items=items,
                           cursor={"position": start + len(items), "started": started})
