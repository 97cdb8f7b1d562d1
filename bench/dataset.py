"""The dashboard benchmarks' database: a 10,000,000-mention and a 1,000,000-mention monitor over
90 days in PostgreSQL, generated in SQL, kept between runs while it is still valid.

`sentimon_bench_dash` holds a `bench_marker` row with GENERATOR_VERSION, the data's end time and
the counts; `ensure()` reuses the database only when the marker matches this version, the counts
are whole and the data ends less than REUSE_HOURS ago (pages show ranges relative to now, so older
data would show emptier recent buckets than a live monitor). Otherwise it drops and regenerates it.

Loading: the migrations make the schema; the mentions table's secondary indexes and constraints
are dropped, rows come from `generate_series` through `INSERT ... SELECT`, then the indexes and
constraints are created again from their own saved definitions (the schema ends as the
migrations made it). Rollups are one SQL `GROUP BY` per bucket size with the same bucket
boundaries as `rollups.bucket_start` (epoch-aligned), checked against the project's own
`rollups.deltas` on a sample of raw rows.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import corpus, create_database, database_exists, database_url, drop_database, make_app

NAME = "sentimon_bench_dash"
GENERATOR_VERSION = "3"
REUSE_HOURS = 6
DAYS = 90
MONITORS = {"10m": 10_000_000, "1m": 1_000_000}
PASSWORD = "bench-password"
EMAIL = "bench@example.com"

FILL = """
INSERT INTO mentions (monitor_id, source_id, external_id, text, author, url, published_at,
                      ingested_at, compound, pos, neu, neg, label, backfilled)
SELECT %(monitor)s, (%(sources)s::int[])[1 + (g %% %(nsources)s)], 'g' || g,
       (%(texts)s::text[])[1 + (g * 7 %% %(ntexts)s)], 'user' || (g %% 500),
       CASE WHEN g %% 3 = 0 THEN 'https://social.example/p/' || g END,
       t.published, t.published + interval '40 seconds',
       c.compound, greatest(c.compound, 0) / 2, 1 - abs(c.compound) / 2, greatest(-c.compound, 0) / 2,
       CASE WHEN c.compound >= 0.05 THEN 'positive' WHEN c.compound <= -0.05 THEN 'negative'
            ELSE 'neutral' END,
       false
FROM generate_series(%(first)s, %(last)s) AS g
CROSS JOIN LATERAL (SELECT %(end)s::timestamp
       - make_interval(secs => ((g * 0.6180339887498949) - floor(g * 0.6180339887498949)) * %(span)s)
       AS published) AS t
CROSS JOIN LATERAL (SELECT round(((((g::bigint * 2654435761) %% 20001) - 10000) / 10000.0
       * (0.75 + 0.25 * sin(g / 150000.0)))::numeric, 4)::float AS compound) AS c
"""

# One pass over the raw rows into 15-minute partial sums; the three bucket sizes are sums of those.
ROLLUP_15M = """
CREATE TEMP TABLE bench_r15 AS
SELECT monitor_id, source_id, date_bin('15 minutes', published_at, timestamp '1970-01-01') AS start,
       count(*) AS n, sum(compound) AS s, count(*) FILTER (WHERE label = 'positive') AS p,
       count(*) FILTER (WHERE label = 'neutral') AS u, count(*) FILTER (WHERE label = 'negative') AS m
FROM mentions GROUP BY 1, 2, 3
"""
ROLLUP = """
INSERT INTO rollups (monitor_id, source_id, bucket, start, count, sum_compound, positive, neutral, negative)
SELECT monitor_id, coalesce(source_id, 0), %(bucket)s, start, sum(n), sum(s), sum(p), sum(u), sum(m)
FROM (SELECT monitor_id, source_id, date_bin(%(size)s::interval, start, timestamp '1970-01-01') AS start,
             n, s, p, u, m FROM bench_r15) AS r
GROUP BY GROUPING SETS ((monitor_id, source_id, start), (monitor_id, start))
"""
SIZES = {"15m": "15 minutes", "1h": "1 hour", "1d": "1 day"}


def _saved_schema(conn) -> tuple[list[str], list[str], list[str]]:
    """(drop, create-index, add-constraint) statements for mentions' secondary indexes and constraints."""
    constraints = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid), conindid FROM pg_constraint "
        "WHERE conrelid = 'mentions'::regclass AND contype IN ('u', 'f')").all()
    owned = {row[2] for row in constraints}
    indexes = conn.exec_driver_sql(
        "SELECT i.indexrelid, c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'mentions'::regclass "
        "AND NOT i.indisprimary").all()
    drops = [f'ALTER TABLE mentions DROP CONSTRAINT "{name}"' for name, _, _ in constraints]
    drops += [f'DROP INDEX "{name}"' for oid, name, _ in indexes if oid not in owned]
    creates = [definition for oid, _, definition in indexes if oid not in owned]
    adds = [f'ALTER TABLE mentions ADD CONSTRAINT "{name}" {definition}' for name, definition, _ in constraints]
    return drops, creates, adds


