"""Scoring over the API: `POST /api/v1/score` (any text), `GET /api/v1/scorers` (what a monitor can
choose) and `PUT /api/v1/monitors/<id>/language-scorers` (trained scorers for other languages)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from webapp.people.auth import api_user
from webapp.core.extensions import db
from webapp.scoring import scorers
from webapp.core.api_errors import ApiError, json_body
from webapp.people import access
from webapp.scoring.schemas import ScoreIn
from webapp.scoring import sentiment

bp = Blueprint("scoring", __name__)


@bp.post("/score")
@api_user("viewer")
def score():
    body = ScoreIn.model_validate(json_body())
    if body.text is not None:
        return jsonify(sentiment.score_text(body.text).as_dict())
    return jsonify({"results": [s.as_dict() for s in sentiment.score_texts(body.texts)]})


@bp.get("/scorers")
@api_user("viewer")
def list_scorers():
    return jsonify({"items": scorers.available(db.session), "default": scorers.DEFAULT})


MAX_LANGUAGE_SCORERS = 50


def check_language_scorers(session, body) -> tuple[dict, dict]:
    """({lang: scorer name}, {lang or "body": problem}) of a language-scorers body. Keys are ISO
    639-1 codes other than en (VADER, or the monitor's own scorer, reads English and und);
    values name trained scorers (model:<name> or ensemble:<name>) that exist."""
    from webapp.insights.languages import VADER_LANGS, normalize_code

    if not isinstance(body, dict):
        return {}, {"body": 'an object such as {"fr": "model:french-reviews"}'}
    if len(body) > MAX_LANGUAGE_SCORERS:
        return {}, {"body": f"at most {MAX_LANGUAGE_SCORERS} languages"}
    found, errors = {}, {}
    for key, name in body.items():
        try:
            lang = normalize_code(key)
        except ValueError as exc:
            errors[str(key)[:20]] = str(exc)
            continue
        if lang in VADER_LANGS:
            errors[lang] = "en and und are read by the monitor's own scorer"
            continue
        try:
            if not isinstance(name, str) or scorers.parse(name)[0] == "vader":
                raise scorers.UnknownScorer("a trained scorer: model:<name> or ensemble:<name> "
                                            "(VADER reads English only)")
            found[lang] = scorers.check_name(session, name)
        except scorers.UnknownScorer as exc:
            errors[lang] = str(exc)
    return found, errors


@bp.put("/monitors/<int:monitor_id>/language-scorers")
@api_user("editor")
def set_language_scorers(monitor_id: int):
    """Replace the monitor's scorers for other languages; mentions stored from now on use them
    (re-scoring the stored ones is the scorer page's "re-score")."""
    monitor = access.monitor_or_404(monitor_id, "editor")
    found, errors = check_language_scorers(db.session, json_body())
    if errors:
        raise ApiError(422, "validation_failed", errors)
    monitor.language_scorers = found
    db.session.commit()
    return jsonify({"monitor_id": monitor.id, "language_scorers": found})
