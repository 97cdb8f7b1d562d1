"""Noise control through the API: mute lists, relevance marks and model, lexicon suggestions.

GET/PUT  /monitors/<id>/mutes                          {"authors": [], "domains": [], "query": ""}
PUT      /monitors/<id>/mentions/<mention_id>/relevance {"irrelevant": true|false|null}
GET/PUT  /monitors/<id>/relevance                      {"enabled": bool}
POST     /monitors/<id>/relevance/train
GET      /monitors/<id>/lexicon/suggestions
POST     /monitors/<id>/lexicon/suggestions/<word>     applies the suggestion (a lexicon adjustment)
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from webapp.core.api_errors import ApiError, json_body
from webapp.core.extensions import db
from webapp.mentions.noise import service as noise
from webapp.monitors.models import Monitor
from webapp.people import access
from webapp.people.auth import api_user
from webapp.scoring import lexicon, relevance, suggestions

bp = Blueprint("noise", __name__)


class MutesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authors: list[str] = Field(default_factory=list, max_length=noise.MAX_ENTRIES,
                               description="authors whose mentions are muted (case-insensitive)")
    domains: list[str] = Field(default_factory=list, max_length=noise.MAX_ENTRIES,
                               description="URL domains (and their subdomains) whose mentions are muted")
    query: str = Field(default="", max_length=noise.MAX_MUTE_QUERY,
                       description="mentions matching this query (the monitor query language) are muted")


class RelevanceMark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    irrelevant: Optional[StrictBool] = Field(description="true irrelevant, false relevant, null unmarked")


class RelevanceSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool = Field(description="mute, at ingest, the mentions the model predicts irrelevant")


def _monitor(monitor_id: int, role: str = "viewer") -> Monitor:
    """The monitor if the caller's team role on it is at least `role` (404 outside their teams)."""
    return access.monitor_or_404(monitor_id, role)


@bp.get("/monitors/<int:monitor_id>/mutes")
@api_user("viewer")
def get_mutes(monitor_id: int):
    monitor = _monitor(monitor_id)
    return jsonify({**noise.get_rules(db.session, monitor.id).as_dict(), **noise.counts(db.session, monitor.id)})


@bp.put("/monitors/<int:monitor_id>/mutes")
@api_user("editor")
def put_mutes(monitor_id: int):
    """Replace the mute list; stored mentions are muted or unmuted at once, rollups follow."""
    monitor = _monitor(monitor_id, "editor")
    body = MutesIn.model_validate(json_body())
    try:
        rules = noise.check_mutes(body.authors, body.domains, body.query)
    except noise.MutesInvalid as exc:
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(noise.set_mutes(db.session, monitor.id, rules))


@bp.put("/monitors/<int:monitor_id>/mentions/<int:mention_id>/relevance")
@api_user("editor")
def put_relevance_mark(monitor_id: int, mention_id: int):
    monitor = _monitor(monitor_id, "editor")
    body = RelevanceMark.model_validate(json_body())
    if not 0 < mention_id < 2**63:
        raise ApiError(404, "not_found", f"no mention {mention_id} in monitor {monitor.id}")
    try:
        return jsonify(relevance.mark(db.session, monitor.id, mention_id, body.irrelevant))
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc


@bp.get("/monitors/<int:monitor_id>/relevance")
@api_user("viewer")
def get_relevance(monitor_id: int):
    monitor = _monitor(monitor_id)
    return jsonify(relevance.status(db.session, monitor.id))


@bp.post("/monitors/<int:monitor_id>/relevance/train")
@api_user("editor")
def train_relevance(monitor_id: int):
    """Train the relevance model on the marks; it hides nothing until enabled."""
    monitor = _monitor(monitor_id, "editor")
    try:
        relevance.train_for_monitor(db.session, monitor.id)
    except relevance.RelevanceError as exc:
        db.session.rollback()
        raise ApiError(409, "not_enough_marks", str(exc)) from exc
    return jsonify(relevance.status(db.session, monitor.id)), 201


@bp.put("/monitors/<int:monitor_id>/relevance")
@api_user("editor")
def put_relevance(monitor_id: int):
    monitor = _monitor(monitor_id, "editor")
    body = RelevanceSwitch.model_validate(json_body())
    try:
        moved = relevance.set_enabled(db.session, monitor.id, body.enabled)
    except relevance.RelevanceError as exc:
        raise ApiError(409, "no_model", str(exc)) from exc
    return jsonify({**relevance.status(db.session, monitor.id), **moved})


@bp.get("/monitors/<int:monitor_id>/lexicon/suggestions")
@api_user("viewer")
def get_suggestions(monitor_id: int):
    monitor = _monitor(monitor_id)
    return jsonify({"items": [s.as_dict() for s in suggestions.suggest(db.session, monitor.id)]})


@bp.post("/monitors/<int:monitor_id>/lexicon/suggestions/<path:word>")
@api_user("editor")
def apply_suggestion(monitor_id: int, word: str):
    """Apply the current suggestion for `word`: 201 with the adjustment and the backtest it had."""
    monitor = _monitor(monitor_id, "editor")
    try:
        found, adjustment = suggestions.apply(db.session, monitor.id, word[:lexicon.MAX_WORD + 1], g.api_user)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return jsonify({"suggestion": found.as_dict(), "adjustment": lexicon.adjustment_dict(adjustment)}), 201
