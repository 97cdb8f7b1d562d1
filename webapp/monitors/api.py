"""Monitors over the API: list, read, create, rename or re-query (`PATCH`), delete, and the query preview."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from webapp.core import runtime
from webapp.core.api_errors import ApiError, json_body
from webapp.core.extensions import db
from webapp.core.query import MAX_QUERY_LENGTH, QueryError
from webapp.mentions import retention
from webapp.monitors.schemas import MonitorIn
from webapp.monitors.models import Monitor
from webapp.monitors.services import preview as previews
from webapp.monitors.services.probe import probe
from webapp.monitors.services.edit import update_monitor
from webapp.monitors.services.manage import MonitorInvalid, create_monitor, delete_monitor, monitor_dict
from webapp.people import access
from webapp.people.auth import api_user
from webapp.people.services.teams import TeamError
from sqlalchemy import select

bp = Blueprint("monitors", __name__)

Query = Annotated[str, StringConstraints(max_length=MAX_QUERY_LENGTH)]


class MonitorPatch(BaseModel):
    """The fields to change; the others stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    query: Query | None = Field(default=None, description="applies to what is fetched from now on")
    # Checked (400 when bad) and taken out of the body by the view, before this model; declared
    # here for the OpenAPI description.
    retention_days: int | None = Field(default=None, ge=7, description=(
        "raw mentions older than this many days are pruned daily, rollups kept; null keeps them forever"))


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Query = Field(description="the query to test; an empty query matches everything")


@bp.get("/monitors")
@api_user("viewer")
def list_monitors():
    monitors = db.session.execute(access.visible_monitors(select(Monitor).order_by(Monitor.id))).scalars()
    return jsonify([monitor_dict(m) for m in monitors])


@bp.get("/monitors/<int:monitor_id>")
@api_user("viewer")
def get_monitor(monitor_id: int):
    return jsonify(monitor_dict(access.monitor_or_404(monitor_id)))


@bp.post("/monitors")
@api_user("editor")
def new_monitor():
    body = MonitorIn.model_validate(json_body())
    sources = [s.model_dump(exclude_none=True) for s in body.sources]
    try:
        team_id = access.team_for_new(body.team_id)
    except TeamError as exc:
        raise ApiError(422, "validation_failed", {"team_id": str(exc)}) from exc
    try:
        monitor = create_monitor(db.session, body.name, body.query, sources,
                                 runtime.egress_policy(), g.api_user, scorer=body.scorer, team_id=team_id)
    except MonitorInvalid as exc:
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(monitor_dict(monitor)), 201


@bp.patch("/monitors/<int:monitor_id>")
@api_user("editor")
def patch_monitor(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    raw = json_body()
    if isinstance(raw, dict) and "retention_days" in raw:
        raw = dict(raw)
        try:
            monitor.retention_days = retention.check_days(raw.pop("retention_days"))
        except retention.RetentionInvalid as exc:
            db.session.rollback()
            raise ApiError(400, "invalid_retention_days", {"retention_days": str(exc)}) from exc
    try:
        body = MonitorPatch.model_validate(raw)
    except ValueError:
        db.session.rollback()
        raise
    try:
        update_monitor(db.session, monitor, name=body.name, query=body.query, policy=runtime.egress_policy())
    except MonitorInvalid as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(monitor_dict(monitor))


@bp.delete("/monitors/<int:monitor_id>")
@api_user("editor")
def remove_monitor(monitor_id: int):
    """204; the monitor's mentions, rollups, rules, sources and alert history go with it."""
    delete_monitor(db.session, access.monitor_or_404(monitor_id, "editor"))
    return "", 204


@bp.post("/sources/test")
@api_user("editor")
def test_source():
    """Fetch one source spec once now (nothing is saved): the first items, or the problem."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(422, "validation_failed", {"body": "a source object with a kind"})
    result = probe(body, runtime.egress_policy())
    if result.errors:
        raise ApiError(422, "validation_failed", {k.replace("sources[0]", "source", 1): v
                                                  for k, v in result.errors.items()})
    return jsonify(result.as_dict())


@bp.post("/monitors/<int:monitor_id>/preview")
@api_user("viewer")
def preview_query(monitor_id: int):
    """Read-only (viewers may call it): which of the newest 5,000 mentions of 7 days match."""
    monitor = access.monitor_or_404(monitor_id)
    body = PreviewIn.model_validate(json_body())
    try:
        result = previews.preview(db.session, monitor.id, body.query)
    except QueryError as exc:
        raise ApiError(422, "invalid_query", {"message": exc.message, "position": exc.position}) from exc
    items = [{
        "id": m["id"], "external_id": m["external_id"], "text": m["text"], "author": m["author"],
        "url": m["url"], "source": m["source"], "published_at": m["published_at"].isoformat(),
        "label": m["label"], "compound": m["compound"], "backfilled": bool(m["backfilled"]),
        "highlights": [list(span) for span in m["spans"]],
    } for m in result.items]
    return jsonify({"query": result.query, "matches": result.matches, "scanned": result.scanned,
                    "since": result.since.isoformat(), "items": items})
