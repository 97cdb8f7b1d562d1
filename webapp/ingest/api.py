"""`POST /api/v1/monitors/<id>/mentions`: push mentions through the same bus and scoring as fetched ones.

All or nothing: a batch with any mention the worker would refuse is answered 422 with each
refused item's index, field and reason, and nothing of it is published; a 202 means every
mention of the batch will be stored (or was already: pushes are idempotent on external id)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from pydantic import ValidationError

from webapp.core import runtime
from webapp.core.api_errors import ApiError, get_or_404, json_body
from webapp.ingest.schemas import MentionBatch, problems
from webapp.ingest.publish import publish_mentions
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import system_source
from webapp.people import access
from webapp.people.auth import api_user

bp = Blueprint("ingest", __name__)


@bp.post("/monitors/<int:monitor_id>/mentions")
@api_user("editor")
def push_mentions(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    try:
        items = MentionBatch.validate_python(json_body())
    except ValidationError as exc:   # nothing is published: each refused item says why
        raise ApiError(422, "validation_failed", problems(exc)) from exc
    source = system_source(monitor, "push")
    accepted = publish_mentions(runtime.bus(), monitor.id, source.id, [item.record() for item in items])
    return jsonify({"accepted": accepted}), 202
