"""The REST API's routes (see CONTRACT.md): score, monitors, mentions push/list, series."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, jsonify, request
from sqlalchemy import func, select

from .. import runtime
from ..auth import api_user
from ..extensions import db
from ..models import ALL_SOURCES, Mention, Monitor, Source
from ..services import rollups, sentiment
from ..services.monitors import MonitorInvalid, create_monitor, monitor_dict, system_source
from ..services.publish import publish_mentions
from . import bp
from .errors import ApiError, aware, get_or_404, json_body
from .schemas import MentionBatch, MentionsQuery, MonitorIn, ScoreIn, SeriesQuery



@bp.post("/score")
@api_user("viewer")
def score():
    body = ScoreIn.model_validate(json_body())
    if body.text is not None:
        return jsonify(sentiment.score_text(body.text).as_dict())
    return jsonify({"results": [s.as_dict() for s in sentiment.score_texts(body.texts)]})


@bp.get("/monitors")
@api_user("viewer")
def list_monitors():
    monitors = db.session.execute(select(Monitor).order_by(Monitor.id)).scalars()
    return jsonify([monitor_dict(m) for m in monitors])


@bp.get("/monitors/<int:monitor_id>")
@api_user("viewer")
def get_monitor(monitor_id: int):
    return jsonify(monitor_dict(get_or_404(Monitor, monitor_id, "monitor")))


@bp.post("/monitors")
@api_user("editor")
def new_monitor():
    body = MonitorIn.model_validate(json_body())
    sources = [s.model_dump(exclude_none=True) for s in body.sources]
    try:
        monitor = create_monitor(db.session, body.name, body.query, sources,
                                 runtime.egress_policy(), g.api_user, scorer=body.scorer)
    except MonitorInvalid as exc:
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(monitor_dict(monitor)), 201


@bp.post("/monitors/<int:monitor_id>/mentions")
@api_user("editor")
def push_mentions(monitor_id: int):
    monitor = get_or_404(Monitor, monitor_id, "monitor")
    items = MentionBatch.validate_python(json_body())
    source = system_source(monitor, "push")
    accepted = publish_mentions(
        runtime.bus(), monitor.id, source.id,
        [{**item.model_dump(), "external_id": str(item.external_id)} for item in items],
    )
    return jsonify({"accepted": accepted}), 202


def _mention_dict(m: Mention, kind: str) -> dict:
    return {
        "id": m.id, "external_id": m.external_id, "text": m.text, "author": m.author,
        "url": m.url, "source": kind, "source_id": m.source_id,
        "published_at": m.published_at.isoformat(), "compound": m.compound,
        "pos": m.pos, "neu": m.neu, "neg": m.neg, "label": m.label,
        "backfilled": bool(m.backfilled),
        "scored_label": m.model_label, "overridden": m.is_overridden,  # label overrides (services/overrides.py)
    }


@bp.get("/monitors/<int:monitor_id>/mentions")
@api_user("viewer")
def list_mentions(monitor_id: int):
    monitor = get_or_404(Monitor, monitor_id, "monitor")
    q = MentionsQuery.model_validate(request.args.to_dict())
    filters = [Mention.monitor_id == monitor.id]
    if q.since:
        filters.append(Mention.published_at >= aware(q.since))
    if q.until:
        filters.append(Mention.published_at < aware(q.until))
    if q.label:
        filters.append(Mention.label == q.label)
    total = db.session.execute(select(func.count()).select_from(Mention).where(*filters)).scalar()
    rows = db.session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id).where(*filters)
        .order_by(Mention.published_at.desc(), Mention.id.desc()).limit(q.limit).offset(q.offset)
    ).all()
    return jsonify({"items": [_mention_dict(m, kind) for m, kind in rows], "total": total,
                    "limit": q.limit, "offset": q.offset})


@bp.get("/monitors/<int:monitor_id>/series")
@api_user("viewer")
def series(monitor_id: int):
    monitor = get_or_404(Monitor, monitor_id, "monitor")
    q = SeriesQuery.model_validate(request.args.to_dict())
    try:
        start, end = rollups.resolve_range(q.bucket, aware(q.start), aware(q.end),
                                           datetime.now(timezone.utc))
    except rollups.SeriesError as exc:
        raise ApiError(400, "invalid_range", str(exc)) from exc
    source_id = q.source_id if q.source_id is not None else ALL_SOURCES
    buckets = rollups.series(db.session, monitor.id, q.bucket, start, end, source_id)
    return jsonify({"monitor_id": monitor.id, "bucket": q.bucket, "start": start.isoformat(),
                    "end": end.isoformat(), "buckets": buckets})


from . import scorers as _scorer_routes  # noqa: E402,F401  (GET /api/v1/scorers)
