"""Authors and languages APIs (issue 15) on a big monitor: p50/p95 of the answers over every range.

The monitor's language and author rollups of N synthetic mentions over 90 days (default 10
million: 12 languages, 1 million Zipf-distributed authors with audiences from 1 to 10 million)
are generated as rollup rows and bulk-loaded (`audience_fill.py`), on PostgreSQL (a fresh
database) and SQLite; no mention rows are needed, since the APIs never read them. The author
totals top authors read (insights/author_totals.py) are built as the fold job does (timed). Then the two
services the APIs call answer `--requests` times per range, cached and cold; cold top authors
alternate with the reference (grouping every row of the range). Goal: p95 < 100 ms; the script
exits 1 when one is missed. Also the language detector's cost per text in a batch, and the
author totals' cost at ingest (`ingest_cost`: the store transaction with and without them,
--ingest-rounds rounds back to back; goal: the median of the rounds' ratios >= 0.9).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import audience_fill
import common
from common import figure, goal, note, percentile

GOAL_MS = 100.0
KEPT_DATABASE = "sentimon_bench_audience_keep"


def measure(app, args, tag: str) -> list[str]:
    """Figures of every range; returns the goals missed. Cold (uncached) top authors alternate
    with the reference, grouping every row of the range, for `reference_requests` rounds. Then
    the totals' cost at ingest (`ingest_cost`)."""
    missed = ranges(app, args.requests, args.reference_requests, tag)
    if args.ingest_mentions:
        ingest_cost(app, tag, args.ingest_mentions, args.ingest_rounds)
    return missed


def ranges(app, requests: int, reference_requests: int, tag: str) -> list[str]:
    from sqlalchemy import text

    from webapp.core.extensions import db
    from webapp.insights import audience, author_totals

    def uncached(w):
        audience._cache.clear()         # every request computes its answer again
        return audience.top_authors(db.session, 1, w, 20)

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        db.session.rollback()
        return 1000 * (time.perf_counter() - started)

    missed = []
    ranked: list[int] = []     # authors ranked exactly per cold request (the rows read follow them)
    rank = audience._rank

    def counting(session, monitor_id, w, limit, authors=None):
        ranked.append(-1 if authors is None else len(authors) if isinstance(authors, list) else limit)
        return rank(session, monitor_id, w, limit, authors)

    with app.app_context():
        built = time.perf_counter()
        authors = author_totals.refresh_due(db.session, datetime.now(timezone.utc), force=True)
        note(f"{tag}: author totals of {sum(authors.values())} authors built in {time.perf_counter() - built:.1f}s")
        if db.engine.dialect.name == "postgresql":   # statistics, as autovacuum gathers them on a new table
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                auto.execute(text("VACUUM ANALYZE author_totals"))
        for name in audience.RANGES:
            w = audience.window(name)
            reference = [timed(lambda: audience._rank(db.session, 1, w, 20)) for _ in range(reference_requests)]
            ref_p95 = percentile(reference, 95) if reference else GOAL_MS
            for what, call in (("authors", lambda: audience.top_authors(db.session, 1, w, 20)),
                               ("authors_uncached", lambda: uncached(w)),
                               ("languages", lambda: audience.languages(db.session, 1, w))):
                call()  # warm the cache of the database
                times = []
                for i in range(requests):
                    times.append(timed(call))
                    if what == "authors_uncached" and i < reference_requests:   # interleaved rounds
                        reference.append(timed(lambda: audience._rank(db.session, 1, w, 20)))
                p95 = percentile(times, 95)
                figure(f"{tag}.{what}.{name}.p50", percentile(times, 50), "ms", "goal", GOAL_MS)
                if what == "authors_uncached":
                    ranked.clear()
                    audience._rank = counting
                    uncached(w)
                    audience._rank = rank
                    path = "every row grouped" if -1 in ranked else f"{sum(ranked)} authors ranked in {len(ranked)} calls"
                    note(f"{tag} authors {name}: {path}")
                if what == "authors_uncached" and reference:
                    ref_p95 = percentile(reference, 95)
                    figure(f"{tag}.{what}.{name}.p95_vs_every_row", p95, "ms", "group_every_row_p95", ref_p95)
                figure(f"{tag}.{what}.{name}.p95", p95, "ms", "goal", GOAL_MS)
                goal(f"{tag} {what} {name} p95 < {GOAL_MS:.0f} ms", p95 < GOAL_MS)
                if p95 >= GOAL_MS:
                    missed.append(f"{tag} {what} {name}")
        db.session.remove()
    return missed


