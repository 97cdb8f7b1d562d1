"""Editors' corrections through the API: label overrides, lexicon adjustments; and exports.

PATCH /monitors/<id>/mentions/<mention_id>      {"label": "positive"|"neutral"|"negative"|null}
GET/POST /monitors/<id>/lexicon, DELETE /monitors/<id>/lexicon/<word>
GET /monitors/<id>/mentions/export?format=csv|json|ndjson (+ the mentions page's filters)
GET /monitors/<id>/series/export?format=...&range=|start=&end=&bucket=
"""
from __future__ import annotations

from dataclasses import replace
from typing import Literal, Optional

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from webapp.people import access
from webapp.people.auth import api_user
from webapp.mentions.downloads import DownloadInvalid, export_format, mentions_download, series_download
from webapp.core import sql
from webapp.core.extensions import db
from webapp.insights.influence import influence
from webapp.monitors.models import Monitor
from webapp.scoring import lexicon, overrides
from webapp.mentions.inbox import api as inbox_api
from webapp.mentions import search as mention_search
from webapp.core.api_errors import ApiError, aware, get_or_404, json_body
from webapp.mentions.schemas import MentionsQuery
from webapp.ingest.models import Mention

bp = Blueprint("mentions", __name__)



class LabelPatch(BaseModel):
    """The mention's new label; null restores the label the scorer gave."""

    model_config = ConfigDict(extra="forbid")
    label: Optional[Literal["positive", "neutral", "negative"]] = Field(
        description="positive, neutral or negative; null restores the scored label")


class LexiconIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    word: str = Field(min_length=1, max_length=64, description="one word (stored lower-case)")
    valence: float = Field(ge=-4, le=4, description="from -4 (most negative) to 4 (most positive)")


