"""Monitor pages: list, create, dashboard with charts, mentions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from webapp.core import runtime, sql
from webapp.people import access
from webapp.people.auth import page_role
from webapp.core.extensions import db
from webapp.monitors.forms import MonitorForm
from webapp.ingest.models import ALL_SOURCES, Rollup
from webapp.monitors.models import Monitor
from webapp.insights import dashboard, dashboard_data, overview
from webapp.ingest import rollups
from webapp.monitors.services.manage import create_monitor
from webapp.monitors.source_forms import SourceInputs, page_status, prober, saved_message, submit
from webapp.insights.page_cache import PageCache

bp = Blueprint("monitors", __name__)
RANGE_NAMES, BUCKET_NAMES = list(dashboard.RANGES), list(rollups.BUCKETS)


@bp.get("/")
@page_role("viewer")
def index():
    """The monitors of the current team (chosen on /teams), or of all the user's teams with ?team=all."""
    everything = request.args.get("team") == "all"
    team_id = None if everything else access.current_team_id()
    query = access.visible_monitors(select(Monitor).order_by(Monitor.name))
    if team_id is not None:
        query = query.where(Monitor.team_id == team_id)
    monitors = db.session.execute(query).scalars().all()
    since = rollups.bucket_start(datetime.now(timezone.utc) - timedelta(hours=24), "15m")
    counts = dict(db.session.execute(
        select(Rollup.monitor_id, func.sum(Rollup.count)).where(
            Rollup.source_id == ALL_SOURCES, Rollup.bucket == "15m", Rollup.start >= since
        ).group_by(Rollup.monitor_id)
    ).all())
    return render_template("monitors/list.html", monitors=monitors, counts=counts,
                           team=access.current_team(team_id), everything=everything,
                           overview=overview.overview(db.session, monitors, datetime.now(timezone.utc)),
                           spark_size=overview.SPARK_SIZE)


@bp.route("/monitors/new", methods=["GET", "POST"])
@page_role("editor")
def new():
    """The new-monitor form: name, query, and a section per source kind (source_forms.py)."""
    form = MonitorForm()
    sources = SourceInputs(request.form if request.method == "POST" else None, creating=True)
    chooser = access.TeamChooser(request.form.get("team_id") if request.method == "POST" else None)
    monitor = None if chooser.error else submit(form, sources, lambda specs: create_monitor(
        db.session, form.name.data, form.query.data or "", specs, runtime.egress_policy(), current_user,
        team_id=chooser.team_id), prober(form))
    if monitor is not None:
        flash(saved_message(monitor, sources, "created"))
        return redirect(url_for("monitors.detail", monitor_id=monitor.id))
    return render_template("monitors/new.html", form=form, sources=sources, chooser=chooser), \
        (400 if chooser.error else page_status(form, sources))


@bp.get("/monitors/<int:monitor_id>")
@page_role("viewer")
def detail(monitor_id: int):
    """The dashboard: headline figures against the previous period and the charts, for the range
    and bucket in the URL (`range`, `bucket`, `start`/`end` dates with `range=custom`)."""
    monitor = access.monitor_facts_or_404(monitor_id)   # a plain row: the page only shows it
    choice = dashboard.choose_range(request.args, datetime.now(timezone.utc))
    if choice.error:
        flash(choice.error)
    cache = current_app.extensions.get("sentimon.dashboard_cache") or current_app.extensions.setdefault(
        "sentimon.dashboard_cache", PageCache(current_app.config.get("DASHBOARD_CACHE_SECONDS", 0)))
    reads = cache.get_or_build((monitor.id, choice.bucket, choice.start, choice.end),
                               lambda: dashboard_data.read(db.session, monitor.id, choice))
    bodies = current_app.extensions.get("sentimon.dashboard_bodies") or current_app.extensions.setdefault(
        "sentimon.dashboard_bodies", dashboard_data.Bodies())
    # everything the body shows besides the rows: it is keyed by these too
    facts = (monitor, access.can_change(monitor), request.script_root)
    body = bodies.body(reads, facts, choice, datetime.now(timezone.utc), lambda page: render_template(
        "monitors/_dashboard.html", monitor=facts[0], may_edit=facts[1], choice=choice, span=choice.span,
        bucket=choice.bucket, ranges=RANGE_NAMES, buckets_options=BUCKET_NAMES, **page))
    page = render_template("monitors/detail.html", monitor=monitor, body=body)
    sql.end_read(db.session)   # only read: the server keeps its prepared statements
    return page


@bp.get("/monitors/<int:monitor_id>/mentions")
@page_role("viewer")
def mentions(monitor_id: int):
    """Search, filters, sort and pages (services/mention_search.py), highlights and overrides."""
    from webapp.mentions.views import mentions_page

    return mentions_page(access.monitor_or_404(monitor_id))
