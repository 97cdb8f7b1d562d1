"""The audience bench's monitor: language and author rollups of N synthetic mentions over 90 days,
generated as rollup rows (no mention rows, no per-mention Python) and bulk-loaded, so that 10
million mentions' worth loads in minutes.

The mentions follow `bench_audience.synthetic`'s model, drawn with numpy: authors Zipf-distributed
(weight 1 / rank, drawn by the inverse of its continuous CDF), each with one audience (reach)
log-uniform from 1 to 10 million; times uniform over 90 days; 12 languages (English and `und`
scored, with a uniform compound); engagement 0-50 a mention; every 17th mixed. They are summed
per (hour, author), (day, author), (hour, language) and (day, language) as ingest's
`insights/rollups.py: deltas` sums them (mentions, largest reach, engagement, scored, sentiment
sum; count, scored, mixed, reach sum), with the same epoch-aligned bucket starts. The author
table's secondary indexes are dropped for the load and made again (from the model's own
definitions); PostgreSQL loads by COPY, SQLite by executemany on the raw connection.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np

LANGS = ["en"] * 60 + ["und"] * 12 + ["es"] * 8 + ["fr"] * 6 + ["de"] * 5 + ["pt"] * 3 + \
        ["it", "nl", "ja", "ru", "pl", "tr"]
DAYS = 90
CHUNK = 200_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _sum_by(keys: np.ndarray, columns: dict[str, tuple[np.ndarray, str]]) -> tuple[np.ndarray, dict]:
    """(distinct keys, {name: per-key sum or max of the column})."""
    unique, inverse = np.unique(keys, return_inverse=True)
    out = {}
    for name, (values, how) in columns.items():
        if how == "sum":
            out[name] = np.bincount(inverse, weights=values, minlength=len(unique))
        else:
            top = np.zeros(len(unique), dtype=values.dtype)
            np.maximum.at(top, inverse, values)
            out[name] = top
    return unique, out


def generate(n: int, authors: int, now: datetime, seed: int = 15) -> Iterator[tuple[str, list[tuple]]]:
    """(table, rows) chunks for "author_rollups", "lang_rollups" and "rollups": tuples in the tables' column
    order (monitor_id 1, aware UTC bucket starts), each bucket's rows in their unique key's order."""
    rng = np.random.default_rng(seed)
    audience = (10 ** rng.uniform(0, 7, authors)).astype(np.int64)
    who = np.minimum(np.exp(rng.random(n) * np.log(authors + 1)).astype(np.int64) - 1, authors - 1)
    end = int((now - _EPOCH).total_seconds())
    published = end - (rng.random(n) * DAYS * 86400).astype(np.int64)
    codes = sorted(set(LANGS))
    lang = np.array([codes.index(code) for code in LANGS])[rng.integers(0, len(LANGS), n)]
    scored = np.isin(lang, [codes.index("en"), codes.index("und")]).astype(np.float64)
    compound = np.where(scored > 0, rng.uniform(-1, 1, n), 0.0)
    engagement = rng.integers(0, 51, n)
    mixed = (np.arange(n) % 17 == 0).astype(np.float64)
    reach = audience[who]
    ones = np.ones(n)
    for bucket, size in (("1h", 3600), ("1d", 86400)):
        slot = published // size
        starts = {s: _EPOCH + timedelta(seconds=s * size) for s in np.unique(slot).tolist()}
        keys, sums = _sum_by(slot * len(codes) + lang, {
            "count": (ones, "sum"), "scored": (scored, "sum"), "mixed": (mixed, "sum"),
            "reach": (reach.astype(np.float64), "sum")})
        yield "lang_rollups", [
            (1, bucket, starts[s], codes[code], int(c), int(sc), int(mx), int(r))
            for s, code, c, sc, mx, r in zip((keys // len(codes)).tolist(), (keys % len(codes)).tolist(),
                                             *(sums[k].tolist() for k in ("count", "scored", "mixed", "reach")))]
        keys, sums = _sum_by(slot, {"count": (ones, "sum"), "sum_compound": (compound, "sum"),
                                    "neutral": (scored, "sum")})
        yield "rollups", [   # the monitor's time rollups (all sources): what the cache's fingerprint reads
            (1, 0, bucket, starts[s], int(c), total, 0, int(u), 0)
            for s, c, total, u in zip(keys.tolist(), *(sums[k].tolist() for k in ("count", "sum_compound", "neutral")))]
        keys, sums = _sum_by(slot * authors + who, {
            "mentions": (ones, "sum"), "reach": (reach, "max"), "engagement": (engagement.astype(np.float64), "sum"),
            "scored": (scored, "sum"), "sum_compound": (compound, "sum")})
        columns = [(keys // authors).tolist(), (keys % authors).tolist()] + [
            sums[k].tolist() for k in ("mentions", "reach", "engagement", "scored", "sum_compound")]
        del keys, sums
        for i in range(0, len(columns[0]), CHUNK):
            yield "author_rollups", [
                (1, bucket, starts[s], f"author{a}", int(m), int(r), int(e), int(sc), c)
                for s, a, m, r, e, sc, c in zip(*(column[i:i + CHUNK] for column in columns))]


COLUMNS = {"author_rollups": ("monitor_id", "bucket", "start", "author", "mentions", "reach", "engagement",
                              "scored", "sum_compound"),
           "lang_rollups": ("monitor_id", "bucket", "start", "lang", "count", "scored", "mixed", "reach"),
           "rollups": ("monitor_id", "source_id", "bucket", "start", "count", "sum_compound", "positive", "neutral",
                       "negative")}


def load(app, chunks: Iterable[tuple[str, list[tuple]]]) -> tuple[int, float]:
    """Bulk-load `generate`'s rows into the app's database (monitor 1 made first): (rows, seconds)."""
    from sqlalchemy import text
    from sqlalchemy.schema import CreateIndex, DropIndex

    from webapp.core.extensions import db
    from webapp.insights.models import AuthorRollup
    from webapp.monitors.services.manage import create_monitor

    started, count = time.perf_counter(), 0
    with app.app_context():
        create_monitor(db.session, "big", "", [])
        db.session.commit()
        conn = db.session.connection()
        postgresql = conn.dialect.name == "postgresql"
        indexes = list(AuthorRollup.__table__.indexes)
        for index in indexes:
            conn.execute(DropIndex(index))
        raw = conn.connection.dbapi_connection
        to_sql = AuthorRollup.__table__.c.start.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        stored: dict = {}
        for table, rows in chunks:
            names = COLUMNS[table]
            at = names.index("start")
            rows = [row[:at] + (stored.get(row[at]) or stored.setdefault(row[at], to_sql(row[at])),) + row[at + 1:]
                    for row in rows]
            count += len(rows)
            if postgresql:
                with raw.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                raw.cursor().executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)
        for index in indexes:
            conn.execute(CreateIndex(index))
        db.session.commit()
        db.session.remove()
        if postgresql:     # statistics and the visibility map, as autovacuum keeps them on a live table
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                for table in COLUMNS:
                    auto.execute(text(f"VACUUM ANALYZE {table}"))
    return count, time.perf_counter() - started
