"""`GET /api/v1/monitors/<id>/attribution?bucket=15m|1h|1d&start=<ISO 8601>`: what the bucket
holding `start` is made of, against the volume_spike baseline (attribution/service.py)."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, jsonify
from pydantic import BaseModel, ConfigDict

from webapp.core import sql
from webapp.core.api_errors import query_params
from webapp.core.extensions import db
from webapp.core.times import UtcTime
from webapp.ingest.rollups import BUCKETS, bucket_start
from webapp.insights.attribution import service
from webapp.people import access
from webapp.people.auth import api_user

bp = Blueprint("attribution", __name__)


class AttributionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: Literal["15m", "1h", "1d"] = "1h"
    start: UtcTime


@bp.get("/monitors/<int:monitor_id>/attribution")
@api_user("viewer")
def attribution(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    q = query_params(AttributionQuery)
    start = bucket_start(q.start, q.bucket)
    result = service.explain(db.session, monitor.id, start, start + BUCKETS[q.bucket])
    sql.end_read(db.session)   # keeps the fold of pending term deltas the read did (window_totals)
    return jsonify({"monitor_id": monitor.id, "bucket": q.bucket, **result})
