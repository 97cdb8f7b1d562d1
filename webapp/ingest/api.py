"""`POST /api/v1/monitors/<id>/mentions`: push mentions through the same bus and scoring as fetched ones."""
from __future__ import annotations

from flask import Blueprint, jsonify

from webapp.core import runtime
from webapp.core.api_errors import get_or_404, json_body
from webapp.ingest.schemas import MentionBatch
from webapp.ingest.publish import publish_mentions
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import system_source
from webapp.people.auth import api_user

bp = Blueprint("ingest", __name__)


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