@bp.patch("/monitors/<int:monitor_id>/mentions/<int:mention_id>")
@api_user("editor")
def patch_mention(monitor_id: int, mention_id: int):
    monitor = access.monitor_or_404(monitor_id, "editor")
    body = LabelPatch.model_validate(json_body())
    try:
        result = overrides.set_label(db.session, monitor.id, mention_id, body.label, g.api_user.id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return jsonify(result.as_dict())


@bp.get("/monitors/<int:monitor_id>/lexicon")
@api_user("viewer")
def get_lexicon(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    return jsonify({"items": [lexicon.adjustment_dict(a) for a in lexicon.list_adjustments(db.session, monitor.id)]})


@bp.post("/monitors/<int:monitor_id>/lexicon")
@api_user("editor")
def post_lexicon(monitor_id: int):
    """Add a word's valence (201) or change it (200); applies to mentions scored from now on."""
    monitor = access.monitor_or_404(monitor_id, "editor")
    body = LexiconIn.model_validate(json_body())
    existed = body.word.strip().lower() in lexicon.adjustments(db.session, monitor.id)
    try:
        found = lexicon.set_adjustment(db.session, monitor.id, body.word, body.valence, g.api_user)
    except lexicon.LexiconInvalid as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", exc.errors) from exc
    return jsonify(lexicon.adjustment_dict(found)), (200 if existed else 201)


@bp.delete("/monitors/<int:monitor_id>/lexicon/<path:word>")
@api_user("editor")
def delete_lexicon(monitor_id: int, word: str):
    monitor = access.monitor_or_404(monitor_id, "editor")
    if not lexicon.remove_adjustment(db.session, monitor.id, word):
        raise ApiError(404, "not_found", f"monitor {monitor.id} has no adjustment of {word!r}")
    return "", 204


@bp.get("/monitors/<int:monitor_id>/mentions/export")
@api_user("viewer")
def export_mentions(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    try:
        fmt = export_format(request.args, "json")
        spec, errors = mention_search.parse_filters(request.args, g.api_user.id)
        if errors:
            raise DownloadInvalid(errors)
        return mentions_download(db.session, monitor, spec, fmt)
    except DownloadInvalid as exc:
        raise ApiError(400, "invalid_parameters", exc.errors) from exc


@bp.get("/monitors/<int:monitor_id>/series/export")
@api_user("viewer")
def export_series(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    try:
        return series_download(db.session, monitor, request.args, export_format(request.args, "json"))
    except DownloadInvalid as exc:
        raise ApiError(400, "invalid_parameters", exc.errors) from exc


def _keyset(monitor_id: int, spec, before: int) -> tuple:
    """(published_at, id) of mention `before` of the monitor: the list's `before` goes on after it,
    newest first, reading only the rows it returns (an offset reads every row it skips)."""
    if spec.sort != "newest":
        raise ApiError(400, "invalid_parameters", {"before": "before pages the newest-first order only (sort=newest)"})
    at = db.session.execute(select(Mention.published_at).where(
        Mention.id == before, Mention.monitor_id == monitor_id)).scalar()
    if at is None:
        raise ApiError(400, "invalid_parameters", {"before": "before must be the id of a mention of this monitor"})
    return at, before


def _mention_dict(m: Mention, kind: str) -> dict:
    return {
        "id": m.id, "external_id": m.external_id, "text": m.text, "author": m.author,
        "url": m.url, "source": kind, "source_id": m.source_id,
        "published_at": m.published_at.isoformat(), "compound": m.compound,
        "pos": m.pos, "neu": m.neu, "neg": m.neg, "label": m.label,
        "backfilled": bool(m.backfilled),
        "scored_label": m.model_label, "overridden": m.is_overridden,  # label overrides (services/overrides.py)
        "muted": bool(m.muted), "irrelevant": m.irrelevant,  # noise control (mentions/noise.py)
        # language, sentiment coverage, audience (insights/languages.py, influence.py)
        "lang": m.lang, "scored": bool(m.scored), "mixed": bool(m.mixed), "reach": m.reach,
        "engagement": m.engagement, "influence": influence(m.reach, m.engagement),
    }


def _language_filters(spec, args: dict, mixed_label: bool):
    """`spec` with the lang and mixed parameters (a 400 naming a bad one) and label=mixed."""
    found, errors = mention_search.parse_filters({k: args[k] for k in ("lang", "mixed", "sort") if k in args})
    if errors:
        raise ApiError(400, "invalid_parameters", errors)
    return replace(spec, lang=found.lang, mixed=True if mixed_label else found.mixed, sort=found.sort)


def _muted(value: str | None) -> str:
    """The list's `muted` parameter: hide (default), only or all; anything else is a 400."""
    value = (value or "hide").strip()
    if value not in mention_search.MUTED:
        raise ApiError(400, "invalid_parameters", {"muted": f"muted must be one of {', '.join(mention_search.MUTED)}"})
    return value


@bp.get("/monitors/<int:monitor_id>/mentions")
@api_user("viewer")
def list_mentions(monitor_id: int):
    monitor = access.monitor_or_404(monitor_id)
    args = request.args.to_dict()
    mixed_label = args.get("label") == "mixed"   # label=mixed is the same filter as mixed=true
    if mixed_label:
        del args["label"]
    q = MentionsQuery.model_validate(args)
    # The mentions page's filter and order (newest first); the API pages by limit and offset.
    spec = mention_search.MentionFilter(since=aware(q.since), until=aware(q.until), label=q.label,
                                        muted=_muted(request.args.get("muted")))
    spec = _language_filters(spec, args, mixed_label)
    spec = inbox_api.inbox_filters(spec, request.args)   # tag, status, assignee, read
    if q.before is not None:
        spec = replace(spec, after=_keyset(monitor.id, spec, q.before))
    try:
        with sql.time_bound(db.session, current_app.config.get("SEARCH_TIMEOUT_SECONDS", 0)):
            total = mention_search.count(db.session, monitor.id, spec)
            rows = mention_search.window(db.session, monitor.id, spec, q.limit, q.offset)
    except sql.TimedOut as exc:   # an OFFSET reads every row it skips: deep pages of millions are slow
        raise ApiError(422, "too_slow", f"the listing took more than {exc.seconds:g} s and was stopped: page with "
                       "before (the id of the last item you have) instead of a deep offset, or narrow it with "
                       "since, until, label or tag") from None
    items = inbox_api.add_inbox_fields([_mention_dict(m, kind) for m, kind in rows])
    return jsonify({"items": items, "total": total, "limit": q.limit, "offset": q.offset})
