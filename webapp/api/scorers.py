"""`GET /api/v1/scorers`: the scorers a monitor can choose, with trained models' versions and metrics."""
from __future__ import annotations

from flask import jsonify

from ..auth import api_user
from ..extensions import db
from ..services import scorers
from . import bp


@bp.get("/scorers")
@api_user("viewer")
def list_scorers():
    return jsonify({"items": scorers.available(db.session), "default": scorers.DEFAULT})
