"""`GET /healthz` (no sign-in): 200 once the app can reach its database, else 503."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from webapp.core.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report this, not raise it
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable", "detail": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