def ingest_cost(app, tag: str, mentions: int, rounds: int) -> None:
    """Mentions/s of ingest's store transaction (`store_batch`, as shipped, batches of 500 of a
    live stream) with the author totals kept and without (their upserts left out), `rounds` times
    each, back to back in alternating order, in a process warmed as the consumer is
    (`consumer.warm`) after one untimed batch; each round starts with VADER's cache of scored
    texts empty (a live stream's texts are new). Goal: the median of the rounds' ratios >= 0.9."""
    import statistics

    from bench_pipeline import timestamps
    from bench_terms import batches, warm_store
    from webapp.core.extensions import db
    from webapp.ingest.store import store_batch
    from webapp.insights import author_totals
    from webapp.monitors.services.manage import create_monitor, system_source
    from webapp.scoring import sentiment

    items, add = common.corpus(mentions, seed=15), author_totals.add
    stamps = timestamps(len(items), datetime.now(timezone.utc))
    with app.app_context():
        warm_store(items, stamps)

        def run(r: int, kept: bool) -> float:
            monitor = create_monitor(db.session, f"ingest {r} {kept}", "", [])
            source = system_source(monitor, "push").id
            author_totals.add = add if kept else (lambda session, authors: None)
            sentiment.clear_caches()
            try:
                started = time.perf_counter()
                for batch in batches(monitor.id, source, items, stamps, f"{r}{kept}"):
                    store_batch(db.session, batch)
                    db.session.commit()
                return len(items) / (time.perf_counter() - started)
            finally:
                author_totals.add = add

        rates = common.alternating(rounds, run)
        db.session.remove()
    figure(f"{tag}.ingest_with_author_totals", statistics.median(rates[True]), "mentions/s",
           "without_author_totals", statistics.median(rates[False]))
    paired = common.paired_median(f"{tag}.ingest_with_author_totals", rates, 0.9)
    goal(f"{tag} author totals cost ingest's store transaction at most 10 % (median of the rounds' ratios >= 0.9)",
         paired >= 0.9)


def detector_cost() -> None:
    from webapp.insights import languages

    texts = [row["text"] for row in common.corpus(20_000)]
    languages.detect("warm the model up")
    started = time.perf_counter()
    languages.detect_many(texts)
    per = 1e6 * (time.perf_counter() - started) / len(texts)
    figure("detector.per_text", per, "us", "goal", 1000.0)


def fill_only(folder: Path, args, now: datetime) -> None:
    """Fill kept databases (the same rows as a measured run) for later `--reuse` runs."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = []
    if not args.postgresql_only:
        (folder / "audience.db").unlink(missing_ok=True)
        targets.append(("sqlite", f"sqlite:///{folder / 'audience.db'}"))
    if not args.sqlite_only:
        urls = common.service_urls()
        common.drop_database(urls, KEPT_DATABASE)
        targets.append(("postgresql", common.create_database(urls, KEPT_DATABASE)))
    for tag, url in targets:
        app = common.make_app({"INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench-secret",
                               "DATABASE_URL": url, "BUS_URL": "sql://"})
        rows, seconds = audience_fill.load(app, audience_fill.generate(args.mentions, args.authors, now))
        note(f"{tag}: {args.mentions} mentions' rollups ({rows} rows) written in {seconds:.0f}s: --reuse {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=10_000_000, help="300000 for a quick check")
    parser.add_argument("--authors", type=int, default=1_000_000, help="30000 for a quick check")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reference-requests", type=int, default=3,
                        help="rounds of the reference (grouping every row) between the cold requests")
    parser.add_argument("--ingest-mentions", type=int, default=6_000,
                        help="mentions stored per round to time the totals' cost at ingest (0: skip)")
    parser.add_argument("--ingest-rounds", type=int, default=9)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE_URL",
                        help="measure a database this bench filled before (--fill-only) instead of filling one")
    parser.add_argument("--fill-only", metavar="DIR",
                        help="fill PostgreSQL database sentimon_bench_audience_keep and DIR/audience.db, keep "
                             "them, print their URLs and exit (measure them later with --reuse)")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    detector_cost()
    note(f"load: {Path('/proc/loadavg').read_text().split()[:3]} on {os.cpu_count()} cores")
    if args.fill_only:
        return fill_only(Path(args.fill_only), args, now)
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name:
        tmp = Path(tmp_name)

        def filled(app, tag):
            rows, seconds = audience_fill.load(app, audience_fill.generate(args.mentions, args.authors, now))
            note(f"{tag}: {args.mentions} mentions' rollups ({rows} rows, {args.authors} authors) written in {seconds:.0f}s")
            return app

        if args.reuse:
            config = {"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-secret",
                      "DATABASE_URL": args.reuse, "BUS_URL": "sql://"}
            missed += measure(common.make_app(config), args, "reused")
        if not args.reuse and not args.postgresql_only:
            sqlite = common.make_app({"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-secret",
                                      "DATABASE_URL": f"sqlite:///{tmp / 'audience.db'}", "BUS_URL": "sql://"})
            missed += measure(filled(sqlite, "sqlite"), args, "sqlite")
        if not args.reuse and not args.sqlite_only:
            urls = common.service_urls()
            with common.fresh_database(urls) as url:
                pg = filled(common.make_app(common.app_config(tmp, urls, url, "sql://")), "postgresql")
                missed += measure(pg, args, "postgresql")
                from webapp.core.extensions import db
                with pg.app_context():
                    db.engine.dispose()
    note(f"load: {Path('/proc/loadavg').read_text().split()[:3]}")
    if missed:
        note("missed: " + ", ".join(missed))
        return 1


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
