"""The mention inbox in the API: one mention with its notes, notes, bulk actions, tags, auto-tag rules.

GET  /monitors/<id>/mentions/<mention_id>          the mention, its inbox fields and notes
POST /monitors/<id>/mentions/<mention_id>/notes     {"body"} -> 201 the note
POST /monitors/<id>/mentions/bulk                   {"filter": {...}, "action", "tag"?, "assignee"?}
                                                    -> {"changed": n, "matched": n}
GET  /monitors/<id>/tags                            {"tags": [{"name", "count"}]} (?since=&until=)
GET/POST /monitors/<id>/autotag-rules, DELETE /monitors/<id>/autotag-rules/<autotag_rule_id>
POST /monitors/<id>/autotag-rules/apply             {"tagged": n}: the rules over stored mentions

The mention list (api.py) filters by tag/status/assignee/read through `inbox_filters` and shows
each mention's inbox fields through `add_inbox_fields`.
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, g, jsonify, request

from webapp.core import sql
from webapp.core.api_errors import ApiError, json_body
from webapp.core.extensions import db
from webapp.mentions.inbox import autotag, service as inbox
from webapp.mentions import search
from webapp.mentions.inbox.schemas import AutoTagRuleIn, BulkIn, NoteIn
from webapp.people import access
from webapp.people.auth import api_user

bp = Blueprint("inbox", __name__)
INBOX_PARAMS = ("tag", "status", "assignee", "read")
# Read marks are the caller's own: a viewer may set them; everything else changes shared state.
PERSONAL = ("read", "unread")


def inbox_filters(spec: search.MentionFilter, args) -> search.MentionFilter:
    """`spec` with the inbox parameters of `args` (a 400 naming a bad one)."""
    found, errors = search.parse_filters({k: args[k] for k in INBOX_PARAMS if k in args}, g.api_user.id)
    if errors:
        raise ApiError(400, "invalid_parameters", errors)
    return replace(spec, tag=found.tag, status=found.status, assignee=found.assignee, read=found.read,
                   viewer_id=g.api_user.id)


def add_inbox_fields(items: list[dict]) -> list[dict]:
    """Each mention dict (with "id") gets tags, status, assignee_id, assignee, read, notes."""
    found = inbox.rows(db.session, [i["id"] for i in items], g.api_user.id)
    for item in items:
        item.update(found[item["id"]].as_dict())
    return items


def _invalid(exc: inbox.InboxInvalid):
    db.session.rollback()
    return ApiError(422, "validation_failed", exc.errors)


@bp.get("/monitors/<int:monitor_id>/mentions/<int:mention_id>")
@api_user("viewer")
def get_mention(monitor_id: int, mention_id: int):
    monitor = access.monitor_or_404(monitor_id)
    try:
        m = inbox.get_mention(db.session, monitor.id, mention_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    item = {"id": m.id, "external_id": m.external_id, "text": m.text, "author": m.author, "url": m.url,
            "source_id": m.source_id, "published_at": m.published_at.isoformat(), "compound": m.compound,
            "label": m.label, "lang": m.lang, "scored": bool(m.scored), "mixed": bool(m.mixed),
            "reach": m.reach, "engagement": m.engagement}
    add_inbox_fields([item])
    item["notes"] = inbox.notes(db.session, m.id)
    return jsonify(item)


@bp.post("/monitors/<int:monitor_id>/mentions/<int:mention_id>/notes")
@api_user("editor")
def add_note(monitor_id: int, mention_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    body = NoteIn.model_validate(json_body())
    try:
        note = inbox.add_note(db.session, monitor.id, mention_id, body.body, g.api_user.id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except inbox.InboxInvalid as exc:
        raise _invalid(exc) from exc
    return jsonify({"id": note.id, "body": note.body, "author_id": note.author_id,
                    "created_at": note.created_at.isoformat()}), 201


@bp.post("/monitors/<int:monitor_id>/mentions/bulk")
@api_user("viewer")
def bulk(monitor_id: int):
    """An action on every mention the filter selects (not one page): how many changed."""
    access.monitor_or_404(monitor_id)
    body = BulkIn.model_validate(json_body())
    monitor = access.monitor_or_404(monitor_id, "viewer" if body.action in PERSONAL else "editor")
    if body.action not in PERSONAL and not g.api_user.can("editor"):
        raise ApiError(403, "forbidden", f"{body.action} needs the editor role")
    spec, errors = search.parse_filters(body.filter.args(), g.api_user.id)
    if errors:
        raise ApiError(400, "invalid_parameters", errors)
    if body.filter.ids is not None:
        spec = replace(spec, mention_ids=tuple(body.filter.ids) or (0,))
    seconds = current_app.config.get("SEARCH_TIMEOUT_SECONDS", 0)
    try:
        changed = inbox.bulk(db.session, monitor, spec, body.action, user_id=g.api_user.id,
                             tag=body.tag, assignee=body.assignee, seconds=seconds)
    except inbox.InboxInvalid as exc:
        raise _invalid(exc) from exc
    except inbox.BulkTooSlow as exc:
        raise ApiError(422, "too_slow", str(exc)) from None
    try:    # the change is stored: a count that runs too long is left out, not an error
        with sql.time_bound(db.session, seconds):
            matched = search.count(db.session, monitor.id, spec)
    except sql.TimedOut:
        matched = None
    return jsonify({"action": body.action, "changed": changed, "matched": matched})


@bp.get("/monitors/<int:monitor_id>/tags")
@api_user("viewer")
def list_tags(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    spec, errors = search.parse_filters({k: request.args[k] for k in ("since", "until") if k in request.args})
    if errors:
        raise ApiError(400, "invalid_parameters", errors)
    counts = inbox.tag_counts(db.session, monitor.id, spec.since, spec.until)
    return jsonify({"tags": [{"name": name, "count": n} for name, n in counts]})


@bp.get("/monitors/<int:monitor_id>/autotag-rules")
@api_user("viewer")
def list_rules(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return jsonify({"items": [autotag.rule_dict(r) for r in autotag.list_rules(db.session, monitor.id)]})


@bp.post("/monitors/<int:monitor_id>/autotag-rules")
@api_user("editor")
def new_rule(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    body = AutoTagRuleIn.model_validate(json_body())
    try:
        rule = autotag.create_rule(db.session, monitor.id, body.tag, body.query, g.api_user.id)
    except inbox.InboxInvalid as exc:
        raise _invalid(exc) from exc
    return jsonify(autotag.rule_dict(rule)), 201


@bp.delete("/monitors/<int:monitor_id>/autotag-rules/<int:autotag_rule_id>")
@api_user("editor")
def delete_rule(monitor_id: int, autotag_rule_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    if not autotag.delete_rule(db.session, monitor.id, autotag_rule_id):
        raise ApiError(404, "not_found", f"monitor {monitor.id} has no auto-tag rule {autotag_rule_id}")
    return "", 204


@bp.post("/monitors/<int:monitor_id>/autotag-rules/apply")
@api_user("editor")
def apply_rules(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    return jsonify({"tagged": autotag.apply_stored(db.session, monitor.id)})
