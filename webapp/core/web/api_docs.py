"""`/api/docs`: the interactive API reference (Swagger UI over `/api/v1/openapi.json`), with its
assets served from the installed flask-swagger-ui package (core/vendor.py), never a CDN."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
def page():
    return render_template("api_docs.html")
