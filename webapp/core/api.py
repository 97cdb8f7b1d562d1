"""The REST API's frame: one `/api/v1` blueprint per app, holding every feature's API blueprint.

Each feature's `api.py` has a blueprint of its own; `create_app` nests them here, so the JSON
error answers and the CSRF exemption are set in one place (endpoints read `api.<feature>.<view>`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, current_app, jsonify

from webapp.core import api_errors as errors
from webapp.core.extensions import csrf

OPENAPI_EXTENSION = "sentimon.openapi"


def make_api_blueprint(features: Iterable[Blueprint], openapi: Iterable[Callable]) -> Blueprint:
    """A fresh `/api/v1` blueprint with `features` nested in it; `openapi` are the features'
    `extend(schemas, paths)` functions that `GET /api/v1/openapi.json` merges."""
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    errors.register(bp)
    for feature in features:
        bp.register_blueprint(feature)
        csrf.exempt(feature)  # bearer tokens only, never the session cookie: no CSRF token here
    extenders = tuple(openapi)

    @bp.record_once
    def _remember(state) -> None:
        state.app.extensions[OPENAPI_EXTENSION] = extenders

    @bp.get("/openapi.json")
    def openapi_json():
        from webapp.core.openapi import build_spec

        return jsonify(build_spec(current_app.extensions[OPENAPI_EXTENSION]))

    return bp



def register_app_errors(app) -> None:
    """Routing errors (404/405) under /api/ answer JSON too; blueprint handlers never see them.
    Elsewhere they, 403 and 500 are pages of the site (core/web/error_pages.py)."""
    from webapp.core.web import error_pages

    error_pages.register(app)
