"""Scoring over the API: `POST /api/v1/score` (any text) and `GET /api/v1/scorers` (what a monitor can choose)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from webapp.people.auth import api_user
from webapp.core.extensions import db
from webapp.scoring import scorers
from webapp.core.api_errors import json_body
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
