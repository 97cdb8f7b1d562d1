"""Compare page: several monitors on one chart (share of voice, sentiment side by side), with the
range and bucket pickers of the dashboard, all kept in the URL (a GET form)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, flash, render_template, request
from sqlalchemy import select

from webapp.people import access
from webapp.people.auth import page_role
from webapp.core import times
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.insights import dashboard
from webapp.ingest import rollups

bp = Blueprint("compare", __name__)
bp.add_app_template_filter(times.time_html, "time_html")   # templates/_time.html `when`, and pages that show many
MAX_MONITORS = 8


@bp.get("/compare")
@page_role("viewer")
def index():
    """`/compare?monitor=1&monitor=2&range=7d&bucket=1h` (or `range=custom&start=...&end=...`)."""
    monitors = db.session.execute(access.visible_monitors(
        select(Monitor).order_by(Monitor.name, Monitor.id))).scalars().all()
    known = {m.id: m for m in monitors}
    wanted = list(dict.fromkeys(request.args.getlist("monitor", type=int)))
    missing = [str(i) for i in wanted if i not in known]
    if missing:
        flash(f"No monitor with id {', '.join(missing)}; left out.")
    chosen = [known[i] for i in wanted if i in known]
    if len(chosen) > MAX_MONITORS:
        flash(f"At most {MAX_MONITORS} monitors can be compared at once; showing the first {MAX_MONITORS}.")
        chosen = chosen[:MAX_MONITORS]
    choice = dashboard.choose_range(request.args, datetime.now(timezone.utc))
    if choice.error:
        flash(choice.error)
    page = dashboard.compare_page(db.session, chosen, choice)
    return render_template(
        "monitors/compare.html", monitors=monitors, chosen=chosen, chosen_ids={m.id for m in chosen},
        choice=choice, span=choice.span, bucket=choice.bucket, ranges=list(dashboard.RANGES),
        buckets_options=list(rollups.BUCKETS), **page,
    )
