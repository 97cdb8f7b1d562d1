"""Backfill: slicing (pure), runs against the in-memory `pager` source, crashes and resumes
with every mention stored once, fencing of taken-over slices, rate limits, errors, cancel."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.backfill.models import Backfill, BackfillSlice
from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import Monitor, Source
from webapp.monitors.backfill import service as backfills
from webapp.monitors.backfill.progress import progress

from tests.backfill_pager import DAY, expected_items, install, uninstall
from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

MIDNIGHT = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
SINCE, UNTIL = MIDNIGHT - 3 * DAY, MIDNIGHT - DAY  # two whole days, in the past


@pytest.fixture
def pager():
    adapter = install()
    yield adapter
    uninstall()


def pager_monitor(app, query="acme", sources=None):
    monitor_id, _ = new_monitor(app, query=query, sources=sources or [{"kind": "pager", "pages": 3, "per_page": 4}])
    return monitor_id


def start(app, monitor_id, since=SINCE, until=UNTIL) -> int:
    with app.app_context():
        return backfills.start_backfill(db.session, db.session.get(Monitor, monitor_id), since, until).id


def run_all(app, backfill_id, bus=None) -> list:
    with app.app_context():
        ids = backfills.slice_ids(db.session, backfill_id)
        return [backfills.run_slice(db.session, bus or runtime.bus(), i, runtime.egress_policy()) for i in ids]


def stored(app):
    with app.app_context():
        count, distinct, flagged = db.session.execute(select(
            func.count(), func.count(func.distinct(Mention.external_id)),
            func.sum(func.cast(Mention.backfilled, db.Integer)))).one()
        rollup = db.session.execute(select(func.coalesce(func.sum(Rollup.count), 0)).where(
            Rollup.source_id == 0, Rollup.bucket == "1d")).scalar()
        return count, distinct, flagged or 0, rollup


# --- planning (pure) -------------------------------------------------------------------------

def test_day_windows_cut_at_midnight_newest_first():
    since = datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
    until = datetime(2026, 5, 3, 6, tzinfo=timezone.utc)
    assert backfills.day_windows(since, until) == [
        (datetime(2026, 5, 3, tzinfo=timezone.utc), until),
        (datetime(2026, 5, 2, tzinfo=timezone.utc), datetime(2026, 5, 3, tzinfo=timezone.utc)),
        (since, datetime(2026, 5, 2, tzinfo=timezone.utc)),
    ]
    whole = backfills.day_windows(datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 5, 3, tzinfo=timezone.utc))
    assert [w[0].day for w in whole] == [2, 1]


def test_plan_slices_capable_sources_and_reports_the_others(pager):
    monitor = Monitor(id=1, query="", sources=[
        Source(id=1, kind="pager", enabled=True, settings={}), Source(id=2, kind="rss", enabled=True),
        Source(id=3, kind="pager", enabled=False), Source(id=4, kind="push", enabled=False),
        Source(id=5, kind="gone-kind", enabled=True), Source(id=6, kind="pager", enabled=True)])
    now = datetime(2026, 5, 10, tzinfo=timezone.utc)
    planned = backfills.plan(monitor, datetime(2026, 5, 1, 10, tzinfo=timezone.utc),
                             datetime(2026, 5, 3, 6, tzinfo=timezone.utc), now)
    assert [(s.source_id, s.since.day, s.until.day) for s in planned.slices] == [
        (1, 3, 3), (6, 3, 3), (1, 2, 3), (6, 2, 3), (1, 1, 2), (6, 1, 2)]
    assert {s["source_id"]: s["reason"] for s in planned.skipped} == {
        2: "cannot fetch history", 3: "disabled", 5: "unknown source kind"}
    # until is capped at now; a naive time is UTC
    capped = backfills.plan(monitor, datetime(2026, 5, 9, 12), datetime(2026, 6, 1, tzinfo=timezone.utc), now)
    assert capped.slices[0].until == now and capped.slices[-1].since == datetime(2026, 5, 9, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("since,until,field", [
    (datetime(2026, 5, 2, tzinfo=timezone.utc), datetime(2026, 5, 1, tzinfo=timezone.utc), "since"),
    (datetime(2026, 5, 11, tzinfo=timezone.utc), None, "since"),  # after now
    (datetime(2024, 1, 1, tzinfo=timezone.utc), None, "since"),  # more than 366 days
    (None, None, "since"),
])
def test_plan_rejects_bad_ranges(pager, since, until, field):
    monitor = Monitor(id=1, sources=[Source(id=1, kind="pager", enabled=True)])
    with pytest.raises(backfills.BackfillInvalid) as caught:
        backfills.plan(monitor, since, until, datetime(2026, 5, 10, tzinfo=timezone.utc))
    assert field in caught.value.errors


def test_plan_without_capable_sources(pager):
    monitor = Monitor(id=1, sources=[Source(id=2, kind="rss", enabled=True)])
    with pytest.raises(backfills.BackfillInvalid, match="rss"):
        backfills.plan(monitor, datetime(2026, 5, 1, tzinfo=timezone.utc), None, datetime(2026, 5, 2, tzinfo=timezone.utc))


@pytest.mark.parametrize("counts,current,expected", [
    ({"pending": 3}, "queued", "queued"),
    ({"pending": 2, "running": 1}, "queued", "running"),
    ({"pending": 2, "done": 1}, "running", "running"),
    ({"done": 3}, "running", "done"),
    ({"done": 2, "failed": 1}, "running", "failed"),
    ({"done": 2, "pending": 1}, "cancelled", "cancelled"),
    ({"failed": 1, "pending": 1}, "running", "running"),
])
def test_overall_status(counts, current, expected):
    assert backfills.overall_status(counts, current) == expected


# --- runs ------------------------------------------------------------------------------------

def test_backfill_runs_filters_and_marks_mentions(app, pager, drain):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id)
    reports = run_all(app, backfill_id)
    assert [r.status for r in reports] == ["done", "done"] and all(r.pages == 3 for r in reports)
    drain()
    expected = expected_items(2)
    assert stored(app) == (expected, expected, expected, expected)
    with app.app_context():
        state = progress(db.session, backfill_id)
        assert (state.status, state.done, state.total) == ("done", 2, 2)
        assert (state.fetched, state.published) == (2 * 12, expected)
        backfill = db.session.get(Backfill, backfill_id)
        assert backfill.status == "done" and backfill.finished_at is not None
        times = db.session.execute(select(func.min(Mention.published_at), func.max(Mention.published_at))).one()
        assert SINCE <= times[0] and times[1] < UNTIL
    # Running a finished backfill's slices again does nothing.
    assert [r.status for r in run_all(app, backfill_id)] == []


def test_killed_half_way_resumes_from_its_checkpoints_and_stores_each_mention_once(app, pager, drain):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id)
    pager.crash_at = 4  # the first slice's 3 pages, then one page of the second, then "the process dies"
    with pytest.raises(RuntimeError, match="injected crash"):
        run_all(app, backfill_id)
    drain()
    with app.app_context():
        slices = db.session.execute(select(BackfillSlice).order_by(BackfillSlice.id)).scalars().all()
        assert [(s.status, s.page) for s in slices] == [("done", {"done": True}), ("running", {"page": 1})]
        assert progress(db.session, backfill_id).status == "running"
        # A periodic sweep leaves a fresh running slice alone (and pending ones to their tasks),
        # takes over a stale one; an explicit resume takes it over at once.
        assert backfills.resume(db.session) == []
        later = datetime.now(timezone.utc) + timedelta(seconds=backfills.STALE_AFTER + 1)
        assert backfills.resume(db.session, now=later) == [slices[1].id]
        assert db.session.get(BackfillSlice, slices[1].id).status == "pending"
        assert backfills.resume(db.session, now=later) == []
        assert backfills.resume(db.session, backfill_id) == [slices[1].id]
    pager.crash_at = None
    pager.calls.clear()
    assert [r.status for r in run_all(app, backfill_id)] == ["done"]
    assert [page for _, page in pager.calls] == [1, 2]  # from the checkpoint, not from the start
    drain()
    expected = expected_items(2)
    assert stored(app) == (expected, expected, expected, expected)


class CrashAfterPublish:
    """The real bus, but the process "dies" right after the bus confirmed the Nth publish."""

    def __init__(self, bus, after: int):
        self.bus, self.after, self.count = bus, after, 0

    def publish(self, topic, records):
        done = self.bus.publish(topic, records)
        self.count += 1
        if self.count == self.after:
            raise RuntimeError("died between publish and checkpoint")
        return done


def test_crash_between_publish_and_checkpoint_republishes_one_page_and_ingest_drops_it(app, pager, drain):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    with app.app_context():
        crashing = CrashAfterPublish(runtime.bus(), after=2)
    with pytest.raises(RuntimeError, match="between publish and checkpoint"):
        run_all(app, backfill_id, bus=crashing)
    with app.app_context():
        assert backfills.resume(db.session, backfill_id)
    pager.calls.clear()
    assert [r.status for r in run_all(app, backfill_id)] == ["done"]
    assert [page for _, page in pager.calls] == [1, 2]  # page 1 again: its checkpoint was lost
    outcome = drain()
    expected = expected_items(1)
    assert outcome.duplicates == 3  # page 1's three matching items, published twice
    assert stored(app) == (expected, expected, expected, expected)


def test_a_taken_over_runner_is_fenced_off(app, pager):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    now = datetime.now(timezone.utc)
    with app.app_context():
        [slice_id] = backfills.slice_ids(db.session, backfill_id)
        first = backfills.claim(db.session, slice_id, now)
        assert backfills.claim(db.session, slice_id, now + timedelta(seconds=10)) is None  # still fresh
        second = backfills.claim(db.session, slice_id, now + timedelta(seconds=backfills.STALE_AFTER + 1))
        assert (first, second) == (1, 2)
        assert not backfills._checkpoint(db.session, slice_id, first, {"page": 9}, 1, 1, now)
        assert backfills._checkpoint(db.session, slice_id, second, {"page": 1}, 4, 3, now)
        row = db.session.get(BackfillSlice, slice_id)
        assert (row.page, row.fetched, row.published, row.status) == ({"page": 1}, 4, 3, "running")


def test_rate_limit_releases_the_slice_with_its_checkpoint(app, pager, drain):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    pager.rate_limit_page = 2
    [report] = run_all(app, backfill_id)
    assert (report.status, report.retry_after, report.pages) == ("rate_limited", 7.0, 2)
    with app.app_context():
        row = db.session.execute(select(BackfillSlice)).scalar_one()
        assert (row.status, row.page) == ("pending", {"page": 2}) and "rate_limited" in row.error
    assert [r.status for r in run_all(app, backfill_id)] == ["done"]
    drain()
    assert stored(app)[0] == expected_items(1)


def test_paused_source_is_not_fetched(app, pager):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "pager")).scalar_one()
        source.paused_until = datetime.now(timezone.utc) + timedelta(minutes=5)
        db.session.commit()
    [report] = run_all(app, backfill_id)
    assert report.status == "rate_limited" and 200 < report.retry_after <= 300 and pager.calls == []


def test_source_errors_fail_the_slice_and_resume_retries_it(app, pager, drain):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id)
    pager.fail_page = 1
    reports = run_all(app, backfill_id)
    assert [r.status for r in reports] == ["failed", "failed"] and "http_500" in reports[0].error
    with app.app_context():
        state = progress(db.session, backfill_id)
        assert (state.status, state.failed) == ("failed", 2) and "http_500" in state.errors[0]["error"]
        assert db.session.get(Backfill, backfill_id).status == "failed"
        assert len(backfills.resume(db.session, backfill_id)) == 2
        assert db.session.get(Backfill, backfill_id).status == "queued"
    pager.fail_page = None
    assert [r.status for r in run_all(app, backfill_id)] == ["done", "done"]
    drain()
    assert stored(app)[0] == expected_items(2)


def test_an_adapter_that_never_advances_fails_the_slice(app, pager):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    pager.stuck = True
    [report] = run_all(app, backfill_id)
    assert (report.status, report.pages) == ("failed", 0) and "no_progress" in report.error


def test_cancel_stops_after_the_current_page(app, pager):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id)

    def cancel_after_first_page(report):
        with app.app_context():
            assert backfills.cancel(db.session, backfill_id)

    with app.app_context():
        first = backfills.slice_ids(db.session, backfill_id)[0]
        report = backfills.run_slice(db.session, runtime.bus(), first, runtime.egress_policy(),
                                     on_page=cancel_after_first_page)
        assert (report.status, report.pages) == ("cancelled", 1)
        assert progress(db.session, backfill_id).status == "cancelled"
    assert {r.status for r in run_all(app, backfill_id)} == {"cancelled"}
    with app.app_context():
        assert not backfills.cancel(db.session, backfill_id)  # already cancelled
        assert len(backfills.resume(db.session, backfill_id)) == 2  # resumable even so


def test_two_sources_bringing_the_same_pages_store_them_once(app, pager, drain):
    monitor_id = pager_monitor(app, sources=[{"kind": "pager"}, {"kind": "pager"}])
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    assert [r.status for r in run_all(app, backfill_id)] == ["done", "done"]
    outcome = drain()
    expected = expected_items(1)
    assert outcome.inserted == expected and outcome.duplicates == expected
    assert stored(app) == (expected, expected, expected, expected)


def test_deleted_source_and_missing_slice(app, pager):
    monitor_id = pager_monitor(app)
    backfill_id = start(app, monitor_id, SINCE, SINCE + DAY)
    with app.app_context():
        db.session.delete(db.session.execute(select(Source).where(Source.kind == "pager")).scalar_one())
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(BackfillSlice)).scalar() == 0
        assert backfills.run_slice(db.session, runtime.bus(), 12345, runtime.egress_policy()).status == "gone"
        with pytest.raises(LookupError):
            backfills.resume(db.session, 999)
        assert progress(db.session, backfill_id).total == 0
