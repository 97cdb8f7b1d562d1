"""Backfill: fetch a monitor's history over [since, until) in slices that resume after a crash.

`plan` splits the range into one slice per (backfill-capable source, UTC day). A day is small
enough that slices run in parallel and a crash repeats little, and large enough that a year of
one source is 366 tasks, not thousands; search APIs page by time range, so a day is also a
natural window for them. Sources whose adapter cannot search history are skipped and reported.

`run_slice` loops the adapter's `fetch_window` page by page. After each page it filters by the
monitor's query, publishes the matches marked `backfilled` (the bus confirms), THEN saves the
adapter's next page state (the checkpoint) and the counters, and commits. A crash between
publish and checkpoint publishes one page again, which ingest drops as duplicates, so every
mention is stored once however often a slice is resumed.

A slice is claimed before it runs: `attempts` is incremented by a conditional UPDATE and the
new value is the runner's fencing token; checkpoints are written only while the token is
current, so a runner that was presumed dead and taken over stops at its next page instead of
racing its successor. Progress is slices done / all, and mentions published.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, func, or_, select, update

from webapp.monitors.backfill.models import Backfill, BackfillSlice
from webapp.monitors.models import Monitor, Source
from webapp.core.types import utcnow
from webapp.core import metrics
from webapp.ingest.bus import Bus
from webapp.ingest.publish import publish_mentions
from webapp.core.query import QueryError, compile_query
from webapp.monitors.sources import FetchContext, SourceError, UnknownSourceKind, get_adapter
from webapp.core.times import as_utc

SLICE_SPAN = timedelta(days=1)
MAX_SPAN = timedelta(days=366)
MAX_SLICES = 5000
MAX_PAGES = 1000  # per slice run: a guard against an adapter that never says done
STALE_AFTER = 120  # seconds without a checkpoint after which a running slice may be taken over
DEFAULT_RETRY = 60.0  # seconds to wait after a rate limit that named no time
TERMINAL = ("done", "failed", "cancelled")


class BackfillInvalid(ValueError):
    """A backfill that cannot start; `errors` maps a field (since, until, sources) to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SlicePlan:
    source_id: int
    since: datetime
    until: datetime


@dataclass
class Plan:
    slices: list[SlicePlan]
    skipped: list[dict]  # {"source_id", "kind", "reason"}


@dataclass
class SliceReport:
    slice_id: int
    status: str  # done | failed | rate_limited | busy | yielded | superseded | cancelled | gone | crashed
    pages: int = 0
    fetched: int = 0
    published: int = 0
    error: str | None = None
    retry_after: float | None = None



