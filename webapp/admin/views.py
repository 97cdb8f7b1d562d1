"""Admin pages: the index, source health (every source, its breaker state and recent fetches),
the pipeline (queue depths, consumer lag), dead letters (replay), all alert deliveries.
Users and tokens are people's pages (webapp/people/views.py, also under /admin).

GET /metrics: Prometheus text exposition of every web and worker process of the installation.

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>`; without it, only
requests made on this machine (loopback) that did not pass through a proxy (no Forwarded /
X-Forwarded-For header), so a reverse proxy on the same host does not open it to the world.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from webapp.admin import dead_letters, pipeline_health
from webapp.admin.forms import ReplayForm
from webapp.alerting.models import Delivery
from webapp.core import runtime
from webapp.core import metrics
from webapp.core.extensions import db
from webapp.core.metrics import allowed
from webapp.core.pagination import page_number
from webapp.ingest.bus.models import DeadLetter
from webapp.monitors.models import SYSTEM_KINDS, Monitor, Source, SourceFetch
from webapp.monitors.services.manage import source_summary
from webapp.monitors.services.probe import short_error
from webapp.monitors.sources import UnknownSourceKind, get_adapter
from webapp.people.auth import page_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
metrics_bp = Blueprint("metrics", __name__)


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
    kinds = {s.id: s.kind for s, _ in rows}
    names = {s.id: _source_name(s) for s, _ in rows}
    errors = {s.id: short_error(None, s.last_error, s.kind) for s, _ in rows}
    fetch_errors = {f.id: short_error(f.error_code, f.error, kinds.get(f.source_id, "")) for f in recent}
    return render_template("admin/sources.html", rows=rows, stats=stats, recent=recent, names=names,
                           errors=errors, fetch_errors=fetch_errors, now=datetime.now(timezone.utc))


def _source_name(source) -> str:
    """A source as people know it: its kind's label and what it reads (never a credential)."""
    try:
        label = get_adapter(source.kind).label
    except UnknownSourceKind:
        label = source.kind
    summary = source_summary(source)
    return f"{label} · {summary}" if summary else label


PAGE = 50
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "permanent_failure")


def _page() -> int:
    return page_number(request.args)


