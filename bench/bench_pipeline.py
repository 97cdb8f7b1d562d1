"""Benchmarks (1) pipeline throughput and (6) worker memory, with their references in the same run.

    .venv/bin/python bench/bench_pipeline.py [--mentions 200000] [--naive 5000] [--ceiling 50000]

(1) --mentions realistic mentions (corpus of bench/common.py: varied lengths, emoji, URLs, exact
    repeats of texts as retweets make, plus 2% records sent twice) over 24 monitors are produced
    into Kafka with the project's own publish code (a unique topic prefix), then 2 real Celery
    workers (`celery -A tasks worker`, prefork pool of 2 as `make stack` runs them, the consumer
    bootstep) store them into a fresh PostgreSQL database. Rate = mentions stored / wall time
    from the first stored row to the last, counted in SQL.
    References: the naive design (bench/naive_tasks.py: one Celery task per mention through
    Redis, scored with NLTK's stock analyzer, one INSERT and commit each) on 2 worker processes,
    measured the same way on --naive mentions; and the scoring-only ceiling: the same texts
    scored by Sentimon's fast scorer (`sentiment.score_texts`, 500 a call, caches as shipped)
    in 2 processes, nothing else running; NLTK's stock analyzer the same way is a third line.
    Goals: >= 10x naive and >= 0.3x the fast scorer's ceiling (exit status 1 when missed).
    The store's floor, after the run (`store_floor`): PostgreSQL's own CPU a mention to insert
    50,000 of the stored mentions again with one `INSERT ... SELECT` inside the server, with every
    index of `mentions` and without the search's trigram indexes (rolled back); `store_bound` is
    the most the path could make if everything but scoring and that insert were free (the
    ceiling x scoring's CPU / (scoring's CPU + the floor)): when it is under 0.3x, the goal is
    above what this machine can do with this store.
    bench/bench_rest.py measures the same path fed through the REST API instead.
(6) Peak resident memory (VmHWM, sampled) of each worker during (1): the main process (where the
    consumer runs) and the worker with its pool children summed.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import common
from common import figure, goal, note

MONITORS = 24


def _init_stock():
    global _SCORE
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    from webapp.scoring.sentiment import LEXICON_RESOURCE

    stock = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
    _SCORE = lambda texts: [stock.polarity_scores(text) for text in texts]  # noqa: E731


def _init_fast():
    global _SCORE
    from webapp.scoring import sentiment

    sentiment.fast_analyzer()
    _SCORE = sentiment.score_texts  # batched, identical texts once, caches as shipped


def _score_chunk(texts: list[str]) -> tuple[int, float]:
    started = time.process_time()
    _SCORE(texts)
    return len(texts), time.process_time() - started


def scoring_ceiling(texts: list[str], processes: int = 2, fast: bool = True, batch: int = 500) -> tuple[float, float]:
    """Texts per second of scoring alone on `processes` processes, `batch` texts a call: the
    fast scorer as the pipeline runs it (`sentiment.score_texts`, its caches as shipped, cold at
    the start), or with `fast=False` NLTK's stock analyzer in a loop; and the CPU seconds a text
    (the processes' own, which other jobs on the machine disturb less than the rate)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    chunks = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    with ctx.Pool(processes, initializer=_init_fast if fast else _init_stock) as pool:
        pool.map(_score_chunk, [["warm up"]] * processes * 2)
        start = time.perf_counter()
        done = pool.map(_score_chunk, chunks, chunksize=4)
        seconds = time.perf_counter() - start
        texts_done = sum(n for n, _ in done)
        return texts_done / seconds, sum(cpu for _, cpu in done) / texts_done


def references(urls: dict, tmp: Path, items: list[dict], stamps: list[str], naive_n: int,
               ceiling_n: int, batch: int = 500) -> dict:
    """The pipeline's references, measured in this run: the naive design on `naive_n` mentions,
    and scoring alone (2 processes, `batch` a call) on `ceiling_n` of the same texts with the
    fast scorer (the ceiling) and with NLTK's stock analyzer (a third line)."""
    texts = [item["text"] for item in items[: max(ceiling_n, 1000)]]
    out = {}
    out["fast"], out["fast_cpu"] = scoring_ceiling(texts, batch=batch)
    out["stock"], out["stock_cpu"] = scoring_ceiling(texts, fast=False, batch=batch)
    note(f"scoring-only ceiling ({len(texts)} texts, 2 processes, {batch} a call): fast scorer "
         f"{out['fast']:.0f} texts/s, stock NLTK {out['stock']:.0f} texts/s")
    out["naive"] = run_naive(urls, tmp, items[:naive_n], stamps[:naive_n])
    note(f"naive design (task per mention, 2 worker processes, {naive_n} mentions): {out['naive']:.0f} mentions/s")
    return out


def remeasure_ceilings(refs: dict, items: list[dict], ceiling_n: int, batch: int = 500) -> None:
    """Measure the scoring ceilings again after the run and keep the mean of before and after in
    `refs`: on a shared machine the load moves during a run of minutes."""
    texts = [item["text"] for item in items[: max(ceiling_n, 1000)]]
    for name, fast in (("fast", True), ("stock", False)):
        after, cpu = scoring_ceiling(texts, fast=fast, batch=batch)
        note(f"{name} scoring ceiling before {refs[name]:.0f}, after {after:.0f} texts/s: the mean is the reference")
        refs[name] = (refs[name] + after) / 2
        refs[f"{name}_cpu"] = (refs[f"{name}_cpu"] + cpu) / 2


def rate_goals(prefix: str, rate: float, refs: dict, floor: dict | None = None) -> bool:
    """Print the rate against each reference and the goals (>= 10x naive, >= 0.3x the fast
    scorer's ceiling); True when both are met. With `floor` (store_floor), also the most any
    design could make here with the same store: see `store_bound`."""
    figure(f"{prefix}.rate_vs_naive", rate, "mentions/s", "naive", refs["naive"])
    figure(f"{prefix}.rate_vs_ceiling", rate, "mentions/s", "fast_scoring_ceiling", refs["fast"])
    figure(f"{prefix}.rate_vs_stock_nltk", rate, "mentions/s", "stock_scoring_ceiling", refs["stock"])
    if floor:
        store_bound(prefix, rate, refs["fast"], refs["fast_cpu"], floor)
    vs_naive, vs_ceiling = rate >= 10 * refs["naive"], rate >= 0.3 * refs["fast"]
    goal(f"({prefix}) >= 10x the naive design", vs_naive)
    goal(f"({prefix}) >= 0.3x the fast scorer's ceiling (direction 0.5x)", vs_ceiling)
    return vs_naive and vs_ceiling


FLOOR_ROWS = 50_000


def store_floor(count: "Counter", where: str = "true", rows: int = FLOOR_ROWS) -> dict | None:
    """PostgreSQL's own CPU a mention (seconds) to insert stored mentions once more, as the
    store's floor: one `INSERT ... SELECT` of up to `rows` of them (`where`) run inside the
    server (no client, no round trip, no rollup, nothing else of the store), with every index of
    `mentions` ("all"), then with the search's trigram indexes dropped ("without_search_index"),
    in a transaction rolled back. None when the server's process cannot be read (another machine)."""
    from webapp.mentions.fulltext import PG_INDEXES

    conn = count.conn
    backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    if common.process_cpu(backend) is None:
        return None
    columns = [name for (name,) in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'mentions' "
        "AND column_name NOT IN ('id', 'external_id', 'url_key') ORDER BY ordinal_position")]
    listed = ", ".join(columns)
    out = {}
    with conn.transaction(force_rollback=True):
        for name, drop in (("all", ()), ("without_search_index", tuple(PG_INDEXES))):
            for index in drop:
                conn.execute(f"DROP INDEX {index}")
            started = common.process_cpu(backend)
            # a copy's keys are new (external id and URL key), so every unique index is checked too
            done = conn.execute(
                f"INSERT INTO mentions (external_id, url_key, {listed}) "
                f"SELECT 'floor-{name}-' || external_id, md5(url_key || '{name}'), {listed} "
                f"FROM (SELECT * FROM mentions WHERE {where} AND external_id NOT LIKE 'floor-%' "
                f"LIMIT {int(rows)}) m").rowcount
            out[name] = (common.process_cpu(backend) - started) / max(done, 1)
    return out


