"""`flask --app wsgi backfill MONITOR_ID --since ISO8601 [--until ISO8601]`: fetch a monitor's history.

By default the slices run on the Celery workers (`backfill.start` fans them out) and this
command waits, drawing a progress bar from the database; `--no-wait` returns at once,
`--inline` runs the slices in this process (no workers needed), `--resume ID` continues a
backfill that was interrupted, from each slice's checkpoint.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.backfill.models import Backfill
from webapp.monitors.models import Monitor
from webapp.monitors.backfill import service as backfills
from webapp.monitors.backfill.progress import Progress, progress
from webapp.core.times import read_time

MAX_INLINE_WAIT = 60.0  # an inline run sleeps through rate limits up to this long, else leaves the slice
INLINE_TRIES = 3



class IsoTime(click.ParamType):
    """An ISO 8601 date or time; without a zone it is UTC, a bare date is its midnight."""

    name = "ISO8601"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:   # the one time reader (core.times): its formats and range, never an OverflowError
            when = read_time(value)
            if when is None:
                raise ValueError("it is empty")
            return when
        except ValueError as exc:
            self.fail(f"{value!r} is not an ISO 8601 date or time in range (e.g. 2026-05-01 or "
                      f"2026-05-01T12:00:00Z): {exc}", param, ctx)


@click.command("backfill")
@with_appcontext
@click.argument("monitor_id", type=int, required=False)
@click.option("--since", type=IsoTime(), help="start of the history to fetch (ISO 8601)")
@click.option("--until", type=IsoTime(), help="end, exclusive (ISO 8601; default: now)")
@click.option("--resume", "resume_id", type=int, metavar="BACKFILL_ID",
              help="continue a backfill: slices not done run again from their checkpoints")
@click.option("--inline", is_flag=True, help="run the slices in this process instead of on the workers")
@click.option("--no-wait", is_flag=True, help="queue the slices on the workers and return at once")
@click.option("--timeout", type=float, default=None, help="stop waiting after this many seconds")
@click.option("--poll", type=float, default=1.0, show_default=True, help="seconds between progress checks")
def backfill_cmd(monitor_id, since, until, resume_id, inline, no_wait, timeout, poll) -> None:
    """Fetch MONITOR_ID's history in parallel slices, resumable, with progress."""
    if inline and no_wait:
        raise click.UsageError("--inline runs the slices here; it cannot be combined with --no-wait")
    if resume_id is not None:
        backfill_id = _resume(resume_id)
    else:
        backfill_id = _start(monitor_id, since, until)
    if inline:
        _run_inline(backfill_id)
    else:
        try:
            current_app.extensions["celery"].send_task("backfill.start", args=[backfill_id])
        except Exception as exc:  # noqa: BLE001 - a broker outage is reported, not a traceback
            raise click.ClickException(f"could not queue backfill {backfill_id}: {exc}; "
                                       f"run it here with --resume {backfill_id} --inline") from exc
        if no_wait:
            click.echo(f"backfill {backfill_id} queued; follow it with --resume {backfill_id} if workers stop")
            return
        _wait(backfill_id, timeout, poll)
    _summary(backfill_id)


def _start(monitor_id: int | None, since, until) -> int:
    if monitor_id is None or since is None:
        raise click.UsageError("give MONITOR_ID and --since (or --resume BACKFILL_ID)")
    monitor = db.session.get(Monitor, monitor_id)
    if monitor is None:
        raise click.ClickException(f"no monitor with id {monitor_id}")
    try:
        backfill = backfills.start_backfill(db.session, monitor, since, until)
    except backfills.BackfillInvalid as exc:
        raise click.ClickException(exc.errors.get("sources") or str(exc)) from exc
    total = len(backfill.slices)
    sources = len({s.source_id for s in backfill.slices})
    click.echo(f"backfill {backfill.id} of monitor {monitor.id}: {backfill.since.isoformat()} to "
               f"{backfill.until.isoformat()}, {total} slices over {sources} source(s)", err=True)
    for skipped in backfill.skipped or []:
        click.echo(f"  skipped source {skipped['source_id']} ({skipped['kind']}): {skipped['reason']}", err=True)
    return backfill.id


def _resume(backfill_id: int) -> int:
    if db.session.get(Backfill, backfill_id) is None:
        raise click.ClickException(f"no backfill with id {backfill_id}")
    ids = backfills.resume(db.session, backfill_id)
    click.echo(f"resuming backfill {backfill_id}: {len(ids)} slice(s) to run", err=True)
    return backfill_id


def _bar(total: int, label: str):
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True,
                             item_show_func=lambda item: item)


def _run_inline(backfill_id: int) -> None:
    """Run the backfill's pending slices one after another in this process."""
    state = progress(db.session, backfill_id)
    bus, policy = runtime.bus(), runtime.egress_policy()
    published = state.published
    with _bar(state.total, f"backfill {backfill_id}") as bar:
        bar.update(state.done + state.failed, f"{published} mentions")
        for slice_id in backfills.slice_ids(db.session, backfill_id):
            for _ in range(INLINE_TRIES):
                report = backfills.run_slice(db.session, bus, slice_id, policy)
                wait = report.retry_after or 0.0
                if report.status != "rate_limited" or wait > MAX_INLINE_WAIT:
                    break
                time.sleep(wait)
            published += report.published
            bar.update(1, f"{published} mentions")


def _wait(backfill_id: int, timeout: float | None, poll: float) -> None:
    """Draw the progress of a backfill the workers run, until it ends (or `timeout`)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    state = progress(db.session, backfill_id)
    shown = 0
    try:
        with _bar(state.total, f"backfill {backfill_id}") as bar:
            while True:
                db.session.rollback()  # end the read transaction: see the workers' commits
                state = progress(db.session, backfill_id)
                finished = state.done + state.failed
                bar.update(finished - shown, f"{state.published} mentions")
                shown = finished
                if state.finished:
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    click.echo(f"\nstopped waiting; backfill {backfill_id} goes on in the workers", err=True)
                    return
                time.sleep(poll)
    except KeyboardInterrupt:
        click.echo(f"\nstopped waiting; backfill {backfill_id} goes on in the workers", err=True)


def _summary(backfill_id: int) -> None:
    db.session.rollback()
    state: Progress = progress(db.session, backfill_id)
    click.echo(f"backfill {backfill_id} {state.status}: {state.published} mentions published of "
               f"{state.fetched} fetched; {state.done} of {state.total} slices done, {state.failed} failed")
    for error in state.errors:
        click.echo(f"  source {error['source_id']}, {error['day']}: {error['error']}", err=True)
    if state.status == "failed":
        raise click.ClickException(f"some slices failed; retry them with --resume {backfill_id}")


COMMANDS = (backfill_cmd,)