def _marker(url: str) -> dict | None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT version, data_end, monitors, seconds FROM bench_marker").mappings().first()
            return dict(row) if row else None
    except Exception:
        return None
    finally:
        engine.dispose()


def ensure(urls: dict, tmp: Path, log=print) -> dict:
    """The dashboard database (reused or generated). Returns the marker: version, data_end
    (aware UTC), monitors ({"10m": {"id", "count", ...}, ...}) and the generation seconds."""
    url = database_url(urls, NAME)
    if database_exists(urls, NAME):
        marker = _marker(url)
        if marker and marker["version"] == GENERATOR_VERSION:
            age = datetime.now(timezone.utc) - marker["data_end"].replace(tzinfo=timezone.utc)
            if age < timedelta(hours=REUSE_HOURS) and _migrates(urls, url, tmp, log):
                marker["data_end"] = marker["data_end"].replace(tzinfo=timezone.utc)
                marker["reused"] = True
                _quiet(url)
                log(f"reusing {NAME} (generator v{GENERATOR_VERSION}, data ends {age} ago)")
                grant_access(url)
                return marker
        log(f"{NAME} is stale or from another generator version: generating it again")
        drop_database(urls, NAME)
    marker = generate(urls, tmp, log)
    grant_access(url)
    return marker


def grant_access(url: str) -> None:
    """Make the bench user an editor of its monitors' teams (idempotent). Monitors belong to a
    team and a user outside it is answered 404, so without this every page and API request of
    the benchmarks failed; it changes no data the figures read."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("INSERT INTO team_members (team_id, user_id, role) "
                     "SELECT DISTINCT m.team_id, u.id, 'editor' FROM monitors m, users u "
                     "WHERE u.email = %s AND m.team_id IS NOT NULL ON CONFLICT DO NOTHING", (EMAIL,))


def generate(urls: dict, tmp: Path, log=print) -> dict:
    import json

    from common import app_config
    from webapp.core.extensions import db
    from webapp.people.models import User
    from webapp.monitors.services.manage import create_monitor

    started = time.perf_counter()
    url = create_database(urls, NAME)
    try:
        app = make_app(app_config(tmp, urls, url, "sql://", BUS_CONSUMER_IN_WORKER=False))
        end = datetime.now(timezone.utc).replace(microsecond=0)
        # Post-length texts (the corpus without its long paragraphs): the raw reference reads these
        # rows, and wider rows would only make the reference slower than a real monitor's.
        texts = list(dict.fromkeys(item["text"] for item in corpus(600, seed=90) if len(item["text"]) <= 280))
        monitors: dict[str, dict] = {}
        with app.app_context():
            user = User(email=EMAIL, role="editor")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            for key, n in MONITORS.items():
                monitor = create_monitor(db.session, f"Bench {key} mentions", "", [
                    {"kind": "rss", "url": "https://feeds.example.com/acme.xml", "every": 3600},
                ])
                monitors[key] = {"id": monitor.id, "count": n,
                                 "sources": sorted(s.id for s in monitor.sources)}
            conn = db.session.connection()
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            conn.exec_driver_sql("SET synchronous_commit = off")
            drops, creates, adds = _saved_schema(conn)
            for statement in drops:
                conn.exec_driver_sql(statement)
            db.session.commit()
            t0 = time.perf_counter()
            _fill(url, monitors, texts, end)
            log(f"loaded {sum(MONITORS.values()):,} mentions in {time.perf_counter() - t0:.0f}s")
            t0 = time.perf_counter()
            _parallel(url, creates)  # CREATE INDEX takes a SHARE lock: several can run at once
            _parallel(url, adds, parallel=1)
            log(f"indexes and constraints made again in {time.perf_counter() - t0:.0f}s")
            t0 = time.perf_counter()
            conn = db.session.connection()
            conn.exec_driver_sql(ROLLUP_15M)
            for bucket, size in SIZES.items():
                conn.exec_driver_sql(ROLLUP, {"bucket": bucket, "size": size})
            conn.exec_driver_sql("DROP TABLE bench_r15")
            db.session.commit()
            db.session.connection().exec_driver_sql("ANALYZE mentions")
            db.session.connection().exec_driver_sql("ANALYZE rollups")
            db.session.commit()
            _quiet(url)
            log(f"rollups in {time.perf_counter() - t0:.0f}s")
            check_rollups(db.session, monitors["1m"]["id"], end)
            seconds = time.perf_counter() - started
            conn = db.session.connection()
            conn.exec_driver_sql("CREATE TABLE bench_marker (version text, data_end timestamp, "
                                 "monitors text, seconds float)")
            conn.exec_driver_sql("INSERT INTO bench_marker VALUES (%s, %s, %s, %s)",
                                 (GENERATOR_VERSION, end.replace(tzinfo=None), json.dumps(monitors), seconds))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    except BaseException:
        drop_database(urls, NAME)  # never keep a half-made database
        raise
    return {"version": GENERATOR_VERSION, "data_end": end, "monitors": json.dumps(monitors),
            "seconds": seconds, "reused": False}


def _migrates(urls: dict, url: str, tmp: Path, log) -> bool:
    """Whether the kept database takes the migrations of this checkout (they may have changed)."""
    from common import app_config

    try:
        app = make_app(app_config(tmp, urls, url, "sql://", BUS_CONSUMER_IN_WORKER=False))
    except (Exception, SystemExit) as exc:  # e.g. revisions re-chained since it was made
        log(f"the kept database does not take this checkout's migrations ({exc})")
        return False
    from webapp.core.extensions import db

    with app.app_context():
        db.engine.dispose()
    return True


def _quiet(url: str) -> None:
    """No autovacuum on the static tables: right after the load it would scan 3 GB during the
    measurements (insert-only data has nothing to vacuum; ANALYZE ran after loading)."""
    import psycopg

    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        for table in ("mentions", "rollups"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


def _dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"host={u.host} port={u.port} user={u.username} dbname={u.database}"


def _parallel(url: str, statements: list[str], parallel: int = 2) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    def run(statement):
        with psycopg.connect(_dsn(url), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute(statement)

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(run, statements))


def _fill(url: str, monitors: dict, texts: list[str], end: datetime, parallel: int = 2,
          chunk: int = 1_000_000) -> None:
    """INSERT ... SELECT the mentions in chunks of `chunk` rows over `parallel` connections."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    jobs = [(info, first, min(first + chunk - 1, info["count"]))
            for info in monitors.values() for first in range(1, info["count"] + 1, chunk)]

    def run(job):
        info, first, last = job
        with psycopg.connect(_dsn(url), autocommit=True) as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute(FILL, {
                "monitor": info["id"], "sources": info["sources"], "nsources": len(info["sources"]),
                "texts": texts, "ntexts": len(texts), "first": first, "last": last,
                "end": end.replace(tzinfo=None), "span": DAYS * 86400,
            })

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(run, jobs))