def store_bound(prefix: str, rate: float, fast: float, scoring: float, floor: dict) -> float:
    """The most mentions/s the path could store on the ceiling's cores if everything but scoring
    (`scoring`: the fast ceiling's CPU seconds a text) and PostgreSQL's insert (the floor) cost
    nothing: the ceiling times scoring's share of the two CPU costs; printed against the
    ceiling, with the floor's figures. Returns the bound."""
    bound = fast * scoring / (scoring + floor["all"])
    figure(f"{prefix}.store_floor", floor["all"] * 1e6, "us/mention", "fast_scoring_cpu_per_text", scoring * 1e6)
    figure(f"{prefix}.store_floor_without_search_index", floor["without_search_index"] * 1e6, "us/mention",
           "store_floor", floor["all"] * 1e6)
    figure(f"{prefix}.store_bound", bound, "mentions/s", "fast_scoring_ceiling", fast)
    figure(f"{prefix}.rate_vs_store_bound", rate, "mentions/s", "store_bound", bound)
    if bound < 0.3 * fast:
        note(f"({prefix}) scoring and PostgreSQL's insert with every index alone, all else free, reach "
             f"{bound / fast:.2f}x the fast scorer's ceiling on its cores: 0.3x is above this machine's "
             f"limit for this store ({floor['all'] * 1e6:.0f} us of the server's CPU a mention, "
             f"{floor['without_search_index'] * 1e6:.0f} without the search's trigram indexes)")
    return bound


