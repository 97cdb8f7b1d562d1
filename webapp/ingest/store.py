"""Store a batch of bus records as scored mentions, with their rollups, in one transaction.

Idempotent on (monitor, source, external id): `INSERT ... ON CONFLICT DO NOTHING RETURNING`
tells which rows were really inserted, and only those change the rollups. The caller commits.
Fetched mentions are also unique per monitor on their canonical URL (`url_key`, see
services/canonical.py), so a page brought by two sources is stored once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp.monitors.models import SYSTEM_KINDS, Source
from webapp.ingest.models import Mention
from webapp.core import metrics
from webapp.ingest import rollups, term_deltas
from webapp.mentions.inbox import autotag
from webapp.mentions.noise import service as noise
from webapp.scoring import scorers
from webapp.ingest.canonical import url_key
from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT, MAX_URL
from webapp.core.times import read_time
from webapp.core.sql import insert_for, unnest_rows
from webapp.insights import rollups as insight_rollups
from webapp.insights.influence import is_mixed
from webapp.insights.languages import MAX_FIGURE, detect_many, normalize_code

FUTURE_SLACK = timedelta(minutes=5)


def dedupes_urls(kind: str) -> bool:
    """Are this kind's mentions deduplicated by canonical URL? Pushed and imported mentions
    (SYSTEM_KINDS) are kept as given; an adapter may opt out (`SourceAdapter.dedupe_urls`)."""
    from webapp.monitors.sources import UnknownSourceKind, get_adapter

    if kind in SYSTEM_KINDS:
        return False
    try:
        return get_adapter(kind).dedupe_urls
    except UnknownSourceKind:
        return True


class BadRecord(ValueError):
    """A record that can never be stored (it goes to the dead letters with this reason)."""


@dataclass
class IngestResult:
    inserted: int = 0
    duplicates: int = 0
    orphaned: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (index in batch, reason)
    stored_by_kind: dict[str, int] = field(default_factory=dict)  # counted once committed (metrics)


def record_time(value, default: datetime) -> datetime:
    """A record's time (`core.times.read_time`: ISO 8601, Unix seconds or a datetime) as aware
    UTC; `default` when absent. The importer checks its rows with it, so what it publishes reads."""
    try:
        when = read_time(value)
    except ValueError as exc:
        raise BadRecord(f"published_at {value!r} is not an ISO 8601 time") from exc
    return default if when is None else when


def _opt_str(value, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{name} must be a string")
    return value[:limit]


def normalize(value: dict, now: datetime) -> dict:
    """Check and normalise one bus record into mention columns (pure)."""
    if not isinstance(value, dict):
        raise BadRecord("record is not an object")
    try:
        monitor_id, source_id = int(value["monitor_id"]), int(value["source_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRecord("monitor_id and source_id must be integers") from exc
    external_id = value.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if not isinstance(external_id, str) or not external_id.strip():
        raise BadRecord("external_id must be a non-empty string")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise BadRecord(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRecord("text must be a non-empty string")
    received = record_time(value.get("received_at"), now)
    published = record_time(value.get("published_at"), received)
    if published > received + FUTURE_SLACK:
        published = received  # a clock in the future would put the mention out of every chart
    return {
        "monitor_id": monitor_id,
        "source_id": source_id,
        "external_id": external_id,
        "text": text[:MAX_TEXT],
        "author": _opt_str(value.get("author"), "author", MAX_AUTHOR),
        "url": _opt_str(value.get("url"), "url", MAX_URL),
        "published_at": published,
        "ingested_at": now,
        "backfilled": value.get("backfilled") is True,
        **extras(value),
    }


def _figure(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FIGURE:
        return None
    return value


def extras(value: dict) -> dict:
    """A record's optional lang, reach and engagement (pure). Records published before these
    fields existed, or by an adapter whose service sent nonsense, read as unknown: the language
    is then detected, the figures stay None (the push and import edges refuse bad values)."""
    try:
        lang = None if value.get("lang") is None else normalize_code(value["lang"])
    except ValueError:
        lang = None
    return {"lang": lang, "reach": _figure(value.get("reach")), "engagement": _figure(value.get("engagement"))}


def store_batch(session, values: list[dict], now: datetime | None = None, terms: bool = True) -> IngestResult:
    """Score and insert `values`; update rollups (and, with `terms`, the term rollups) for the
    inserted rows only. Does not commit."""
    now = now or datetime.now(timezone.utc)
    result = IngestResult()
    rows: dict[tuple, dict] = {}
    for index, value in enumerate(values):
        try:
            row = normalize(value, now)
        except BadRecord as exc:
            result.rejected.append((index, str(exc)))
            continue
        identity = (row["monitor_id"], row["source_id"], row["external_id"])
        if identity in rows:
            result.duplicates += 1
        else:
            rows[identity] = row
    if not rows:
        return result

    # Records of a source deleted since they were published are dropped, not retried forever.
    pairs = {(m, s) for m, s, _ in rows}
    found = session.execute(
        select(Source.monitor_id, Source.id, Source.kind).where(Source.id.in_({s for _, s in pairs}))
    ).all()
    live = {(m, s) for m, s, _ in found}
    for identity in [i for i in rows if (i[0], i[1]) not in live]:
        del rows[identity]
        result.orphaned += 1
    if not rows:
        return result
    result.duplicates += _key_urls(rows, {s for _, s, kind in found if dedupes_urls(kind)})

    batch = list(rows.values())
    scoring_started = time.perf_counter()
    # Languages first (offline detector, insights/languages.py), for rows that came without one.
    unknown = [row for row in batch if row["lang"] is None]
    for row, lang in zip(unknown, detect_many([row["text"] for row in unknown])):
        row["lang"] = lang
    # Each monitor's rows are scored with the scorer it chose (VADER unless changed), batched,
    # with the monitor's lexicon adjustments layered over VADER (scoring/lexicon.py); a row in a
    # language that no scorer of its monitor reads stays unscored (None: no label, no compound).
    for row, score in zip(batch, scorers.score_rows(session, batch)):
        if score is None:
            row.update(compound=None, pos=None, neu=None, neg=None, label=None, scored=False, mixed=False)
        else:
            row.update(compound=score.compound, pos=score.pos, neu=score.neu, neg=score.neg,
                       label=score.label, scored=True, mixed=is_mixed(score.pos, score.neg))
    kinds = {s: kind for _, s, kind in found}
    metrics.mentions_scored(metrics.by_kind(batch, kinds), time.perf_counter() - scoring_started)

    # Noise control: muted mentions are stored but counted in no rollup (mentions/noise.py).
    noise.mark(session, batch)

    inserted = _insert_new(session, batch)
    fresh = [dict(rows[(m, s, e)], id=mention_id) for m, s, e, mention_id in inserted]
    result.inserted = len(fresh)
    result.stored_by_kind = metrics.by_kind(fresh, kinds)
    result.duplicates += len(batch) - len(fresh)
    counted = [r for r in fresh if not r["muted"]]
    rollups.apply(session, rollups.deltas(counted))
    if terms:   # insights' words and phrases (ingest/term_deltas.py, folded later), same rows, same transaction
        term_deltas.write(session, counted)
    insight_rollups.apply(session, insight_rollups.deltas(counted))
    # Auto-tag rules (mentions/autotag.py) tag the new rows in this same transaction.
    autotag.tag_new(session, fresh)
    return result


def _insert_new(session, batch: list[dict]) -> list[tuple]:
    """INSERT `batch`, skipping rows that break a unique constraint; (identity..., id) of those inserted.

    No conflict target: any unique violation is skipped, the identity (monitor, source,
    external id) and the canonical URL of a fetched mention (monitor, url_key) alike. On
    PostgreSQL the rows go as one array per column (`INSERT ... SELECT unnest(...)`, each column
    one string: `core.sql.unnest_rows`): a dozen parameters instead of a dozen per row, which the
    driver would otherwise rewrite on every batch (the consumer's hot spot in bench/bench_pipeline.py).
    """
    bind = session.get_bind()
    table = Mention.__table__
    returning = (table.c.monitor_id, table.c.source_id, table.c.external_id, table.c.id)
    names = list(batch[0])
    if bind.dialect.name != "postgresql" or any(list(row) != names for row in batch):
        stmt = insert_for(bind)(table).on_conflict_do_nothing().returning(*returning)
        return session.execute(stmt, batch).all()
    stmt = (insert_for(bind)(table).from_select(*unnest_rows(bind, table, batch))
            .on_conflict_do_nothing().returning(*returning))
    return session.execute(stmt).all()


def _key_urls(rows: dict[tuple, dict], fetched_sources: set[int]) -> int:
    """Give each row its url_key and drop rows whose key an earlier row of the batch has.

    Only mentions of fetched sources are keyed (pushed and imported ones are kept as given):
    the same page brought by two sources of a monitor is one mention. The database's unique
    index on (monitor, url_key) catches repeats across batches; this catches them inside one,
    where a multi-row INSERT would otherwise depend on the dialect. Returns the rows dropped.
    """
    seen: set[tuple[int, str]] = set()
    dropped = 0
    for identity, row in list(rows.items()):
        key = url_key(row["url"]) if row["source_id"] in fetched_sources else None
        row["url_key"] = key
        if key is None:
            continue
        if (row["monitor_id"], key) in seen:
            del rows[identity]
            dropped += 1
        else:
            seen.add((row["monitor_id"], key))
    return dropped
