"""Inbox pages: one mention (tags, status, assignee, notes), bulk actions from the mentions page,
and the tags page (counts, auto-tag rules, "Apply to stored mentions").

Bulk forms carry the mentions page's current filter as hidden inputs, so an action reaches every
matching mention, not only the page shown; the action's own inputs are `bulk_tag` and
`bulk_assignee` (the filter has a `tag` of its own). Problems are shown next to the inputs.
"""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp.core.extensions import db
from webapp.mentions.inbox import autotag, service as inbox
from webapp.mentions import search
from webapp.mentions.views import mentions_page
from webapp.people import access
from webapp.people.auth import page_role
from webapp.core.numbers import whole_number

bp = Blueprint("inbox_pages", __name__)
PERSONAL = ("read", "unread")   # read marks are the viewer's own


def _back(monitor_id: int, back: str | None) -> str:
    """`back` if it is a page of this monitor (a local path), else its mentions page."""
    parts = urlsplit(back or "")
    if not parts.scheme and not parts.netloc and parts.path.startswith(f"/monitors/{monitor_id}/") \
            and not parts.path.startswith("//"):
        return back
    return url_for("monitors.mentions", monitor_id=monitor_id)


def _detail(monitor, mention, errors: dict | None = None, status: int = 200):
    row = inbox.rows(db.session, [mention.id], current_user.id)[mention.id]
    return render_template(
        "monitors/mention.html", monitor=monitor, m=mention, row=row, errors=errors or {},
        notes=inbox.notes(db.session, mention.id), members=inbox.team_members(db.session, monitor),
        tags=autotag.tag_names(db.session, monitor.id), can_edit=access.can_change(monitor),
        here=url_for("inbox_pages.mention", monitor_id=monitor.id, mention_id=mention.id),
    ), status


def _mention_or_404(monitor, mention_id: int):
    try:
        return inbox.get_mention(db.session, monitor.id, mention_id)
    except LookupError:
        abort(404)


@bp.get("/monitors/<int:monitor_id>/mentions/<int:mention_id>")
@page_role("viewer")
def mention(monitor_id: int, mention_id: int):
    """One mention with its inbox fields and notes; opening it marks it read for the viewer."""
    monitor = access.monitor_or_404(monitor_id)
    found = _mention_or_404(monitor, mention_id)
    inbox.mark_read(db.session, monitor.id, found.id, current_user.id)
    return _detail(monitor, found)


@bp.post("/monitors/<int:monitor_id>/mentions/<int:mention_id>/notes")
@page_role("editor")
def add_note(monitor_id: int, mention_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    found = _mention_or_404(monitor, mention_id)
    try:
        inbox.add_note(db.session, monitor.id, found.id, request.form.get("body"), current_user.id)
    except inbox.InboxInvalid as exc:
        db.session.rollback()
        return _detail(monitor, found, exc.errors, 400)
    flash("Note added.")
    return redirect(url_for("inbox_pages.mention", monitor_id=monitor.id, mention_id=found.id) + "#notes")


@bp.post("/monitors/<int:monitor_id>/mentions/bulk")
@page_role("viewer")
def bulk(monitor_id: int):
    """An action on every mention the form's filter selects (or on `mention_id` alone)."""
    monitor = access.monitor_or_404(monitor_id)
    back = _back(monitor.id, request.form.get("back"))
    action = request.form.get("action", "")
    if action not in inbox.ACTIONS:
        return mentions_page(monitor, search_args(back), {"action": f"choose one of {', '.join(inbox.ACTIONS)}"},
                             status=400)
    if action not in PERSONAL:
        access.monitor_or_404(monitor_id, "editor")
        if not current_user.can("editor"):
            abort(403)
    spec, errors = search.parse_filters(request.form, current_user.id)
    one = (request.form.get("mention_id") or "").strip()
    if one:
        mention_id = whole_number(one)
        if mention_id is None:
            abort(404)
        spec = replace(spec, mention_ids=(mention_id,))
    assignee = (request.form.get("bulk_assignee") or "").strip()
    try:
        if errors:
            raise inbox.InboxInvalid(errors)
        changed = inbox.bulk(db.session, monitor, spec, action, user_id=current_user.id,
                             tag=request.form.get("bulk_tag"),
                             assignee=whole_number(assignee),
                             seconds=current_app.config.get("SEARCH_TIMEOUT_SECONDS", 0))
    except inbox.BulkTooSlow as exc:   # back to the list (its own search has its own time), saying why
        flash(f"{action.capitalize()}: {exc}")
        return redirect(back)
    except inbox.InboxInvalid as exc:
        db.session.rollback()
        problems = {f"bulk_{k}" if k in ("tag", "assignee") else k: v for k, v in exc.errors.items()}
        if one:
            return _detail(monitor, _mention_or_404(monitor, int(one)), problems, 400)
        return mentions_page(monitor, search_args(back), problems, status=400)
    flash(f"{action.capitalize()}: {changed} mention{'' if changed == 1 else 's'} changed.")
    return redirect(back)


def search_args(back: str) -> MultiDict:
    """The query string of a mentions-page URL as a MultiDict (for showing it again)."""
    return MultiDict(parse_qsl(urlsplit(back).query))


@bp.route("/monitors/<int:monitor_id>/tags", methods=["GET", "POST"])
@page_role("viewer")
def tags_page(monitor_id: int):
    """Tag counts (all time) and auto-tag rules; editors add a rule (tag + query)."""
    monitor = access.monitor_or_404(monitor_id, "editor" if request.method == "POST" else "viewer")
    errors, status = {}, 200
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        try:
            rule = autotag.create_rule(db.session, monitor.id, request.form.get("tag"), request.form.get("query"),
                                       current_user.id)
        except inbox.InboxInvalid as exc:
            db.session.rollback()
            errors, status = exc.errors, 400
        else:
            flash(f"New mentions matching “{rule.query}” get the tag “{rule.tag.name}”.")
            return redirect(url_for("inbox_pages.tags_page", monitor_id=monitor.id))
    return render_template(
        "monitors/tags.html", monitor=monitor, counts=inbox.tag_counts(db.session, monitor.id),
        rules=autotag.list_rules(db.session, monitor.id), errors=errors, form=request.form,
        can_edit=access.can_change(monitor)), status


@bp.post("/monitors/<int:monitor_id>/tags/rules/<int:autotag_rule_id>/delete")
@page_role("editor")
def delete_rule(monitor_id: int, autotag_rule_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    if not autotag.delete_rule(db.session, monitor.id, autotag_rule_id):
        abort(404)
    flash("Rule removed; tags it gave stay.")
    return redirect(url_for("inbox_pages.tags_page", monitor_id=monitor.id))


@bp.post("/monitors/<int:monitor_id>/tags/apply")
@page_role("editor")
def apply_rules(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    tagged = autotag.apply_stored(db.session, monitor.id)
    flash(f"The rules added {tagged} tag{'' if tagged == 1 else 's'} to stored mentions.")
    return redirect(url_for("inbox_pages.tags_page", monitor_id=monitor.id))

