"""A backfill on real Celery workers: the worker is killed (SIGKILL) half-way, a new worker
takes over, `flask backfill --resume` waits for it with its progress bar, and every mention is
stored exactly once, marked backfilled (pages published twice around the kill are dropped)."""
from __future__ import annotations

import signal
import subprocess

from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.monitors.backfill.models import Backfill, BackfillSlice
from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import Monitor
from webapp.monitors.backfill import service as backfills

from tests.backfill_pager import DAY, expected_items, install, uninstall
from tests.helpers import app_config
from tests.helpers import new_monitor, stop_process, wait_for
from tests.monitors.test_backfill import UNTIL
from tests.ingest.test_worker import BIN, ROOT, service_env

DAYS, PAGES = 4, 4


def start_worker(tmp_path, name: str):
    # The bus is drained by the test: a killed worker's consumer would hold the SQL log's lease
    # for its 30 s, which tests nothing about backfills.
    env = {**service_env(app_config(tmp_path)), "CELERY_EXTRA_IMPORTS": "tests.backfill_pager_autoload",
           "BUS_CONSUMER_IN_WORKER": "0"}
    log = tmp_path / f"{name}.log"
    proc = subprocess.Popen(
        [str(BIN / "celery"), "-A", "tasks", "worker", "--pool", "threads", "--concurrency", "2",
         "-Q", "celery,fetch", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-n", f"{name}@%h"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def test_worker_killed_half_way_then_resumed(app, runner, tmp_path, drain):
    install()
    try:
        monitor_id, _ = new_monitor(app, query="acme", sources=[
            {"kind": "pager", "pages": PAGES, "per_page": 4, "delay": 0.4}])
        with app.app_context():
            monitor = db.session.get(Monitor, monitor_id)
            backfill_id = backfills.start_backfill(db.session, monitor, UNTIL - DAYS * DAY, UNTIL).id
        app.extensions["celery"].send_task("backfill.start", args=[backfill_id])

        def checkpoints():
            with app.app_context():
                pages = db.session.execute(select(BackfillSlice.page)).scalars().all()
                db.session.remove()
                return sum(1 for p in pages if p) >= 2 and not all(p.get("done") for p in pages) and pages

        worker, log = start_worker(tmp_path, "first")
        try:
            wait_for(checkpoints, 60, interval=0.05, message="the first worker to checkpoint some pages")
        finally:
            stop_process(worker, log, sig=signal.SIGKILL)
        with app.app_context():
            statuses = db.session.execute(select(BackfillSlice.status)).scalars().all()
            assert statuses.count("done") < DAYS  # really half-way
            db.session.remove()

        worker, log = start_worker(tmp_path, "second")
        try:
            result = runner.invoke(args=["backfill", "--resume", str(backfill_id), "--timeout", "90", "--poll", "0.2"])
            assert result.exit_code == 0, result.output
            assert f"backfill {backfill_id} done" in result.stdout
        finally:
            stop_process(worker, log)
        outcome = drain()
        expected = expected_items(DAYS, pages=PAGES)
        assert outcome.inserted == expected
        with app.app_context():
            count, distinct, flagged = db.session.execute(select(
                func.count(), func.count(func.distinct(Mention.external_id)),
                func.sum(func.cast(Mention.backfilled, db.Integer)))).one()
            assert count == distinct == flagged == expected
            assert db.session.execute(select(func.sum(Rollup.count)).where(
                Rollup.source_id == 0, Rollup.bucket == "1d")).scalar() == expected
            assert db.session.get(Backfill, backfill_id).status == "done"
    finally:
        uninstall()
