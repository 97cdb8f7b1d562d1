"""`GET /api/v1/monitors/<id>/series`: mentions and sentiment per time bucket, read from rollups;
`/authors` and `/languages`: top authors and the language breakdown (insights/audience.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request

from webapp.core.api_errors import ApiError, aware, get_or_404, query_params
from webapp.core import sql
from webapp.core.extensions import db
from webapp.insights import audience, series_points
from webapp.insights.schemas import AudienceQuery, SeriesQuery
from webapp.ingest import rollups
from webapp.ingest.models import ALL_SOURCES
from webapp.monitors.models import Monitor
from webapp.people import access
from webapp.people.auth import api_user

bp = Blueprint("insights", __name__)


@bp.get("/monitors/<int:monitor_id>/series")
@api_user("viewer")
def series(monitor_id: int):
    monitor = access.monitor_facts_or_404(monitor_id)   # a plain row: only its id is needed
    q = SeriesQuery.model_validate(request.args.to_dict())
    try:
        start, end = rollups.resolve_range(q.bucket, aware(q.start), aware(q.end),
                                           datetime.now(timezone.utc))
    except rollups.SeriesError as exc:
        raise ApiError(400, "invalid_range", str(exc)) from exc
    source_id = q.source_id if q.source_id is not None else ALL_SOURCES
    buckets = series_points.points_json(db.session, monitor.id, q.bucket, start, end, source_id)
    answer = {"monitor_id": monitor.id, "bucket": q.bucket, "start": start.isoformat(), "end": end.isoformat(),
              "buckets": buckets}
    sql.end_read(db.session)   # only read: the server keeps its prepared statements
    return jsonify(answer)


def _audience_answer(monitor_id: int, key: str, read) -> dict:
    """`{"monitor_id", "range", "start", "end", key: read(session, monitor id, window, query)}`."""
    monitor = access.monitor_or_404(monitor_id)
    q = query_params(AudienceQuery)
    w = audience.window(q.range)
    return jsonify({"monitor_id": monitor.id, "range": q.range, "start": w.start.isoformat(),
                    "end": w.end.isoformat(), key: read(db.session, monitor.id, w, q)})


@bp.get("/monitors/<int:monitor_id>/authors")
@api_user("viewer")
def authors(monitor_id: int):
    return _audience_answer(monitor_id, "authors",
                            lambda session, mid, w, q: audience.top_authors(session, mid, w, q.limit))


@bp.get("/monitors/<int:monitor_id>/languages")
@api_user("viewer")
def languages(monitor_id: int):
    return _audience_answer(monitor_id, "languages",
                            lambda session, mid, w, q: audience.languages(session, mid, w))
