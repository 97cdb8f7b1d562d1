"""The REST API blueprint (`/api/v1`) and the unauthenticated health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from ..extensions import db
from . import errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)
errors.register(bp)


@health_bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report this, not raise it
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable", "detail": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})


def register_app_errors(app) -> None:
    """Routing errors (404/405) under /api/ answer JSON too; blueprint handlers never see them."""

    def routing_error(exc):
        if request.path.startswith("/api/"):
            return errors.error_response(exc.code, exc.name.lower().replace(" ", "_"), exc.description)
        return exc

    for code in (404, 405):
        app.register_error_handler(code, routing_error)


from . import openapi, routes  # noqa: E402,F401  (registers the routes on bp)
from . import alerts  # noqa: E402,F401  (alerting routes)
from . import monitor_edit  # noqa: E402,F401  (PATCH monitor, query preview)
from . import tokens  # noqa: E402,F401  (list and revoke API tokens)
from . import curation  # noqa: E402,F401  (label overrides, lexicon adjustments, exports)
