"""The term rollup fold (ingest/term_fold.py), on SQLite and PostgreSQL: folded 1d and 1w rows are
the sums of their 1h rows whatever happens after the fold (late mentions, mutes, a removed source,
re-scoring, retention and rebuild), the terms answers are the same before and after a fold, and a
fold is claimed per monitor and idempotent."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest import term_deltas, term_fold, term_rollups
from webapp.ingest.models import TermRollup
from webapp.ingest.store import store_batch
from webapp.insights.terms import service
from webapp.monitors.models import Monitor

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 3, 20, 15, 30, tzinfo=timezone.utc)
WORDS = ["rocket", "launch", "customer", "service", "battery", "recall", "price", "delay", "screen", "update"]


def history(monitor_id, source_id, days=40, per_day=4, prefix="h"):
    """Mentions over `days` days before NOW (and today), texts that vary by day so terms rise."""
    out = []
    for d in range(days + 1):
        for k in range(per_day + d % 3):
            words = [WORDS[(d + k) % len(WORDS)], WORDS[(d * 3 + k) % len(WORDS)], WORDS[k % 4]]
            out.append({"monitor_id": monitor_id, "source_id": source_id, "external_id": f"{prefix}{d}-{k}",
                        "text": f"Acme {words[0]} {words[1]} and the {words[2]} story",
                        "published_at": (NOW - timedelta(days=d, hours=k * 2)).isoformat()})
    return out


def stored(monitor_id) -> dict:
    """The monitor's term rollups, its pending term deltas folded first (as readers do)."""
    term_deltas.fold(db.session, monitor_id)
    return {(r.bucket, r.start, r.term): (r.count, r.scored, round(r.sum_compound, 6))
            for r in db.session.execute(select(TermRollup).where(TermRollup.monitor_id == monitor_id)).scalars()
            if r.count}


def check_folded(monitor_id) -> datetime | None:
    """Assert that every 1d row before W and every 1w row of a week before W is the sum of its
    hours, and that no folded row is missing; returns W."""
    rows = stored(monitor_id)
    folded_before = db.session.get(Monitor, monitor_id).terms_folded_before
    expected: dict = defaultdict(lambda: [0, 0, 0.0])
    for (bucket, start, term), (count, scored, total) in rows.items():
        if bucket != "1h" or folded_before is None or start >= folded_before:
            continue
        week = term_fold.week_start(start)
        for key in [("1d", term_fold.day_start(start), term)] + (
                [("1w", week, term)] if week + term_fold.WEEK <= folded_before else []):
            expected[key][0] += count
            expected[key][1] += scored
            expected[key][2] += total
    want = {k: (c, s, round(t, 6)) for k, (c, s, t) in expected.items() if c}
    got = {k: v for k, v in rows.items() if k[0] != "1h" and (folded_before and k[1] < folded_before)}
    assert {k: (v[0], v[1]) for k, v in got.items()} == {k: (v[0], v[1]) for k, v in want.items()}
    for key, (_, _, total) in want.items():
        assert got[key][2] == pytest.approx(total, abs=1e-6)
    return folded_before


def same(got: dict, want: dict) -> None:
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in want.items()}
    for key, value in want.items():
        assert got[key][2] == pytest.approx(value[2], abs=1e-6)


def same_answers(got: dict, want: dict) -> None:
    """Equal answers; an average may differ in its last rounded digit (sums added in another order)."""
    def split(answer):
        exact = {k: v if k == "window" else (*v[:3], [[{**r, "avg_compound": None} for r in rows] for rows in v[3:]])
                 for k, v in answer.items()}
        averages = [r["avg_compound"] or 0.0 for k, v in answer.items() if k != "window" for rows in v[3:] for r in rows]
        return exact, averages
    (exact, averages), (want_exact, want_averages) = split(got), split(want)
    assert exact == want_exact
    assert averages == pytest.approx(want_averages, abs=2e-4)


def answers(monitor_id) -> dict:
    """Every range's term table (both sorts) and the attribution's 7-day window totals."""
    out = {}
    for days in (1, 3, 7, 30, 90):
        table = service.term_table(db.session, monitor_id, NOW - timedelta(days=days), NOW)
        out[days] = (table.bucket, table.n_cur, table.n_prev, table.rows("rising", 50), table.rows("count", 50))
    out["window"] = term_rollups.window_totals(db.session, monitor_id, "1d", datetime(2026, 3, 10, tzinfo=timezone.utc),
                                               datetime(2026, 3, 17, tzinfo=timezone.utc), WORDS)
    db.session.rollback()
    return out