def timestamps(n: int, now: datetime, seed: int = 1) -> list[str]:
    """Publication times as a live stream has them: mostly minutes old, 3% up to a day old."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        age = rng.uniform(0, 86400) if rng.random() < 0.03 else rng.expovariate(1 / 600)
        out.append((now - timedelta(seconds=age)).isoformat())
    return out


class Counter:
    """count(*) of mentions in a database, over one connection."""

    def __init__(self, url: str):
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        self.conn = psycopg.connect(f"host={u.host} port={u.port} user={u.username} dbname={u.database}",
                                    autocommit=True)

    def __call__(self, sql: str = "SELECT count(*) FROM mentions") -> int:
        return self.conn.execute(sql).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def measure_rate(count: Counter, expected: int, timeout: float, procs=()) -> tuple[float, int]:
    """Rate from the first stored row to the last (rows/s), and the rows stored."""
    deadline = time.monotonic() + timeout
    t0 = c0 = None
    last = 0
    while time.monotonic() < deadline:
        last = count()
        now = time.perf_counter()
        if t0 is None and last > 0:
            t0, c0 = now, last
        if last >= expected:
            break
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited with {proc.returncode}")
        time.sleep(0.1)
    else:
        note(f"timed out with {last} of {expected} stored")
    end = time.perf_counter()
    if t0 is None or end <= t0:
        return 0.0, last
    return (last - c0) / (end - t0), last


def run_naive(urls: dict, tmp: Path, items: list[dict], stamps: list[str]) -> float:
    """The naive design's rate (mentions/s) on 2 worker processes."""
    from webapp.core.extensions import db
    from webapp.monitors.services.manage import create_monitor, system_source

    queue = f"bench-naive-{uuid.uuid4().hex[:8]}"
    with common.fresh_database(urls) as url:
        config = common.app_config(tmp / "naive", urls, url, "sql://", redis_db=7,
                                   BUS_CONSUMER_IN_WORKER=False)
        app = common.make_app(config)
        with app.app_context():
            monitor = create_monitor(db.session, "Naive", "", [])
            source_id = system_source(monitor, "push").id
            celery = app.extensions["celery"]
            with celery.producer_or_acquire() as producer:
                for item, stamp in zip(items, stamps):
                    celery.send_task("bench.naive_store", args=[monitor.id, source_id, item["external_id"],
                                                                item["text"], stamp],
                                     queue=queue, producer=producer)
            db.session.remove()
            db.engine.dispose()
        env = common.process_env(config, CELERY_EXTRA_IMPORTS="bench.naive_tasks", BUS_CONSUMER_IN_WORKER="0")
        procs = []
        count = Counter(url)
        try:
            for n in (1, 2):
                procs.append(common.start_worker(f"naive{n}-{queue}", env, tmp / f"naive{n}.log",
                                                 queues=queue, concurrency=1))
            rate, stored = measure_rate(count, len(items), 300, procs)
        finally:
            common.stop(procs)
            count.close()
            _purge(app, queue)
        if stored < len(items):
            note(f"naive design stored {stored} of {len(items)}")
        return rate


def _purge(app, queue: str) -> None:
    try:
        with app.app_context():
            celery = app.extensions["celery"]
            with celery.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
    except Exception as exc:  # cleanup only
        note(f"could not delete queue {queue}: {exc}")


