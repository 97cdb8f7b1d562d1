"""Create and describe monitors: validation of name, query and sources, in one place for forms and API."""
from __future__ import annotations

from dataclasses import dataclass

from webapp.monitors.models import SYSTEM_KINDS, Monitor, Source
from webapp.core import query as query_language
from webapp.core.sql import delete_cascading
from webapp.scoring import scorers
from webapp.monitors.sources import SourceSettingsError, UnknownSourceKind, get_adapter

MAX_SOURCES = 50
MAX_EVERY = 7 * 24 * 3600


class MonitorInvalid(ValueError):
    """Validation errors keyed by field (`name`, `query`, `sources`, `sources[0].url`, ...)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class CleanSource:
    kind: str
    every: int
    settings: dict


def check_sources(sources: list[dict], policy=None) -> tuple[list[CleanSource], dict[str, str]]:
    """Validate source specs `{"kind", "every"?, ...settings}`; returns (clean, errors)."""
    clean, errors = [], {}
    if not isinstance(sources, list):
        return [], {"sources": "sources must be a list"}
    if len(sources) > MAX_SOURCES:
        return [], {"sources": f"at most {MAX_SOURCES} sources per monitor"}
    for i, spec in enumerate(sources):
        where = f"sources[{i}]"
        if not isinstance(spec, dict):
            errors[where] = "each source must be an object with a kind"
            continue
        settings = {k: v for k, v in spec.items() if k not in ("kind", "every")}
        kind = spec.get("kind")
        if kind in SYSTEM_KINDS:
            errors[f"{where}.kind"] = f"{kind!r} is implicit: every monitor accepts pushed and imported mentions"
            continue
        try:
            adapter = get_adapter(kind)
        except (UnknownSourceKind, TypeError):
            errors[f"{where}.kind"] = f"unknown source kind {kind!r}"
            continue
        every = spec.get("every", adapter.default_every)
        if isinstance(every, bool) or not isinstance(every, int) or not adapter.min_every <= every <= MAX_EVERY:
            errors[f"{where}.every"] = (
                f"every must be a whole number of seconds from {adapter.min_every} to {MAX_EVERY}"
            )
            continue
        try:
            settings = adapter.clean_settings(settings, policy)
        except SourceSettingsError as exc:
            errors[f"{where}.{exc.field}" if exc.field else where] = exc.message
            continue
        clean.append(CleanSource(kind, every, settings))
    return clean, errors


def check_monitor(name, query, sources, policy=None, scorer=None,
                  known_scorers=None) -> tuple[str, str, list[CleanSource]]:
    """Validate a whole monitor; raises MonitorInvalid with every problem found."""
    errors: dict[str, str] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = "a name is required"
    elif len(name) > 120:
        errors["name"] = "the name is longer than 120 characters"
    if query is None:
        query = ""
    if not isinstance(query, str):
        errors["query"] = "the query must be a string"
        query = ""
    query = query.strip()
    try:
        query_language.validate(query)
    except query_language.QueryError as exc:
        errors["query"] = str(exc)
    clean, source_errors = check_sources(sources if sources is not None else [], policy)
    errors.update(source_errors)
    if scorer is not None and known_scorers is not None and scorer not in known_scorers:
        errors["scorer"] = f"unknown scorer {scorer!r}; choose one of {', '.join(known_scorers)}"
    if errors:
        raise MonitorInvalid(errors)
    return name, query, clean


def create_monitor(session, name, query, sources, policy=None, user=None, scorer=None,
                   team_id: int | None = None) -> Monitor:
    """Validate and create a monitor with its sources (plus the implicit push/import ones) in
    team `team_id` (None: the Default team, models.default_team_id); commits."""
    scorer = scorer.strip() if isinstance(scorer, str) and scorer.strip() else None
    known = scorers.names(session) if scorer is not None else None
    name, query, clean = check_monitor(name, query, sources, policy, scorer, known)
    monitor = Monitor(name=name, query=query, created_by_id=getattr(user, "id", None),
                      scorer=scorer or scorers.DEFAULT, team_id=team_id)
    for spec in clean:
        monitor.sources.append(Source(kind=spec.kind, every=spec.every, settings=spec.settings))
    for kind in SYSTEM_KINDS:
        monitor.sources.append(Source(kind=kind, every=0, settings={}, enabled=False))
    session.add(monitor)
    session.commit()
    return monitor


def system_source(monitor: Monitor, kind: str) -> Source:
    """The implicit source that pushed (`push`) or imported (`import`) mentions belong to."""
    for source in monitor.sources:
        if source.kind == kind:
            return source
    raise LookupError(f"monitor {monitor.id} has no {kind} source")


def shown_settings(source: Source) -> dict:
    """A source's settings without its credentials, which are write-only and never shown."""
    try:
        secret = {f.name for f in get_adapter(source.kind).fields if f.secret}
    except UnknownSourceKind:
        secret = set()
    return {k: v for k, v in (source.settings or {}).items() if k not in secret}


def source_summary(source: Source) -> str:
    """One line naming what a source reads, for pages (`url: ... · tag: ...`; never a credential)."""
    parts = []
    for key, value in shown_settings(source).items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{key}: {value}")
    return " · ".join(parts)


def source_dict(source: Source) -> dict:
    """A source as the API shows it: credentials are write-only and never returned."""
    shown = shown_settings(source)
    return {
        "id": source.id, "kind": source.kind, "every": source.every, "enabled": source.enabled,
        **shown,
        "last_fetch_at": source.last_fetch_at.isoformat() if source.last_fetch_at else None,
        "last_status": source.last_status, "last_error": source.last_error,
    }


def monitor_dict(monitor: Monitor) -> dict:
    return {
        "id": monitor.id,
        "name": monitor.name,
        "query": monitor.query,
        "sources": [source_dict(s) for s in monitor.fetched_sources],
        "created_at": monitor.created_at.isoformat() if monitor.created_at else None,
        "scorer": monitor.scorer or "vader",
        "language_scorers": monitor.language_scorers or {},
        "team_id": monitor.team_id,
        "retention_days": monitor.retention_days,
        "pruned_before": monitor.pruned_before.isoformat() if monitor.pruned_before else None,
    }


def delete_monitor(session, monitor: Monitor) -> None:
    """Delete a monitor and everything of it; commits.

    Every table that holds a monitor's rows (sources, mentions, rollups, rules, alert events and
    deliveries, silences, backfills, lexicon, inbox and noise rows) references it, directly or
    through one of those, with ON DELETE CASCADE (tests/monitors/test_delete.py checks every
    table). Records of the monitor still on the bus are dropped as orphans when consumed.
    """
    delete_cascading(session, monitor)
