"""Many monitors on one installation: beat's dispatch tick, the due-fetch claim's plan, and the
evaluation of every alert rule of one 15-minute slot (issue #19).

A fresh PostgreSQL database gets, by SQL, MONITORS monitors with SOURCES fetched sources each
(plus their push/import sources), one alert rule per monitor (avg_sentiment, negative_share
and volume_spike in turn, windows 15m/1h/6h/24h) and 15-minute rollups for the rules' windows
(24 hours for every monitor; for volume spikes also the same hours of the four weeks before).
Celery messages go to the Redis of `make services` (a database of its own, purged after).

- tick: wall time of one `fetch.dispatch_due` (median of --rounds, every source due at once)
  against the per-source claim loop this release replaced (`legacy_claim`, same rows, rounds
  interleaved; timed on --legacy-sample UPDATEs, scaled); goal < 1 s. `claim_all` is the claim
  of every due source in chunks (what the `fetch.claim` tasks do together) against the same
  loop; `send_all_fetch_runs` the cost of their fetch.run messages (timed on --send-sample).
- EXPLAIN of the claim statement: it must use ix_sources_due_at, no sequential scan of sources.
- eval: wall and CPU time of evaluating all rules of one slot in batches (as the
  `alerts.evaluate_batch` tasks do) against one rule at a time (`evaluate_rule`, on a sample,
  scaled to all rules); goal < 60 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import figure, goal, note  # noqa: E402

KINDS = [("avg_sentiment", "<", -0.3), ("negative_share", ">=", 40.0), ("volume_spike", None, None)]
WINDOWS = ["15m", "1h", "6h", "24h"]
REDIS_DB = 13


def fill(session, monitors: int, sources: int, end: datetime) -> None:
    """Monitors, sources, rules, states and rollups in a few INSERT ... SELECT statements."""
    from sqlalchemy import text

    team = session.execute(text("SELECT id FROM teams ORDER BY id LIMIT 1")).scalar()
    utc_end = end.replace(tzinfo=None)
    session.execute(text(
        "INSERT INTO monitors (id, name, query, created_at, scorer, language_scorers, team_id) "
        "SELECT g, 'scale ' || g, '', now() AT TIME ZONE 'utc', 'vader', '{}', :team FROM generate_series(1, :n) g"),
        {"team": team, "n": monitors})
    session.execute(text(
        "INSERT INTO sources (monitor_id, kind, settings, every, enabled, cursor, consecutive_failures, created_at) "
        "SELECT m, k.kind, '{}', k.every, k.every > 0, '{}', 0, now() AT TIME ZONE 'utc' "
        "FROM generate_series(1, :n) m CROSS JOIN ("
        "  SELECT 'rss' AS kind, 300 AS every FROM generate_series(1, :s)"
        "  UNION ALL SELECT 'push', 0 UNION ALL SELECT 'import', 0) k"), {"n": monitors, "s": sources})
    session.execute(text(
        "INSERT INTO alert_rules (id, monitor_id, name, kind, \"window\", op, threshold, min_mentions, for_seconds, "
        "cooldown_seconds, repeat_seconds, settings, enabled, created_at) "
        "SELECT g, g, 'rule ' || g, (ARRAY[:k0, :k1, :k2])[g % 3 + 1], (ARRAY['15m', '1h', '6h', '24h'])[g % 4 + 1], "
        "(ARRAY[:o0, :o1, NULL])[g % 3 + 1], (ARRAY[:t0, :t1, NULL])[g % 3 + 1]::float, 3, 0, 0, 0, '{}', true, "
        "now() AT TIME ZONE 'utc' FROM generate_series(1, :n) g"),
        {"n": monitors, "k0": KINDS[0][0], "k1": KINDS[1][0], "k2": KINDS[2][0], "o0": KINDS[0][1],
         "o1": KINDS[1][1], "t0": KINDS[0][2], "t1": KINDS[1][2]})
    session.execute(text(
        "INSERT INTO alert_states (rule_id, state, since, cursor_id) "
        "SELECT id, 'normal', now() AT TIME ZONE 'utc', 0 FROM alert_rules"))
    # the last 24 hours of every monitor; for volume spikes the same hours 1-4 weeks before,
    # and one bucket five weeks before (the monitor's history start)
    session.execute(text(
        "INSERT INTO rollups (monitor_id, source_id, bucket, start, count, sum_compound, positive, neutral, negative) "
        "SELECT m, 0, '15m', b, c, 0.1 * c - 0.3 * (c / 3), c - c / 3 - c / 5, c / 5, c / 3 FROM ("
        "  SELECT m, :end - make_interval(mins => 15 * k) AS b, (m * 7 + k * 13) % 21 AS c "
        "  FROM generate_series(1, :n) m CROSS JOIN generate_series(1, 96) k"
        "  UNION ALL"
        "  SELECT m, :end - make_interval(days => 7 * w, mins => 15 * k), (m * 5 + k * 11 + w) % 17 "
        "  FROM generate_series(1, :n) m CROSS JOIN generate_series(1, 4) w CROSS JOIN generate_series(1, 96) k"
        "  WHERE m % 3 = 2 AND 15 * k <= (ARRAY[15, 60, 360, 1440])[m % 4 + 1]"
        "  UNION ALL SELECT m, :end - interval '35 days', 1 FROM generate_series(1, :n) m WHERE m % 3 = 2"
        ") r"), {"n": monitors, "end": utc_end})
    for table in ("monitors", "alert_rules"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def legacy_claim(session, now: datetime, limit: int) -> int:
    """The claim before this release: read every candidate source, one UPDATE per due source
    (stopped after `limit` UPDATEs; the caller scales the time to all of them)."""
    from sqlalchemy import or_, select, update

    from webapp.monitors.models import SYSTEM_KINDS, Source
    from webapp.monitors.services.fetching import is_due, slot_for

    candidates = session.execute(select(Source.id, Source.every, Source.last_slot, Source.dispatched_slot).where(
        Source.enabled.is_(True), Source.kind.not_in(SYSTEM_KINDS), Source.every > 0,
        or_(Source.paused_until.is_(None), Source.paused_until <= now))).all()
    claimed = 0
    for sid, every, last_slot, dispatched in candidates[:limit]:
        slot = slot_for(now, every)
        if is_due(last_slot, dispatched, slot):
            claimed += session.execute(update(Source).where(
                Source.id == sid, or_(Source.dispatched_slot.is_(None), Source.dispatched_slot < slot))
                .values(dispatched_slot=slot)).rowcount
    session.commit()
    return claimed


def make_due(session) -> None:
    from sqlalchemy import text

    session.execute(text("UPDATE sources SET dispatched_slot = NULL, last_slot = NULL WHERE dispatched_slot IS NOT NULL"))
    session.commit()


def purge(celery_app) -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


def claim_plan(session, now: datetime) -> list[str]:
    from sqlalchemy import text

    from webapp.monitors.services import fetching

    stmt = fetching.claim_statement(now, fetching.CLAIM_CHUNK)
    compiled = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
    session.rollback()
    return plan


def bench_tick(app, rounds: int, total_due: int, legacy_sample: int, send_sample: int) -> bool:
    from webapp.core.extensions import db
    from webapp.monitors import tasks
    from webapp.monitors.services import fetching

    celery_app = app.extensions["celery"]
    ticks, legacy = [], []
    sample = min(legacy_sample, total_due)
    with app.app_context():
        for _ in range(rounds):
            make_due(db.session)
            started = time.perf_counter()
            assert legacy_claim(db.session, datetime.now(timezone.utc), sample) == sample
            legacy.append((time.perf_counter() - started) * total_due / sample)
            make_due(db.session)
            started = time.perf_counter()
            handed = tasks.dispatch_due()
            ticks.append(time.perf_counter() - started)
            purge(celery_app)
            assert handed == total_due, (handed, total_due)
        tick, ref = statistics.median(ticks), statistics.median(legacy)
        started = time.perf_counter()
        for _ in range(20):
            tasks.claim.apply_async()
        per_claim_message = (time.perf_counter() - started) / 20
        purge(celery_app)
        figure("scale.dispatch_tick", tick, "s", "legacy_claim_loop", ref)
        figure("scale.dispatch_tick_goal", tick, "s", "goal", 1.0)
        met = tick < 1.0
        goal("dispatch tick < 1 s", met)
        # what the relay of fetch.claim tasks does together: every chunk claimed (one after the other here)
        started = time.perf_counter()
        claimed = 0
        while chunk := fetching.claim_chunk(db.session):
            claimed += len(chunk)
        claim_all = time.perf_counter() - started + per_claim_message * -(-total_due // fetching.CLAIM_CHUNK)
        assert claimed == total_due, (claimed, total_due)
        started = time.perf_counter()
        tasks._send_runs([(0, 0)] * send_sample)
        per_message = (time.perf_counter() - started) / send_sample
        purge(celery_app)
        figure("scale.claim_all", claim_all, "s", "legacy_claim_loop", ref)
        figure("scale.send_all_fetch_runs", per_message * total_due, "s", "claim_all", claim_all)
        note(f"{total_due} sources due at once: the tick counts them and starts a relay of "
             f"{-(-total_due // fetching.CLAIM_CHUNK)} fetch.claim tasks; claim_all is their claims and relay messages ({fetching.CLAIM_CHUNK} a statement) one after the "
             f"other; send_all_fetch_runs their fetch.run messages ({1000 * per_message:.2f} ms each over "
             f"{send_sample}, scaled); the legacy loop is measured on {sample} UPDATEs and scaled")
        make_due(db.session)
        busy = claim_plan(db.session, datetime.now(timezone.utc))
        fetching.claim_due(db.session)
        calm = claim_plan(db.session, datetime.now(timezone.utc))
        for label, plan in (("all due", busy), ("none due", calm)):
            note(f"claim plan ({label}): " + " | ".join(line.strip() for line in plan))
        indexed = all(any("ix_sources_due_at" in line for line in plan)
                      and not any("Seq Scan on sources" in line for line in plan) for plan in (busy, calm))
        goal("the claim reads ix_sources_due_at, no sequential scan of sources", indexed)
    return met and indexed


def bench_eval(app, sample: int) -> bool:
    from sqlalchemy import text

    from webapp.core.extensions import db
    from webapp.alerting import evaluation

    def reset():
        db.session.execute(text("UPDATE alert_states SET last_slot = NULL, state = 'normal', last_fired_at = NULL, "
                                "last_notified_at = NULL"))
        db.session.execute(text("DELETE FROM alert_events"))
        db.session.commit()

    with app.app_context():
        now = datetime.now(timezone.utc)
        reset()
        pairs = evaluation.due(db.session, now)
        # one rule at a time (the reference), on an even sample of the rules
        picked = pairs[::max(1, len(pairs) // sample)][:sample]
        wall, cpu = time.perf_counter(), time.process_time()
        for rid, slot in picked:
            evaluation.evaluate_rule(db.session, rid, slot, now=now)
        single_wall = (time.perf_counter() - wall) * len(pairs) / len(picked)
        single_cpu = (time.process_time() - cpu) * len(pairs) / len(picked)
        reset()
        wall, cpu = time.perf_counter(), time.process_time()
        reports = [r for chunk in evaluation.chunks(pairs) for r in evaluation.evaluate_batch(db.session, chunk, now=now)]
        batch_wall, batch_cpu = time.perf_counter() - wall, time.process_time() - cpu
        statuses = {s: sum(1 for r in reports if r.status == s) for s in {r.status for r in reports}}
        states = {s: sum(1 for r in reports if r.state == s) for s in {r.state for r in reports}}
        note(f"{len(pairs)} rules of one slot: {statuses}; states {states}")
        figure("scale.eval_all_rules_wall", batch_wall, "s", "one_rule_at_a_time", single_wall)
        figure("scale.eval_all_rules_cpu", batch_cpu, "s", "one_rule_at_a_time", single_cpu)
        figure("scale.eval_all_rules_goal", batch_wall, "s", "goal", 60.0)
        met = batch_wall < 60.0 and statuses.get("evaluated") == len(pairs)
        goal(f"evaluation of {len(pairs)} rules of one slot < 60 s of worker time", met)
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=3, help="fetched sources per monitor")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=500, help="rules evaluated one at a time (reference)")
    parser.add_argument("--legacy-sample", type=int, default=2000, help="UPDATEs of the legacy claim loop timed")
    parser.add_argument("--send-sample", type=int, default=1000, help="fetch.run messages timed")
    args = parser.parse_args()
    note(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
         f"({subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores)")
    urls = common.service_urls()
    ok = False
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp_name, common.fresh_database(urls) as url:
        app = common.make_app(common.app_config(Path(tmp_name), urls, url, "sql://", redis_db=REDIS_DB))
        from webapp.core.extensions import db
        from webapp.alerting.windows import slot_end, window_slot

        end = slot_end(window_slot(datetime.now(timezone.utc), 120))
        with app.app_context():
            started = time.perf_counter()
            fill(db.session, args.monitors, args.sources, end)
            note(f"{args.monitors} monitors x {args.sources} sources, {args.monitors} rules and their rollups "
                 f"written in {time.perf_counter() - started:.0f}s")
        try:
            tick_ok = bench_tick(app, args.rounds, args.monitors * args.sources, args.legacy_sample, args.send_sample)
            eval_ok = bench_eval(app, args.sample)
            ok = tick_ok and eval_ok
        finally:
            purge(app.extensions["celery"])
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    note(f"load after: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
