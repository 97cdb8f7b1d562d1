"""The backfill command (inline, queued, waiting, killed and resumed) and the backfill pages
(start, progress JSON, resume, cancel, permissions), against the in-memory `pager` source."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.backfill.models import Backfill, BackfillSlice
from webapp.ingest.models import Mention
from webapp.monitors.backfill import service as backfills

from tests.backfill_pager import DAY, expected_items, install, uninstall
from tests.helpers import make_user
from tests.helpers import new_monitor
from tests.monitors.test_backfill import SINCE, UNTIL, stored


@pytest.fixture
def pager():
    adapter = install()
    yield adapter
    uninstall()


def pager_monitor(app, sources=None):
    return new_monitor(app, query="acme", sources=sources or [{"kind": "pager"}, {"kind": "rss", "url": "https://f.example.com/x"}])[0]


def queued_messages(app, queue_name="fetch"):
    """Task names waiting in a broker queue (consumed)."""
    names = []
    with app.extensions["celery"].connection_for_read() as conn:
        queue = conn.SimpleQueue(queue_name)
        try:
            while True:
                try:
                    message = queue.get(timeout=1)
                except queue.Empty:
                    return names
                names.append((message.headers["task"], message.decode()[0]))
                message.ack()
        finally:
            queue.close()


def backfill_ids(app):
    with app.app_context():
        return list(db.session.execute(select(Backfill.id).order_by(Backfill.id)).scalars())


# --- CLI -------------------------------------------------------------------------------------

def test_cli_inline_runs_every_slice_with_progress(app, runner, pager, drain):
    monitor_id = pager_monitor(app)
    result = runner.invoke(args=["backfill", str(monitor_id), "--since", SINCE.date().isoformat(),
                                 "--until", UNTIL.isoformat(), "--inline"])
    assert result.exit_code == 0, result.output
    [backfill_id] = backfill_ids(app)
    expected = expected_items(2)
    assert f"backfill {backfill_id} of monitor {monitor_id}" in result.stderr
    assert "2 slices over 1 source(s)" in result.stderr and "cannot fetch history" in result.stderr
    assert f"backfill {backfill_id}" in result.stderr  # the progress bar's label
    assert f"backfill {backfill_id} done: {expected} mentions published of 24 fetched; 2 of 2 slices done" in result.stdout
    drain()
    assert stored(app) == (expected, expected, expected, expected)


def test_cli_killed_half_way_resumes_and_stores_each_mention_once(app, runner, pager, drain):
    monitor_id = pager_monitor(app)
    pager.crash_at = 4
    crashed = runner.invoke(args=["backfill", str(monitor_id), "--since", SINCE.isoformat(),
                                  "--until", UNTIL.isoformat(), "--inline"])
    assert isinstance(crashed.exception, RuntimeError)
    [backfill_id] = backfill_ids(app)
    drain()  # what was published before the crash is stored
    pager.crash_at = None
    resumed = runner.invoke(args=["backfill", "--resume", str(backfill_id), "--inline"])
    assert resumed.exit_code == 0, resumed.output
    assert "resuming backfill" in resumed.stderr and "1 slice(s) to run" in resumed.stderr
    assert f"backfill {backfill_id} done" in resumed.stdout
    drain()
    expected = expected_items(2)
    assert stored(app) == (expected, expected, expected, expected)
    again = runner.invoke(args=["backfill", "--resume", str(backfill_id), "--inline"])
    assert again.exit_code == 0 and "0 slice(s) to run" in again.stderr


def test_cli_queues_on_the_fetch_queue_and_can_stop_waiting(app, runner, pager):
    monitor_id = pager_monitor(app)
    queued = runner.invoke(args=["backfill", str(monitor_id), "--since", SINCE.isoformat(), "--no-wait"])
    assert queued.exit_code == 0, queued.output
    [first] = backfill_ids(app)
    assert f"backfill {first} queued" in queued.stdout
    waited = runner.invoke(args=["backfill", str(monitor_id), "--since", SINCE.isoformat(),
                                 "--until", UNTIL.isoformat(), "--timeout", "0.3", "--poll", "0.1"])
    assert waited.exit_code == 0, waited.output
    second = backfill_ids(app)[-1]
    assert "stopped waiting" in waited.stderr and f"backfill {second} queued: 0 mentions" in waited.stdout
    assert queued_messages(app) == [("backfill.start", [first]), ("backfill.start", [second])]


def test_cli_reports_failures_with_a_non_zero_exit(app, runner, pager):
    monitor_id = pager_monitor(app)
    pager.fail_page = 0
    result = runner.invoke(args=["backfill", str(monitor_id), "--since", (UNTIL - DAY).isoformat(),
                                 "--until", UNTIL.isoformat(), "--inline"])
    assert result.exit_code == 1 and "--resume" in result.output and "http_500" in result.stderr


@pytest.mark.parametrize("args,message", [
    (["backfill", "1"], "--since"),
    (["backfill", "1", "--since", "yesterday"], "not an ISO 8601"),
    (["backfill", "999", "--since", "2026-01-01"], "no monitor with id 999"),
    (["backfill", "--resume", "999"], "no backfill with id 999"),
    (["backfill", "1", "--since", "2026-01-01", "--inline", "--no-wait"], "cannot be combined"),
])
def test_cli_errors(app, runner, pager, args, message):
    pager_monitor(app)
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output


def test_cli_monitor_without_history_sources(app, runner, pager):
    monitor_id, _ = new_monitor(app, sources=[{"kind": "rss", "url": "https://f.example.com/x"}])
    result = runner.invoke(args=["backfill", str(monitor_id), "--since", SINCE.isoformat()])
    assert result.exit_code == 1 and "no enabled source of this monitor can fetch history" in result.output


# --- pages -----------------------------------------------------------------------------------

def test_page_starts_a_backfill_and_reports_progress(app, logged_in, pager, drain):
    monitor_id = pager_monitor(app)
    page = logged_in.get(f"/monitors/{monitor_id}/backfill")
    assert page.status_code == 200 and 'id="backfill-form"' in page.text
    assert "can fetch history" in page.text and "cannot fetch history: skipped" in page.text
    started = logged_in.post(f"/monitors/{monitor_id}/backfill", data={
        "since": SINCE.date().isoformat(), "until": (UNTIL - DAY).date().isoformat()})
    assert started.status_code == 302
    backfill_id = int(re.search(r"/backfills/(\d+)$", started.headers["Location"]).group(1))
    assert queued_messages(app) == [("backfill.start", [backfill_id])]
    show = logged_in.get(started.headers["Location"])
    assert show.status_code == 200 and "js/backfill.js" in show.text and "data-progress-url" in show.text
    assert 'id="backfill-resume"' in show.text and 'id="backfill-cancel"' in show.text
    progress_url = f"/monitors/{monitor_id}/backfills/{backfill_id}/progress"
    before = logged_in.get(progress_url).json
    assert (before["status"], before["slices"]["total"], before["slices"]["done"]) == ("queued", 2, 0)
    assert before["skipped"] == [{"source_id": before["skipped"][0]["source_id"], "kind": "rss",
                                  "reason": "cannot fetch history"}]
    with app.app_context():  # what the workers would do
        for slice_id in backfills.slice_ids(db.session, backfill_id):
            backfills.run_slice(db.session, runtime.bus(), slice_id, runtime.egress_policy())
    after = logged_in.get(progress_url).json
    expected = expected_items(2)
    assert (after["status"], after["slices"]["done"], after["percent"], after["published"]) == ("done", 2, 100.0, expected)
    assert after["finished"] is True
    drain()
    mentions = logged_in.get(f"/monitors/{monitor_id}/mentions")
    assert mentions.text.count('class="tag backfilled"') == expected
    listing = logged_in.get(f"/monitors/{monitor_id}/backfill")
    assert f"/backfills/{backfill_id}" in listing.text and "2 of 2 slices done" in listing.text


def test_page_cancel_and_resume(app, logged_in, pager):
    monitor_id = pager_monitor(app)
    with app.app_context():
        from webapp.monitors.models import Monitor
        backfill_id = backfills.start_backfill(db.session, db.session.get(Monitor, monitor_id), SINCE, UNTIL).id
    base = f"/monitors/{monitor_id}/backfills/{backfill_id}"
    assert logged_in.post(f"{base}/cancel").status_code == 302
    assert logged_in.get(f"{base}/progress").json["status"] == "cancelled"
    assert 'id="backfill-cancel"' not in logged_in.get(base).text
    queued_messages(app)
    assert logged_in.post(f"{base}/resume").status_code == 302
    assert logged_in.get(f"{base}/progress").json["status"] == "queued"
    assert queued_messages(app) == [("backfill.start", [backfill_id])]


@pytest.mark.parametrize("form,message", [
    ({"since": "2026-05-02", "until": "2026-05-01"}, "must not be before"),
    ({"since": "2999-01-01", "until": "2999-01-02"}, "before now"),
    ({"since": "", "until": "2026-05-01"}, "choose the first day"),
    ({"since": "2020-01-01", "until": "2026-01-01"}, "at most 366 days"),
])
def test_page_form_errors(app, logged_in, pager, form, message):
    monitor_id = pager_monitor(app)
    response = logged_in.post(f"/monitors/{monitor_id}/backfill", data=form)
    assert response.status_code == 400 and message in response.text
    assert backfill_ids(app) == []


def test_page_monitor_without_history_sources(app, logged_in, pager):
    monitor_id, _ = new_monitor(app, sources=[{"kind": "rss", "url": "https://f.example.com/x"}])
    response = logged_in.post(f"/monitors/{monitor_id}/backfill", data={
        "since": SINCE.date().isoformat(), "until": UNTIL.date().isoformat()})
    assert response.status_code == 400 and "can fetch history" in response.text


def test_viewers_follow_but_cannot_start_or_change(app, client, pager):
    monitor_id = pager_monitor(app)
    other_id = pager_monitor(app)
    with app.app_context():
        from webapp.monitors.models import Monitor
        backfill_id = backfills.start_backfill(db.session, db.session.get(Monitor, monitor_id), SINCE, UNTIL).id
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "viewer@example.com", "password": "viewer password"})
    page = client.get(f"/monitors/{monitor_id}/backfill")
    assert page.status_code == 200 and 'id="backfill-form"' not in page.text
    base = f"/monitors/{monitor_id}/backfills/{backfill_id}"
    assert client.get(base).status_code == 200 and 'id="backfill-resume"' not in client.get(base).text
    assert client.get(f"{base}/progress").status_code == 200
    assert client.post(f"/monitors/{monitor_id}/backfill", data={"since": "2026-05-01", "until": "2026-05-02"}).status_code == 403
    assert client.post(f"{base}/resume").status_code == 403
    assert client.post(f"{base}/cancel").status_code == 403
    assert client.get(f"/monitors/{other_id}/backfills/{backfill_id}/progress").status_code == 404
    assert client.get("/monitors/999/backfill").status_code == 404
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(BackfillSlice)).scalar() == 2
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 0


def test_tasks_fan_out_slices_and_run_them(app, pager, drain):
    """The thin tasks, run in this process: start and resume queue run_slice on the fetch queue."""
    from webapp.monitors.backfill import tasks as backfill_tasks

    monitor_id = pager_monitor(app)
    with app.app_context():
        from webapp.monitors.models import Monitor
        backfill_id = backfills.start_backfill(db.session, db.session.get(Monitor, monitor_id), SINCE, UNTIL).id
        ids = backfills.slice_ids(db.session, backfill_id)
    assert backfill_tasks.start.apply(args=[backfill_id]).get() == 2
    assert queued_messages(app) == [("backfill.run_slice", [i]) for i in ids]
    report = backfill_tasks.run_slice.apply(args=[ids[0]]).get()
    assert (report["status"], report["pages"]) == ("done", 3)
    assert backfill_tasks.resume.apply(args=[backfill_id]).get() == 1
    assert queued_messages(app) == [("backfill.run_slice", [ids[1]])]
    assert backfill_tasks.resume.apply().get() == 0  # the periodic sweep: nothing stale