def run_pipeline(urls: dict, tmp: Path, items: list[dict], stamps: list[str]) -> dict:
    """The pipeline's rate, produce rate and workers' peak memory."""
    from webapp.core import runtime
    from webapp.core.extensions import db
    from webapp.monitors.services.manage import create_monitor, system_source
    from webapp.ingest.publish import publish_mentions

    prefix = common.unique_prefix("p")
    queue = f"bench-pipeline-{uuid.uuid4().hex[:8]}"
    out: dict = {}
    with common.fresh_database(urls) as url:
        config = common.app_config(tmp / "pipeline", urls, url,
                                   f"{urls['BUS_URL']}?partitions=6&prefix={prefix}", redis_db=9)
        app = common.make_app(config)
        rng = random.Random(3)
        with app.app_context():
            sources = []
            for m in range(MONITORS):
                monitor = create_monitor(db.session, f"Pipeline {m}", "", [])
                sources.append((monitor.id, system_source(monitor, "push").id))
            per_source: dict[tuple, list] = {s: [] for s in sources}
            for item, stamp in zip(items, stamps):
                per_source[rng.choice(sources)].append({**item, "published_at": stamp})
            for chunk in per_source.values():  # 2% sent twice, as a retried fetch would
                chunk.extend(rng.sample(chunk, len(chunk) // 50))
            bus = runtime.bus()
            received = datetime.now(timezone.utc)
            start = time.perf_counter()
            produced = sum(publish_mentions(bus, mid, sid, chunk, received) for (mid, sid), chunk in per_source.items())
            out["produce_rate"] = produced / (time.perf_counter() - start)
            bus.close()
            db.session.remove()
            db.engine.dispose()
        note(f"produced {produced} records ({len(items)} distinct mentions) into Kafka "
             f"at {out['produce_rate']:.0f} records/s")
        env = common.process_env(config)
        procs = []
        count = Counter(url)
        try:
            for n in (1, 2):
                procs.append(common.start_worker(f"pipe{n}-{queue}", env, tmp / f"pipe{n}.log",
                                                 queues=queue, concurrency=2))
            with common.RssWatch({f"worker{n}": p.pid for n, p in enumerate(procs, 1)}) as rss:
                out["rate"], out["stored"] = measure_rate(count, len(items), 900, procs)
            out["rss_main"] = max(rss.main.values()) / 1024
            out["rss_tree"] = max(rss.tree.values()) / 1024
            out["rollup_total"] = count("SELECT coalesce(sum(count), 0) FROM rollups WHERE source_id = 0 AND bucket = '1d'")
            out["dead"] = count("SELECT count(*) FROM dead_letters")
            common.stop(procs)
            out["floor"] = store_floor(count)
        finally:
            common.stop(procs)
            count.close()
            _purge(app, queue)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--naive", type=int, default=5_000)
    parser.add_argument("--ceiling", type=int, default=50_000, help="texts scored for the ceilings")
    args = parser.parse_args()

    urls = common.service_urls()
    items = common.corpus(args.mentions)
    stamps = timestamps(len(items), datetime.now(timezone.utc))
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name:
        tmp = Path(tmp_name)
        refs = references(urls, tmp, items, stamps, args.naive, args.ceiling)
        result = run_pipeline(urls, tmp, items, stamps)
        remeasure_ceilings(refs, items, args.ceiling)

    rate = result["rate"]
    met = rate_goals("pipeline", rate, refs, result["floor"])
    figure("pipeline.produce_rate", result["produce_rate"], "records/s", "pipeline_rate", rate)
    figure("memory.worker_peak_rss", result["rss_main"], "MB", "goal", 300)
    figure("memory.worker_with_pool_peak_rss", result["rss_tree"], "MB", "goal", 300)
    ok = result["stored"] == len(items) and result["rollup_total"] == len(items) and result["dead"] == 0
    note(f"stored {result['stored']} of {len(items)}, rollup total {result['rollup_total']}, "
         f"dead letters {result['dead']}: {'exact' if ok else 'NOT EXACT'}")
    goal("(6) worker peak RSS < 300 MB", result["rss_main"] < 300)
    if not ok:
        raise SystemExit("the pipeline did not store every mention exactly once")
    if not met or result["rss_main"] >= 300:
        raise SystemExit("a pipeline goal was missed")


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
