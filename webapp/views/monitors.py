"""Monitor pages: list, create, dashboard with charts, mentions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import runtime
from ..auth import page_role
from ..extensions import db
from ..forms import MonitorForm
from ..models import ALL_SOURCES, LABELS, Mention, Monitor, Rollup, Source
from ..services import charts, health, rollups
from ..services.monitors import MonitorInvalid, create_monitor

bp = Blueprint("monitors", __name__)
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}
DEFAULT_BUCKET = {"24h": "15m", "7d": "1h", "30d": "1d", "90d": "1d"}
PAGE_SIZE = 50



@bp.get("/")
@page_role("viewer")
def index():
    monitors = db.session.execute(select(Monitor).order_by(Monitor.name)).scalars().all()
    since = rollups.bucket_start(datetime.now(timezone.utc) - timedelta(hours=24), "15m")
    counts = dict(db.session.execute(
        select(Rollup.monitor_id, func.sum(Rollup.count)).where(
            Rollup.source_id == ALL_SOURCES, Rollup.bucket == "15m", Rollup.start >= since
        ).group_by(Rollup.monitor_id)
    ).all())
    return render_template("monitors/list.html", monitors=monitors, counts=counts)


@bp.route("/monitors/new", methods=["GET", "POST"])
@page_role("editor")
def new():
    form = MonitorForm()
    if form.validate_on_submit():
        specs = form.source_specs()
        try:
            monitor = create_monitor(db.session, form.name.data, form.query.data or "", specs,
                                     runtime.egress_policy(), current_user)
        except MonitorInvalid as exc:
            _attach_errors(form, exc.errors, specs)
        else:
            flash(f"Monitor “{monitor.name}” created; its first fetch runs within a minute.")
            return redirect(url_for("monitors.detail", monitor_id=monitor.id))
    return render_template("monitors/new.html", form=form), (400 if form.errors else 200)


def _attach_errors(form: MonitorForm, errors: dict[str, str], specs: list[dict]) -> None:
    """Show service-level validation errors on the form field they came from."""
    for key, message in errors.items():
        if key in ("name", "query"):
            field = getattr(form, key)
        else:  # sources[i].field: RSS lines come first, the demo source last
            index = int(key.split("[", 1)[1].split("]", 1)[0]) if "[" in key else 0
            field = form.demo if specs and specs[min(index, len(specs) - 1)]["kind"] == "demo" else form.rss_urls
            if field is form.rss_urls and index < len(specs):
                message = f"{specs[index].get('url', '')}: {message}"
        field.errors = [*field.errors, message]


def _range_args() -> tuple[str, str]:
    span = request.args.get("range", "7d")
    span = span if span in RANGES else "7d"
    bucket = request.args.get("bucket", DEFAULT_BUCKET[span])
    return span, bucket if bucket in rollups.BUCKETS else DEFAULT_BUCKET[span]


@bp.get("/monitors/<int:monitor_id>")
@page_role("viewer")
def detail(monitor_id: int):
    monitor = db.get_or_404(Monitor, monitor_id)
    span, bucket = _range_args()
    now = datetime.now(timezone.utc)
    try:
        start, end = rollups.resolve_range(bucket, now - RANGES[span], now, now)
    except rollups.SeriesError as exc:
        flash(str(exc))
        bucket = DEFAULT_BUCKET[span]
        start, end = rollups.resolve_range(bucket, now - RANGES[span], now, now)
    buckets = rollups.series(db.session, monitor.id, bucket, start, end)
    by_source = rollups.sources_breakdown(db.session, monitor.id, bucket, start, end)
    gaps = [(g.start.isoformat(), min(g.end, end).isoformat(), f"source {g.source_id} failing")
            for g in health.monitor_gaps(db.session, monitor.id, start, end)]
    sources = {s.id: s for s in monitor.sources}
    return render_template(
        "monitors/detail.html", monitor=monitor, span=span, bucket=bucket, ranges=list(RANGES),
        buckets_options=list(rollups.BUCKETS), figures=charts.dashboard(buckets, gaps), gaps=gaps,
        headline=charts.headline(buckets), by_source=by_source, sources=sources,
    )


@bp.get("/monitors/<int:monitor_id>/mentions")
@page_role("viewer")
def mentions(monitor_id: int):
    monitor = db.get_or_404(Monitor, monitor_id)
    label = request.args.get("label") or None
    label = label if label in LABELS else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    filters = [Mention.monitor_id == monitor.id] + ([Mention.label == label] if label else [])
    total = db.session.execute(select(func.count()).select_from(Mention).where(*filters)).scalar()
    rows = db.session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id).where(*filters)
        .order_by(Mention.published_at.desc(), Mention.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("monitors/mentions.html", monitor=monitor, rows=rows, label=label,
                           labels=LABELS, page=page, pages=pages, total=total)
