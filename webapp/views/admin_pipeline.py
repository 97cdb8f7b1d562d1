"""Admin pages for the pipeline: queue depths, consumer lag, dead letters (replay), all alert deliveries."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import runtime
from ..auth import page_role
from ..extensions import db
from ..forms_admin import ReplayForm
from ..models import DeadLetter, Delivery
from ..services import dead_letters, pipeline_health
from .admin import bp

PAGE = 50
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "permanent_failure")


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


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