def check_rollups(session, monitor_id: int, end: datetime) -> None:
    """The SQL rollups equal the project's own `rollups.deltas` of the raw rows, on a sample:
    every mention of two hours (15m and 1h buckets) and of one day (1d bucket), all sources."""
    from sqlalchemy import select

    from webapp.ingest.models import Mention, Rollup
    from webapp.ingest import rollups

    day = rollups.bucket_start(end - timedelta(days=37), "1d")
    for bucket, start, length in (("15m", day + timedelta(hours=5), timedelta(hours=2)),
                                  ("1h", day + timedelta(hours=5), timedelta(hours=2)),
                                  ("1d", day, timedelta(days=1))):
        raw = session.execute(select(
            Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound, Mention.label,
        ).where(Mention.monitor_id == monitor_id, Mention.published_at >= start,
                Mention.published_at < start + length)).mappings().all()
        expected = {k: v for k, v in rollups.deltas(raw).items() if k[2] == bucket}
        stored = session.execute(select(Rollup).where(
            Rollup.monitor_id == monitor_id, Rollup.bucket == bucket,
            Rollup.start >= start, Rollup.start < start + length)).scalars().all()
        got = {(r.monitor_id, r.source_id, r.bucket, r.start): r for r in stored}
        if set(got) != set(expected) or not expected:
            raise AssertionError(f"rollups of {bucket} differ from the raw rows in their keys")
        for key, d in expected.items():
            r = got[key]
            if (r.count, r.positive, r.neutral, r.negative) != (d.count, d.positive, d.neutral, d.negative) \
                    or abs(r.sum_compound - d.sum_compound) > 1e-6:
                raise AssertionError(f"rollup {key} differs from the raw rows: {r.count} vs {d.count}")