def test_answers_are_the_same_before_during_and_after_a_fold_and_refolding_is_a_no_op(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, history(monitor_id, push))
        db.session.commit()
        assert {k[0] for k in stored(monitor_id)} == {"1h"}
        before = answers(monitor_id)
        assert before[30][4] and before[30][0] == "1d" and before[1][0] == "1h"

        first_day = term_fold.day_start(min(k[1] for k in stored(monitor_id)))
        # a part of the days (one transaction's chunk), then the rest
        assert term_fold.fold(db.session, monitor_id, NOW, max_days=10) == 10
        db.session.commit()
        same_answers(answers(monitor_id), before)
        check_folded(monitor_id)
        done = term_fold.fold_due(db.session, NOW)
        assert done[monitor_id] == (datetime(2026, 3, 20, tzinfo=timezone.utc) - first_day).days - 10   # not today
        folded_before = check_folded(monitor_id)
        assert folded_before == datetime(2026, 3, 20, tzinfo=timezone.utc)
        buckets = {k[0] for k in stored(monitor_id)}
        assert buckets == {"1h", "1d", "1w"}
        same_answers(answers(monitor_id), before)
        rows = stored(monitor_id)
        assert term_fold.fold_due(db.session, NOW) == {monitor_id: 0}     # re-running: nothing moves
        assert stored(monitor_id) == rows
        # a fold "through" an older day never moves the watermark back
        assert term_fold.fold(db.session, monitor_id, NOW - timedelta(days=5)) == 0
        db.session.commit()
        assert db.session.get(Monitor, monitor_id).terms_folded_before == folded_before


def test_changes_to_folded_days_reach_their_1d_and_1w_rows(app):
    from webapp.mentions.noise import service as noise
    from webapp.monitors.services.edit import update_monitor
    from webapp.monitors.services.manage import create_monitor, system_source
    from webapp.scoring.rescoring import rescore_monitor

    with app.app_context():
        monitor = create_monitor(db.session, "Folded", "", [{"kind": "rss", "url": "http://127.0.0.1:9/feed.xml"}])
        monitor_id, push, rss = monitor.id, system_source(monitor, "push").id, monitor.fetched_sources[0].id
        store_batch(db.session, history(monitor_id, push, days=20))
        db.session.commit()
        term_fold.fold_due(db.session, NOW)
        # late mentions of folded days (a backfill, a feed), one of them loud and then muted
        late = history(monitor_id, rss, days=18, per_day=1, prefix="late")
        late += [{**r, "author": "loud", "text": "Loud spam about Acme rocket deals"}
                 for r in history(monitor_id, push, days=15, per_day=1, prefix="loud")]
        store_batch(db.session, late)
        db.session.commit()
        check_folded(monitor_id)
        with_late = answers(monitor_id)
        assert any(k[0] == "1w" and k[2] == "spam" for k in stored(monitor_id))

        noise.set_mutes(db.session, monitor_id, noise.check_mutes(["LOUD"], [], ""))
        check_folded(monitor_id)
        assert not [k for k, v in stored(monitor_id).items() if k[2] == "spam"]
        noise.set_mutes(db.session, monitor_id, noise.check_mutes([], [], ""))
        check_folded(monitor_id)
        same_answers(answers(monitor_id), with_late)

        update_monitor(db.session, db.session.get(Monitor, monitor_id), remove={rss})
        check_folded(monitor_id)
        after_removal = answers(monitor_id)
        assert after_removal != with_late

        rescore_monitor(db.session, monitor_id)      # rebuild: 1h rows rewritten, the folded days folded again
        assert check_folded(monitor_id) == datetime(2026, 3, 20, tzinfo=timezone.utc)
        same_answers(answers(monitor_id), after_removal)


def test_a_rebuild_after_retention_keeps_pruned_days_and_refolds_the_rest(app):
    from webapp.mentions import retention

    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, history(monitor_id, push, days=30))
        db.session.commit()
        term_fold.fold_due(db.session, NOW)
        before = answers(monitor_id)
        db.session.get(Monitor, monitor_id).retention_days = 10
        db.session.commit()
        assert retention.prune_monitor(db.session, monitor_id, NOW) > 0
        pruned = stored(monitor_id)
        term_rollups.rebuild(db.session, monitor_id)
        db.session.commit()
        same(stored(monitor_id), pruned)             # the same rows, pruned days kept, later days rebuilt
        check_folded(monitor_id)
        same_answers(answers(monitor_id), before)