def check_range(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The range to backfill, in aware UTC: `until` defaults to and is capped at `now` (pure)."""
    errors = {}
    if since is None:
        raise BackfillInvalid({"since": "a start time is required"})
    since, until = as_utc(since), min(as_utc(until) if until is not None else now, now)
    if since >= until:
        errors["since"] = "the start must be before the end (and before now)"
    elif until - since > MAX_SPAN:
        errors["since"] = f"a backfill covers at most {MAX_SPAN.days} days"
    if errors:
        raise BackfillInvalid(errors)
    return since, until


def day_windows(since: datetime, until: datetime, span: timedelta = SLICE_SPAN) -> list[tuple[datetime, datetime]]:
    """[since, until) cut at UTC midnights (the first and last pieces may be partial), newest first."""
    out, end = [], until
    while end > since:
        midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight if midnight < end else midnight - span
        out.append((max(start, since), end))
        end = max(start, since)
    return out


def plan(monitor: Monitor, since: datetime, until: datetime, now: datetime) -> Plan:
    """The slices of a backfill of `monitor` over [since, until) (pure; BackfillInvalid if none).

    One slice per (enabled, backfill-capable fetched source, UTC day), newest day first, so the
    most recent history arrives first. Other sources are listed in `skipped` with the reason.
    """
    since, until = check_range(since, until, now)
    windows = day_windows(since, until)
    slices, skipped = [], []
    for source in monitor.fetched_sources:
        try:
            adapter = get_adapter(source.kind)
        except UnknownSourceKind:
            skipped.append({"source_id": source.id, "kind": source.kind, "reason": "unknown source kind"})
            continue
        if not source.enabled:
            skipped.append({"source_id": source.id, "kind": source.kind, "reason": "disabled"})
        elif not adapter.supports_backfill:
            skipped.append({"source_id": source.id, "kind": source.kind, "reason": "cannot fetch history"})
        else:
            slices.extend(SlicePlan(source.id, start, end) for start, end in windows)
    if not slices:
        kinds = ", ".join(sorted({s["kind"] for s in skipped})) or "none"
        raise BackfillInvalid({"sources": f"no enabled source of this monitor can fetch history (kinds: {kinds})"})
    if len(slices) > MAX_SLICES:
        raise BackfillInvalid({"since": f"that is {len(slices)} slices (days × sources), more than {MAX_SLICES}"})
    slices.sort(key=lambda s: (-s.until.timestamp(), s.source_id))
    return Plan(slices, skipped)


def start_backfill(session, monitor: Monitor, since: datetime, until: datetime | None = None,
                   user=None, now: datetime | None = None) -> Backfill:
    """Plan and store a backfill with its slices (status queued); commits. Runs nothing."""
    now = now or utcnow()
    planned = plan(monitor, since, until, now)
    backfill = Backfill(monitor_id=monitor.id, since=min(s.since for s in planned.slices),
                        until=max(s.until for s in planned.slices), status="queued",
                        skipped=planned.skipped, created_at=now, created_by_id=getattr(user, "id", None))
    backfill.slices = [BackfillSlice(source_id=s.source_id, since=s.since, until=s.until, status="pending",
                                     page={}, updated_at=now) for s in planned.slices]
    session.add(backfill)
    session.commit()
    return backfill


def slice_ids(session, backfill_id: int, statuses=("pending",)) -> list[int]:
    """Ids of the backfill's slices in `statuses`, in plan order (newest day first)."""
    return list(session.execute(
        select(BackfillSlice.id).where(BackfillSlice.backfill_id == backfill_id,
                                       BackfillSlice.status.in_(statuses)).order_by(BackfillSlice.id)
    ).scalars())


def claim(session, slice_id: int, now: datetime, stale_after: float = STALE_AFTER) -> int | None:
    """Take a pending slice (or a running one without a checkpoint for `stale_after` s); commits.

    Returns the fencing token (the new `attempts`), or None when the slice is not available.
    """
    stale = now - timedelta(seconds=stale_after)
    taken = session.execute(
        update(BackfillSlice)
        .where(BackfillSlice.id == slice_id,
               or_(BackfillSlice.status == "pending",
                   and_(BackfillSlice.status == "running", BackfillSlice.updated_at <= stale)))
        .values(status="running", attempts=BackfillSlice.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        session.rollback()
        return None
    token, backfill_id = session.execute(
        select(BackfillSlice.attempts, BackfillSlice.backfill_id).where(BackfillSlice.id == slice_id)).one()
    session.execute(update(Backfill).where(Backfill.id == backfill_id, Backfill.status == "queued")
                    .values(status="running").execution_options(synchronize_session=False))
    session.commit()
    return token


def _fenced(slice_id: int, token: int):
    return update(BackfillSlice).where(BackfillSlice.id == slice_id, BackfillSlice.attempts == token) \
        .execution_options(synchronize_session=False)


def _checkpoint(session, slice_id: int, token: int, page: dict, fetched: int, published: int,
                now: datetime) -> bool:
    """Save the next page state and add the counters, if this runner still owns the slice."""
    saved = session.execute(_fenced(slice_id, token).values(
        page=page, fetched=BackfillSlice.fetched + fetched, published=BackfillSlice.published + published,
        updated_at=now))
    session.commit()
    return saved.rowcount == 1


def _finish(session, backfill_id: int, slice_id: int, token: int, status: str, error: str | None,
            now: datetime) -> bool:
    """Set the slice's final (or released) status and refresh the backfill's; commits once.

    The backfill row is locked first (PostgreSQL), so two slices finishing at once count each
    other; on SQLite the UPDATE takes the database's write lock before the count.
    """
    session.execute(select(Backfill.id).where(Backfill.id == backfill_id).with_for_update())
    done = session.execute(_fenced(slice_id, token).values(status=status, error=error, updated_at=now))
    if done.rowcount == 1:
        refresh_status(session, backfill_id, now)
    session.commit()
    return done.rowcount == 1


def overall_status(counts: dict[str, int], current: str) -> str:
    """A backfill's status from its slices' status counts (pure); cancelled stays cancelled."""
    total = sum(counts.values())
    if current == "cancelled" or total == 0:
        return current
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    unfinished = counts.get("pending", 0) + counts.get("running", 0)
    if done == total:
        return "done"
    if unfinished == 0:
        return "failed"
    if current == "queued" and not (done or failed or counts.get("running", 0)):
        return "queued"
    return "running"


def status_counts(session, backfill_id: int) -> dict[str, int]:
    """{slice status: how many} of one backfill."""
    return dict(session.execute(
        select(BackfillSlice.status, func.count()).where(BackfillSlice.backfill_id == backfill_id)
        .group_by(BackfillSlice.status)).all())


def refresh_status(session, backfill_id: int, now: datetime) -> str:
    """Store the backfill's status as its slices say; does not commit."""
    current = session.execute(select(Backfill.status).where(Backfill.id == backfill_id)).scalar_one()
    status = overall_status(status_counts(session, backfill_id), current)
    if status != current:
        session.execute(update(Backfill).where(Backfill.id == backfill_id).values(
            status=status, finished_at=now if status in TERMINAL else None)
            .execution_options(synchronize_session=False))
    return status


def _cancelled(session, backfill_id: int) -> bool:
    return session.execute(select(Backfill.status).where(Backfill.id == backfill_id)).scalar() == "cancelled"


def run_slice(session, bus: Bus, slice_id: int, policy, clock: Callable[[], datetime] = utcnow,
              stale_after: float = STALE_AFTER, budget: float | None = None,
              on_page: Callable[[SliceReport], None] | None = None) -> SliceReport:
    """Run one slice from its checkpoint to the end of its window (see the module docstring).

    `budget` (seconds) makes a long slice yield (released to pending, status 'yielded') so a
    task can re-queue it before its time limit. Errors of the source end the slice 'failed'
    (resumable); a rate limit releases it with `retry_after`. Anything else (a crash) leaves it
    'running' at its last checkpoint, to be taken over by `resume` or a redelivered task.
    """
    report = SliceReport(slice_id, "gone")
    row = session.get(BackfillSlice, slice_id)
    if row is None:
        return report
    if row.status in ("done", "failed"):
        report.status, report.error = row.status, row.error
        return report
    backfill_id, source_id = row.backfill_id, row.source_id
    if _cancelled(session, backfill_id):
        report.status = "cancelled"
        return report
    source = session.get(Source, source_id)
    monitor = session.get(Monitor, source.monitor_id)
    now = clock()
    if source.paused_until is not None and source.paused_until > now:  # the live fetch hit a limit
        report.status, report.retry_after = "rate_limited", (source.paused_until - now).total_seconds()
        return report
    token = claim(session, slice_id, now, stale_after)
    if token is None:
        report.status, report.retry_after = "busy", float(stale_after)
        return report
    row = session.get(BackfillSlice, slice_id)
    settings, kind, query_text, monitor_id = dict(source.settings or {}), source.kind, monitor.query, monitor.id
    since, until, page = row.since, row.until, dict(row.page or {})
    started = time.monotonic()
    try:
        adapter = get_adapter(kind)
        query = compile_query(query_text)
        while not page.get("done"):
            if report.pages >= MAX_PAGES:
                raise SourceError("too_many_pages", f"more than {MAX_PAGES} pages in one run of a slice")
            if budget is not None and report.pages and time.monotonic() - started > budget:
                _finish(session, backfill_id, slice_id, token, "pending", None, clock())
                report.status = "yielded"
                return report
            result = adapter.fetch_window(settings, since, until, page, FetchContext(
                policy=policy, monitor_query=query_text, now=clock()))
            if not isinstance(result.cursor, dict):
                raise SourceError("parse", "the adapter returned a page state that is not an object")
            next_page = dict(result.cursor)
            if next_page == page:
                raise SourceError("no_progress", "the source returned the same page state twice")
            matching = [item for item in result.items if query.matches(item.text, item.lang)]
            published = publish_mentions(bus, monitor_id, source_id, matching, clock(), backfilled=True)
            if not _checkpoint(session, slice_id, token, next_page, len(result.items), published, clock()):
                report.status = "superseded"  # presumed dead and taken over: the new runner goes on
                return report
            page = next_page
            report.pages += 1
            report.fetched += len(result.items)
            metrics.mentions_fetched(kind, len(result.items))  # history counts as fetched too
            report.published += published
            if on_page is not None:
                on_page(report)
            if _cancelled(session, backfill_id):
                _finish(session, backfill_id, slice_id, token, "pending", None, clock())
                report.status = "cancelled"
                return report
    except SourceError as exc:
        if exc.code == "rate_limited" or exc.retry_after is not None:
            _finish(session, backfill_id, slice_id, token, "pending", str(exc), clock())
            report.status, report.error = "rate_limited", str(exc)
            report.retry_after = float(exc.retry_after) if exc.retry_after is not None else DEFAULT_RETRY
        else:
            _finish(session, backfill_id, slice_id, token, "failed", str(exc), clock())
            report.status, report.error = "failed", str(exc)
        return report
    except (UnknownSourceKind, QueryError, NotImplementedError) as exc:
        _finish(session, backfill_id, slice_id, token, "failed", str(exc), clock())
        report.status, report.error = "failed", str(exc)
        return report
    except BaseException:
        session.rollback()  # the slice stays 'running' at its last checkpoint: resumable
        raise
    _finish(session, backfill_id, slice_id, token, "done", None, clock())
    report.status = "done"
    return report


def resume(session, backfill_id: int | None = None, now: datetime | None = None,
           stale_after: float | None = None) -> list[int]:
    """Make slices runnable again and return their ids (for the caller to run or queue); commits.

    With `backfill_id` (an explicit resume): every slice not done goes back to pending, errors
    cleared, checkpoints kept; `stale_after` defaults to 0, so a slice that still looks running
    is taken over (its old runner, if alive, is fenced off at its next page). Without it (a
    periodic sweep, e.g. the `backfill.resume` task on a schedule): running slices without a
    checkpoint for STALE_AFTER seconds (their worker died) of backfills that are not cancelled.
    Pending slices are left to their queued tasks: re-queuing them would flood the queue.
    """
    now = now or utcnow()
    if backfill_id is not None:
        stale = now - timedelta(seconds=stale_after or 0)
        wanted = and_(BackfillSlice.backfill_id == backfill_id,
                      or_(BackfillSlice.status.in_(("pending", "failed")),
                          and_(BackfillSlice.status == "running", BackfillSlice.updated_at <= stale)))
    else:
        stale = now - timedelta(seconds=STALE_AFTER if stale_after is None else stale_after)
        live = select(Backfill.id).where(Backfill.status.in_(("queued", "running")))
        wanted = and_(BackfillSlice.backfill_id.in_(live), BackfillSlice.updated_at <= stale,
                      BackfillSlice.status == "running")
    ids = list(session.execute(select(BackfillSlice.id).where(wanted).order_by(BackfillSlice.id)).scalars())
    if ids:
        session.execute(update(BackfillSlice).where(BackfillSlice.id.in_(ids))
                        .values(status="pending", error=None).execution_options(synchronize_session=False))
    if backfill_id is not None:
        current = session.execute(select(Backfill.status).where(Backfill.id == backfill_id)).scalar()
        if current is None:
            session.rollback()
            raise LookupError(f"no backfill with id {backfill_id}")
        if ids:
            session.execute(update(Backfill).where(Backfill.id == backfill_id)
                            .values(status="queued", finished_at=None).execution_options(synchronize_session=False))
        refresh_status(session, backfill_id, now)
    session.commit()
    return ids


def cancel(session, backfill_id: int, now: datetime | None = None) -> bool:
    """Cancel a queued or running backfill; running slices stop after their current page. Commits."""
    done = session.execute(update(Backfill).where(Backfill.id == backfill_id, Backfill.status.in_(("queued", "running")))
                           .values(status="cancelled", finished_at=now or utcnow())
                           .execution_options(synchronize_session=False))
    session.commit()
    return done.rowcount == 1
