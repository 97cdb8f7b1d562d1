"""`GET /api/v1/monitors/<id>/terms?range=24h|7d|30d|90d&sort=rising|count&limit=`: the words and
short phrases of the range against the period of the same length before it (CONTRACT.md,
Insights), read from the term rollups (terms/service.py).

A web process keeps each computed term table `TERMS_CACHE_SECONDS` (5 s): the table of one
monitor and aligned period serves both sorts and every limit, so a dashboard's or a team's
requests within those seconds share one aggregation; answers are at most that many seconds
behind ingest (0 turns the cache off)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from webapp.core.api_errors import query_params
from webapp.core.extensions import db
from webapp.insights.dashboard import RANGES
from webapp.insights.page_cache import PageCache
from webapp.insights.terms import service
from webapp.people import access
from webapp.people.auth import api_user

bp = Blueprint("terms", __name__)
MAX_LIMIT = 100


class TermsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    range: Literal["24h", "7d", "30d", "90d"] = "7d"
    sort: Literal["rising", "count"] = "rising"
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


@bp.get("/monitors/<int:monitor_id>/terms")
@api_user("viewer")
def terms(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    q = query_params(TermsQuery)
    now = datetime.now(timezone.utc)
    table = cached_table(monitor.id, now - RANGES[q.range], now)
    return jsonify({"monitor_id": monitor.id, "range": q.range, "sort": q.sort, "bucket": table.bucket,
                    "start": table.start.isoformat(), "end": table.end.isoformat(),
                    "complete": table.complete, "terms": table.rows(q.sort, q.limit)})


def cached_table(monitor_id: int, start: datetime, end: datetime) -> service.TermTable:
    """The term table of [start, end), reused for `TERMS_CACHE_SECONDS` per (monitor, bucket and
    aligned period): the key is everything the table is computed from."""
    cache = current_app.extensions.setdefault(
        "sentimon.terms_cache", PageCache(current_app.config.get("TERMS_CACHE_SECONDS", 0)))
    return cache.get_or_build((monitor_id, *service.period(start, end)), lambda: _built(monitor_id, start, end))


def _built(monitor_id: int, start: datetime, end: datetime) -> service.TermTable:
    """The table, and the monitor's pending term deltas it folded first committed (a GET has
    nothing else to commit), so the next reader does not fold them again."""
    table = service.term_table(db.session, monitor_id, start, end)
    db.session.commit()
    return table