def test_a_monitor_without_term_rows_gets_a_watermark_and_ingest_then_folds_as_it_writes(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        assert term_fold.fold_due(db.session, NOW, monitor_id=monitor_id) == {monitor_id: 0}
        assert db.session.get(Monitor, monitor_id).terms_folded_before == datetime(2026, 3, 20, tzinfo=timezone.utc)
        store_batch(db.session, history(monitor_id, push, days=12))     # all but today is folded already
        db.session.commit()
        assert check_folded(monitor_id) and {k[0] for k in stored(monitor_id)} == {"1h", "1d", "1w"}


def test_tiles_cover_the_range_once_without_crossing_it():
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for lo_days in range(0, 9):
        for span in range(0, 30):
            for w_days in (None, *range(0, 40, 3)):
                lo, hi = day + timedelta(days=lo_days), day + timedelta(days=lo_days + span)
                folded_before = None if w_days is None else day + timedelta(days=w_days)
                covered = []
                for bucket, start, end in term_fold.tiles(lo, hi, folded_before):
                    assert lo <= start < end <= hi
                    if bucket == "1w":
                        assert term_fold.week_start(start) == start and term_fold.week_start(end) == end
                    if bucket != "1h":
                        assert end <= folded_before
                    covered.append((start, end))
                covered.sort()
                assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))
                assert (covered[0][0], covered[-1][1]) == (lo, hi) if span else covered == []


def test_the_fold_is_claimed_so_writers_and_a_second_fold_wait(app, request):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite's single writer serialises the same way")
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, history(monitor_id, push, days=10))
        db.session.commit()
        with Session(db.engine) as other:
            assert term_fold.fold(db.session, monitor_id, NOW, max_days=None) > 0   # claimed, not committed
            other.execute(db.text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError):                         # a writer waits ...
                term_fold.marks(other, [monitor_id])
            other.rollback()
            other.execute(db.text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError):                         # ... and so does a second fold
                term_fold.fold(other, monitor_id, NOW)
            other.rollback()
            db.session.commit()
            assert term_fold.fold(other, monitor_id, NOW) == 0           # then finds nothing to do
            assert term_fold.marks(other, [monitor_id]) == {monitor_id: datetime(2026, 3, 20, tzinfo=timezone.utc)}
            other.commit()


def test_beat_schedules_the_fold(app):
    import importlib

    import celeryconfig

    for module in celeryconfig.imports:
        importlib.import_module(module)
    entries = [e for e in celeryconfig.beat_schedule.values() if e["task"] == "terms.fold_due"]
    assert entries and entries[0]["schedule"] > 0
    assert "terms.fold_due" in app.extensions["celery"].tasks


def test_the_command_folds_and_refuses_an_unknown_monitor(app, runner):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, history(monitor_id, push, days=3))
        db.session.commit()
    result = runner.invoke(args=["fold-terms", "--monitor", str(monitor_id)])
    assert result.exit_code == 0 and "folded" in result.output and " of 1 monitors" in result.output
    assert runner.invoke(args=["fold-terms"]).exit_code == 0
    from webapp.ingest.tasks import fold_due

    with app.app_context():
        assert fold_due() == {}        # the beat task: nothing left to fold today
    for bad in ("999999", "0", "-3", "x", str(2**64)):
        result = runner.invoke(args=["fold-terms", "--monitor", bad])
        assert result.exit_code != 0 and "Traceback" not in result.output


def test_a_lone_old_mention_does_not_make_the_fold_walk_empty_days(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        old = [{"monitor_id": monitor_id, "source_id": push, "external_id": "old", "text": "Acme rocket launch in 1990",
                "published_at": "1990-05-04T10:00:00+00:00"}]
        store_batch(db.session, old + history(monitor_id, push, days=9))
        db.session.commit()
        before = answers(monitor_id)
        statements = []
        from sqlalchemy import event

        count = lambda *args: statements.append(1)     # noqa: E731
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            term_fold.fold_due(db.session, NOW, monitor_id=monitor_id)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) < 200          # not one per day since 1990 (13,000 days)
        check_folded(monitor_id)
        same_answers(answers(monitor_id), before)
        assert ("1w", term_fold.week_start(datetime(1990, 5, 4, tzinfo=timezone.utc)), "rocket") in stored(monitor_id)


def test_one_monitor_that_fails_to_fold_does_not_stop_the_others(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    broken, push = new_monitor(app, "Broken")
    kept, kept_push = new_monitor(app, "Kept")
    real = term_fold.fold

    def fold(session, monitor_id, through, **kw):
        if monitor_id == broken:
            real(session, monitor_id, through, **kw)       # claimed and partly written, then a lock timeout
            raise OperationalError("fold", {}, Exception("lock timeout"))
        return real(session, monitor_id, through, **kw)

    monkeypatch.setattr(term_fold, "fold", fold)
    with app.app_context():
        store_batch(db.session, history(broken, push, days=5) + history(kept, kept_push, days=5, prefix="k"))
        db.session.commit()
        done = term_fold.fold_due(db.session, NOW)
        assert done[broken] == 0 and done[kept] > 0
        assert db.session.get(Monitor, broken).terms_folded_before is None      # rolled back: nothing half-done
        assert {k[0] for k in stored(broken)} == {"1h"}
        check_folded(kept)
