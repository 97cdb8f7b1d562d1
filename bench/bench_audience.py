"""Authors and languages APIs (issue 15) on a big monitor: p50/p95 of the answers over every range.

The monitor's language and author rollups are written the way ingest writes them
(`webapp/insights/rollups.py: deltas` + `apply`) for N synthetic mentions over 90 days (12
languages, Zipf-distributed authors with audiences from 0 to 10 million), on PostgreSQL (a fresh
database) and SQLite; no mention rows are needed, since the APIs never read them. Then the two
services the APIs call answer `--requests` times per range. Goal: p95 < 100 ms. Also the language
detector's cost per text in a batch (the pipeline's added work per mention).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import audience_fill
import common
from common import figure, goal, note, percentile

GOAL_MS = 100.0


def measure(app, requests: int, tag: str) -> None:
    from webapp.core.extensions import db
    from webapp.insights import audience

    def uncached(session, w):
        audience._cache.clear()         # every request groups the rollups again
        return audience.top_authors(session, 1, w, 20)

    with app.app_context():
        for name in audience.RANGES:
            w = audience.window(name)
            for what, call in (("authors", lambda: audience.top_authors(db.session, 1, w, 20)),
                               ("authors_uncached", lambda: uncached(db.session, w)),
                               ("languages", lambda: audience.languages(db.session, 1, w))):
                call()  # warm the cache of the database
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    call()
                    times.append(1000 * (time.perf_counter() - started))
                p95 = percentile(times, 95)
                figure(f"{tag}.{what}.{name}.p50", percentile(times, 50), "ms", "goal", GOAL_MS)
                figure(f"{tag}.{what}.{name}.p95", p95, "ms", "goal", GOAL_MS)
                goal(f"{tag} {what} {name} p95 < {GOAL_MS:.0f} ms", p95 < GOAL_MS)
        db.session.remove()


def detector_cost() -> None:
    from webapp.insights import languages

    texts = [row["text"] for row in common.corpus(20_000)]
    languages.detect("warm the model up")
    started = time.perf_counter()
    languages.detect_many(texts)
    per = 1e6 * (time.perf_counter() - started) / len(texts)
    figure("detector.per_text", per, "us", "goal", 1000.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=300_000)
    parser.add_argument("--authors", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    detector_cost()
    urls = None if args.sqlite_only else common.service_urls()
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name:
        tmp = Path(tmp_name)
        sqlite = common.make_app({"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-secret",
                                  "DATABASE_URL": f"sqlite:///{tmp / 'audience.db'}", "BUS_URL": "sql://"})
        rows, seconds = audience_fill.load(sqlite, audience_fill.generate(args.mentions, args.authors, now))
        note(f"sqlite: {args.mentions} mentions' rollups ({rows} rows) written in {seconds:.0f}s")
        measure(sqlite, args.requests, "sqlite")
        if urls is None:
            return
        with common.fresh_database(urls) as url:
            pg = common.make_app(common.app_config(tmp, urls, url, "sql://"))
            rows, seconds = audience_fill.load(pg, audience_fill.generate(args.mentions, args.authors, now))
            note(f"postgresql: {args.mentions} mentions' rollups ({rows} rows) written in {seconds:.0f}s")
            measure(pg, args.requests, "postgresql")
            from webapp.core.extensions import db
            with pg.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