@bp.get("/pipeline")
@page_role("admin")
def pipeline():
    health = pipeline_health.snapshot(runtime.bus(), db.engine, current_app.extensions.get("celery"))
    replayed = request.args.get("show") == "replayed"
    page = _page()
    letters, total = dead_letters.list_letters(db.session, replayed=replayed, limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("admin/pipeline.html", health=health, letters=letters, total=total,
                           replayed=replayed, page=page, pages=max((total + PAGE - 1) // PAGE, 1))


def _letter_page(letter: DeadLetter, form: ReplayForm | None = None, status: int = 200):
    if form is None:
        form = ReplayForm(formdata=None, payload=dead_letters.pretty_payload(letter))
    return render_template("admin/dead_letter.html", letter=letter, form=form), status


@bp.get("/dead-letters/<int:letter_id>")
@page_role("admin")
def dead_letter(letter_id: int):
    return _letter_page(db.get_or_404(DeadLetter, letter_id))


@bp.post("/dead-letters/<int:letter_id>/replay")
@page_role("admin")
def replay(letter_id: int):
    letter = db.get_or_404(DeadLetter, letter_id)
    form = ReplayForm()
    payload = None
    if "payload" in request.form:  # the letter's page sends a (possibly corrected) payload
        if not form.validate_on_submit():
            return _letter_page(letter, form, 400)
        try:
            payload = dead_letters.parse_payload(form.payload.data)
        except dead_letters.ReplayError as exc:
            form.payload.errors.append(str(exc))
            return _letter_page(letter, form, 400)
    try:
        dead_letters.replay(db.session, runtime.bus(), letter_id, payload)
    except dead_letters.ReplayError as exc:
        flash(str(exc))
        return redirect(url_for("admin.dead_letter", letter_id=letter_id))
    flash(f"Dead letter #{letter_id} published again to “{letter.topic}”.")
    return redirect(url_for("admin.pipeline"))


@bp.post("/dead-letters/replay-all")
@page_role("admin")
def replay_all():
    done = dead_letters.replay_all(db.session, runtime.bus())
    flash(f"Published {done} dead letter{'s' if done != 1 else ''} again.")
    return redirect(url_for("admin.pipeline"))


@bp.get("/dead-letters")
@page_role("admin")
def dead_letters_page():
    """Waiting dead letters that match a filter (error text, topic, age), with bulk actions."""
    letters, errors = dead_letters.read_filter(request.args)
    return _bulk_page(letters, errors, 400 if errors else 200)


def _bulk_page(letters, errors: dict, status: int = 200):
    now = datetime.now(timezone.utc)
    page = _page()
    where = letters.conditions(now)
    rows = db.session.execute(select(DeadLetter).where(*where).order_by(DeadLetter.id.desc())
                              .limit(PAGE).offset((page - 1) * PAGE)).scalars().all()
    total = dead_letters.count_matching(db.session, letters, now)
    return render_template("admin/dead_letters.html", letters=rows, total=total, filter=letters, errors=errors,
                           topics=dead_letters.topics(db.session), ages=dead_letters.AGES, page=page,
                           pages=max((total + PAGE - 1) // PAGE, 1), limit=dead_letters.BULK_LIMIT), status


@bp.post("/dead-letters/bulk")
@page_role("admin")
def bulk_dead_letters():
    """Replay or discard every waiting dead letter matching the form's filter. A refused filter
    field acts on nothing (the page shows why) rather than on a wider set than was asked."""
    letters, errors = dead_letters.read_filter(request.form)
    action = request.form.get("action", "")
    if action not in ("replay", "discard"):
        errors["action"] = "choose replay or discard"
    if errors:
        return _bulk_page(letters, errors, 400)
    if action == "replay":
        done = dead_letters.replay_all(db.session, runtime.bus(), letters=letters)
        flash(f"Published {done} dead letter{'s' if done != 1 else ''} again.")
    else:
        done = dead_letters.discard_matching(db.session, letters)
        flash(f"Deleted {done} dead letter{'s' if done != 1 else ''}.")
    return redirect(url_for("admin.dead_letters_page", **letters.args()))


@bp.post("/dead-letters/<int:letter_id>/discard")
@page_role("admin")
def discard(letter_id: int):
    if not dead_letters.discard(db.session, letter_id):
        abort(404)
    flash(f"Dead letter #{letter_id} deleted.")
    return redirect(url_for("admin.pipeline"))


@bp.get("/deliveries")
@page_role("admin")
def deliveries():
    status = request.args.get("status", "")
    query = select(Delivery)
    if status in DELIVERY_STATUSES:
        query = query.where(Delivery.status == status)
    else:
        status = ""
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    page = _page()
    rows = db.session.execute(query.order_by(Delivery.id.desc()).limit(PAGE).offset((page - 1) * PAGE)).scalars().all()
    return render_template("admin/deliveries.html", deliveries=rows, status=status, statuses=DELIVERY_STATUSES,
                           total=total, page=page, pages=max((total + PAGE - 1) // PAGE, 1))


@metrics_bp.get("/metrics")
def metrics_page():
    app = current_app
    if not allowed(request.remote_addr, request.headers, app.config.get("METRICS_TOKEN", "")):
        return Response("metrics are open on loopback, or with the METRICS_TOKEN bearer token\n",
                        status=403, mimetype="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST

    health = pipeline_health.snapshot(runtime.bus(), db.engine, app.extensions.get("celery"))
    body = metrics.render(app.config["PROMETHEUS_MULTIPROC_DIR"], metrics.pipeline_families(health))
    return Response(body, status=200, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                               "Cache-Control": "no-store"})
