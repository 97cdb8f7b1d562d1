"""`PATCH /api/v1/monitors/<id>` (rename, change the query) and `POST .../preview` (test a query
against the stored mentions of the last 7 days, with the matching words' character spans)."""
from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .. import runtime
from ..auth import api_user
from ..extensions import db
from ..models import Monitor
from ..services import preview as previews
from ..services.monitor_edit import update_monitor
from ..services.monitors import MonitorInvalid, monitor_dict
from ..services.query import MAX_QUERY_LENGTH, QueryError
from . import bp
from .errors import ApiError, get_or_404, json_body

Query = Annotated[str, StringConstraints(max_length=MAX_QUERY_LENGTH)]


class MonitorPatch(BaseModel):
    """The fields to change; the others stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    query: Query | None = Field(default=None, description="applies to what is fetched from now on")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Query = Field(description="the query to test; an empty query matches everything")



@bp.patch("/monitors/<int:monitor_id>")
@api_user("editor")
def patch_monitor(monitor_id: int):
    monitor = get_or_404(Monitor, monitor_id, "monitor")
    body = MonitorPatch.model_validate(json_body())
    try:
        update_monitor(db.session, monitor, name=body.name, query=body.query, policy=runtime.egress_policy())
    except MonitorInvalid as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(monitor_dict(monitor))


@bp.post("/monitors/<int:monitor_id>/preview")
@api_user("viewer")
def preview_query(monitor_id: int):
    """Read-only (viewers may call it): which of the newest 5,000 mentions of 7 days match."""
    monitor = get_or_404(Monitor, monitor_id, "monitor")
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
