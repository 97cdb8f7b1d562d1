"""Edit a monitor: rename it, change its query, enable / disable / remove sources, add new ones.

Validation is the same as at creation (services.monitors.check_monitor), with the errors keyed
by field. A new query applies to what is fetched from then on; stored mentions stay as they are
(the query preview shows what the new query would have kept).

Removing a source deletes its mentions (the database cascades) and takes their counts out of
the monitor's rollups in the same transaction, so the charts stay exact. The source row is
locked first, so an ingest batch that is storing mentions of it either finishes before (and is
counted) or fails on the missing source and drops them as orphans.
"""
from __future__ import annotations

from sqlalchemy import delete, select, update

from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import SYSTEM_KINDS, Monitor, Source
from webapp.ingest import rollups, term_rollups
from webapp.insights import rollups as insight_rollups
from webapp.monitors.services.manage import MAX_SOURCES, MonitorInvalid, check_monitor


def update_monitor(session, monitor: Monitor, *, name: str | None = None, query: str | None = None,
                   enabled: set[int] | None = None, remove: set[int] = frozenset(),
                   add: list[dict] = (), policy=None) -> Monitor:
    """Apply the changes given (None leaves a field alone); raises MonitorInvalid; commits once.

    `enabled` is the set of fetched-source ids to keep enabled (the others are disabled);
    `remove` the ids to delete; `add` new source specs as for create_monitor. Ids that are not
    the monitor's fetched sources are ignored.
    """
    fetched = {s.id: s for s in monitor.fetched_sources}
    remove = {i for i in remove if i in fetched}
    name, query, clean = check_monitor(monitor.name if name is None else name,
                                       monitor.query if query is None else query, list(add), policy)
    if len(fetched) - len(remove) + len(clean) > MAX_SOURCES:
        raise MonitorInvalid({"sources": f"at most {MAX_SOURCES} sources per monitor"})
    monitor.name, monitor.query = name, query
    for source_id, source in fetched.items():
        if enabled is not None and source_id not in remove:
            source.enabled = source_id in enabled
    for spec in clean:
        monitor.sources.append(Source(kind=spec.kind, every=spec.every, settings=spec.settings))
    session.flush()
    for source_id in sorted(remove):
        _remove_source(session, monitor.id, source_id)
    session.commit()
    session.expire(monitor)
    return monitor


def _remove_source(session, monitor_id: int, source_id: int) -> None:
    """Delete a source with its mentions and subtract them from the monitor's rollups (no commit)."""
    # Lock the source: FOR UPDATE (PostgreSQL) blocks inserts that reference it; the UPDATE takes
    # SQLite's write lock before the mentions are read.
    session.execute(select(Source.id).where(Source.id == source_id).with_for_update())
    session.execute(update(Source).where(Source.id == source_id).values(enabled=False)
                    .execution_options(synchronize_session=False))
    unmuted = (Mention.source_id == source_id, Mention.muted.is_(False))   # muted ones are in no rollup
    rows = session.execute(
        select(Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound, Mention.label,
               Mention.text, *insight_rollups.COLUMNS)
        .where(*unmuted).execution_options(yield_per=5000)
    ).mappings()
    for chunk in rows.partitions(20_000):   # streamed; negated upserts add up as one statement would
        insight_rollups.apply(session, insight_rollups.deltas(chunk, sign=-1))
        changes = rollups.negated(rollups.deltas(chunk))
        rollups.apply(session, {key: d for key, d in changes.items() if key[1] != source_id})
        # term rollups have no source dimension: the source's mentions' terms are subtracted
        term_rollups.apply(session, term_rollups.moved([], chunk))
    session.execute(delete(Rollup).where(Rollup.monitor_id == monitor_id, Rollup.source_id == source_id))
    source = session.get(Source, source_id)
    session.delete(source)
    session.flush()


def monitor_counts(session, monitor_id: int) -> dict[str, int]:
    """What deleting the monitor takes with it, for the confirmation page."""
    from sqlalchemy import func

    from webapp.alerting.models import AlertEvent, Rule

    def count(model) -> int:
        return session.execute(select(func.count()).select_from(model)
                               .where(model.monitor_id == monitor_id)).scalar_one()

    fetched = session.execute(select(func.count()).select_from(Source).where(
        Source.monitor_id == monitor_id, Source.kind.not_in(SYSTEM_KINDS))).scalar_one()
    return {"mentions": count(Mention), "sources": fetched, "rules": count(Rule), "alert events": count(AlertEvent)}
