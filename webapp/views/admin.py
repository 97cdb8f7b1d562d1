"""Admin pages: the index, source health (every source, its breaker state and recent fetches).

Users and tokens are in admin_people.py, the pipeline and deliveries in admin_pipeline.py
(their routes are on this blueprint, imported at the bottom)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, render_template
from sqlalchemy import func, select

from ..auth import page_role
from ..extensions import db
from ..models import SYSTEM_KINDS, Monitor, Source, SourceFetch

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@page_role("admin")
def index():
    return render_template("admin/index.html")


@bp.get("/sources")
@page_role("admin")
def sources():
    since = datetime.now(timezone.utc) - timedelta(hours=24)
    rows = db.session.execute(
        select(Source, Monitor.name).join(Monitor, Monitor.id == Source.monitor_id)
        .where(Source.kind.not_in(SYSTEM_KINDS)).order_by(Monitor.name, Source.id)
    ).all()
    stats = {
        (sid, status): n for sid, status, n in db.session.execute(
            select(SourceFetch.source_id, SourceFetch.status, func.count())
            .where(SourceFetch.started_at >= since).group_by(SourceFetch.source_id, SourceFetch.status)
        ).all()
    }
    recent = db.session.execute(
        select(SourceFetch).order_by(SourceFetch.started_at.desc(), SourceFetch.id.desc()).limit(100)
    ).scalars().all()
    return render_template("admin/sources.html", rows=rows, stats=stats, recent=recent,
                           now=datetime.now(timezone.utc))


from . import admin_people, admin_pipeline  # noqa: E402,F401  (their routes are on bp)
