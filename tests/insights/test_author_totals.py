"""Author totals (insights/author_totals.py): top authors read in the order of each author's
totals give the answer the mentions themselves give, on every range and both databases, after
late mentions, mutes, re-scoring (with and without retention) and before a build."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.ingest.rollups import bucket_start
from webapp.insights import audience, author_totals
from webapp.insights import rollups as insight_rollups
from webapp.insights.models import AuthorTotal
from webapp.insights.rollups import AuthorDelta

from tests.insights.test_top_authors_speed import NOW, _expected, _mentions, _same, _write

pytestmark = pytest.mark.both_databases


def _build(app, monitor_id: int, now: datetime = NOW, chunk: int = 7) -> int:
    """Build in chunks of a few authors (each a transaction of its own)."""
    with app.app_context():
        return author_totals.build(db.session, monitor_id, now, chunk)


def _check(app, monitor_id: int, batch: list[dict], limit: int = 5) -> None:
    """Every range answers from the totals (not the fallback) as the mentions themselves do."""
    with app.app_context():
        for name in audience.RANGES:
            w = audience.window(name, NOW)
            found = audience._by_totals(db.session, monitor_id, w, limit)
            assert found is not None, name
            assert _same(found, _expected(batch, w, limit)), name
            db.session.rollback()


def _add(app, rows: list[dict], sign: int = 1) -> None:
    with app.app_context():
        insight_rollups.apply(db.session, insight_rollups.deltas(rows, sign))
        db.session.commit()


def test_sums_keep_day_deltas_that_add_mentions():
    t = NOW
    deltas = {(1, "1h", t, "a"): AuthorDelta(2, 50, 7), (1, "1d", t, "a"): AuthorDelta(2, 50, 7),
              (1, "1d", t - timedelta(days=1), "a"): AuthorDelta(1, 80, 1),
              (1, "1d", t, "b"): AuthorDelta(-1, 0, -4), (2, "1d", t, "a"): AuthorDelta(1, 5, 0)}
    assert author_totals.sums(deltas) == {(1, "a"): [3, 80, 8, t], (2, "a"): [1, 5, 0, t]}


def test_since_is_the_longest_ranges_start():
    for now in (NOW, datetime(2026, 3, 10, 0, 0, tzinfo=timezone.utc), datetime(2026, 3, 10, 23, 59, tzinfo=timezone.utc)):
        assert author_totals.since_for(now) == audience.window("90d", now).start


@pytest.mark.parametrize("loud", [True, False], ids=["reach-and-engagement", "engagement-only"])
def test_every_range_answers_from_the_totals(app, monkeypatch, loud):
    monkeypatch.setattr(audience, "TOTALS_FIRST", 4)      # short pages: the stopping rule is at work
    batch = _mentions(2500, 400, loud)
    monitor_id = _write(app, batch)
    with app.app_context():
        assert audience._by_totals(db.session, monitor_id, audience.window("7d", NOW), 5) is None  # not built
    assert _build(app, monitor_id) == len({row["author"] for row in batch
                                           if row["published_at"] >= author_totals.since_for(NOW)})
    _check(app, monitor_id, batch)
    monkeypatch.setattr(audience, "GROUP_ALL_MENTIONS", 0)
    with app.app_context():
        for name in audience.RANGES:
            w = audience.window(name, NOW)
            assert _same(audience.top_authors(db.session, monitor_id, w, 5), _expected(batch, w, 5)), name


def test_ties_everywhere_are_read_on_until_they_are_decided(app, monkeypatch):
    """No reach, no engagement: every score is 0 and mentions and names decide."""
    monkeypatch.setattr(audience, "TOTALS_FIRST", 2)
    batch = [{**row, "reach": 0, "engagement": 0} for row in _mentions(600, 80, False, seed=5)]
    monitor_id = _write(app, batch)
    _build(app, monitor_id)
    _check(app, monitor_id, batch, limit=7)


def test_late_mentions_mutes_and_new_authors_after_a_build(app, monkeypatch):
    monkeypatch.setattr(audience, "TOTALS_FIRST", 4)
    batch = _mentions(1500, 300, True, seed=7)
    monitor_id = _write(app, batch)
    _build(app, monitor_id)
    late = [{**row, "monitor_id": monitor_id, "published_at": NOW - timedelta(days=d, minutes=5), "reach": reach,
             "engagement": 40, "author": author}
            for d, author, reach in ((80, "late-old", 9_000_000), (20, "author299", 9_500_000), (0, "newcomer", 8_000_000),
                                     (0.5, "author3", 0), (3, "author5", 10_000_000))
            for row in batch[:1]]
    _add(app, late)
    muted = [{**row, "monitor_id": monitor_id} for row in batch if row["author"] in ("author0", "author1")][:400]
    _add(app, muted, sign=-1)
    kept = [row for row in batch if {**row, "monitor_id": monitor_id} not in muted] + late
    _check(app, monitor_id, kept)
    with app.app_context():
        pages: list = []
        rank = audience._rank
        monkeypatch.setattr(audience, "_rank", lambda s, m, w, n, authors: pages.append(authors) or rank(s, m, w, n, authors))
        audience._by_totals(db.session, monitor_id, audience.window("24h", NOW), 5)
        ranked = [name for page in pages for name in db.session.execute(page).scalars()]
        assert ranked and "late-old" not in ranked    # its latest day is before the window: never read


def test_rescoring_and_retention_rebuilds_keep_the_bound(app, monkeypatch):
    """A rebuild of the rollups (re-scoring) empties and refills the totals; one after retention
    (rows before a day stay) keeps them (rows from that day count twice: looser, still exact)."""
    monkeypatch.setattr(audience, "TOTALS_FIRST", 4)
    batch = _mentions(1200, 200, True, seed=11)
    monitor_id = _write(app, batch)
    _build(app, monitor_id)
    rows = [{**row, "monitor_id": monitor_id} for row in batch]
    with app.app_context():
        insight_rollups.clear(db.session, monitor_id)
        insight_rollups.apply(db.session, insight_rollups.deltas(rows))
        db.session.commit()
        assert db.session.query(AuthorTotal).filter_by(monitor_id=monitor_id).count() == len({r["author"] for r in rows})
    _check(app, monitor_id, batch)
    since = bucket_start(NOW - timedelta(days=10), "1d")   # a day's start, as rollups.rebuild_since gives
    with app.app_context():
        insight_rollups.clear(db.session, monitor_id, since)
        insight_rollups.apply(db.session, insight_rollups.deltas([r for r in rows if r["published_at"] >= since]))
        db.session.commit()
    _check(app, monitor_id, batch)


def test_a_window_before_the_mark_or_too_many_authors_falls_back(app, monkeypatch):
    batch = _mentions(800, 300, False, seed=13)
    monitor_id = _write(app, batch)
    _build(app, monitor_id)
    with app.app_context():
        old = audience.Window("1d", author_totals.since_for(NOW) - timedelta(days=1), NOW)
        assert audience._by_totals(db.session, monitor_id, old, 5) is None
        monkeypatch.setattr(audience, "TOTALS_FIRST", 1)
        monkeypatch.setattr(audience, "MAX_TOTALS", 2)
        w = audience.window("90d", NOW)
        assert audience._by_totals(db.session, monitor_id, w, 5) is None
        monkeypatch.setattr(audience, "GROUP_ALL_MENTIONS", 0)
        assert _same(audience.top_authors(db.session, monitor_id, w, 5), _expected(batch, w, 5))


def test_refresh_builds_monitors_due_and_the_command(app, runner):
    batch = _mentions(300, 50, True, seed=17)
    monitor_id = _write(app, batch)
    with app.app_context():
        assert author_totals.refresh_due(db.session, NOW) == {monitor_id: len({r["author"] for r in batch})}
        assert author_totals.mark(db.session, monitor_id) == author_totals.since_for(NOW)
        assert author_totals.refresh_due(db.session, NOW) == {}                      # built today
        assert author_totals.refresh_due(db.session, NOW + timedelta(days=1)).keys() == {monitor_id}
        assert author_totals.mark(db.session, monitor_id) == author_totals.since_for(NOW + timedelta(days=1))
    result = runner.invoke(args=["fold-authors", "--force"])
    assert result.exit_code == 0 and "of 1 monitors" in result.output, result.output
    for bad in (["--monitor", "0"], ["--monitor", "x"], ["--monitor", "99999"]):
        result = runner.invoke(args=["fold-authors", *bad])
        assert result.exit_code != 0 and "Traceback" not in result.output, (bad, result.output)


def test_a_rebuild_moves_the_mark_and_replaces_every_chunk(app, monkeypatch):
    monkeypatch.setattr(audience, "TOTALS_FIRST", 4)
    batch = _mentions(900, 150, True, seed=19)
    monitor_id = _write(app, batch)
    _build(app, monitor_id, chunk=1000)                       # one chunk
    later = NOW + timedelta(days=1)
    moved = [{**row, "monitor_id": monitor_id, "published_at": later - timedelta(hours=h)}
             for h, row in zip((1, 5, 30), batch[-3:])]
    _add(app, moved)
    assert _build(app, monitor_id, later, chunk=6) == len({r["author"] for r in batch + moved
                                                             if r["published_at"] >= author_totals.since_for(later)})
    with app.app_context():
        assert author_totals.mark(db.session, monitor_id) == author_totals.since_for(later)
        assert audience._by_totals(db.session, monitor_id, audience.window("90d", NOW), 5) is None  # before it
        for name in audience.RANGES:
            w = audience.window(name, later)
            assert _same(audience._by_totals(db.session, monitor_id, w, 5), _expected(batch + moved, w, 5)), name
