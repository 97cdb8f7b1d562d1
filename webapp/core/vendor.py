"""Third-party browser assets served from installed packages: plotly.js (plotly) and Swagger UI
(the dist folder of the flask-swagger-ui package). No CDN, works offline.

Both are large (plotly.min.js 4.8 MB), so they are sent gzip-compressed to browsers that accept it
(compressed once per process, on first request) and, under their versioned URL
(`?v=<package version>`, which url_for adds), cached for a year as immutable: a first visit
downloads about 1.4 MB instead of 4.8, later visits nothing.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache

from flask import Blueprint, Response, abort, request, send_from_directory

bp = Blueprint("vendor", __name__)
YEAR = 365 * 24 * 3600
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


@lru_cache(maxsize=1)
def plotly_dir() -> tuple[str, str]:
    import plotly

    return os.path.join(os.path.dirname(plotly.__file__), "package_data"), plotly.__version__


@lru_cache(maxsize=1)
def swagger_dir() -> tuple[str, str]:
    """Swagger UI 5 (OpenAPI 3.1) as the flask-swagger-ui package ships it; only its files are used."""
    import flask_swagger_ui

    folder = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")
    try:
        with open(os.path.join(folder, "VERSION"), encoding="utf-8") as fh:
            version = fh.read().strip() or "0"
    except OSError:
        version = "0"
    return folder, version


@lru_cache(maxsize=8)
def _compressed(path: str, mtime: float) -> tuple[bytes, str]:
    """(gzip bytes, ETag) of a file, made once per process and file version."""
    with open(path, "rb") as fh:
        body = gzip.compress(fh.read(), compresslevel=6, mtime=0)
    return body, hashlib.sha256(body).hexdigest()[:32]


def send_asset(folder: str, name: str, mimetype: str, version: str):
    """`folder/name`, gzip-compressed when the browser accepts it; immutable for a year when asked
    for under its version (`?v=`), else revalidated hourly."""
    cache = (f"public, max-age={YEAR}, immutable" if request.args.get("v") == version
             else "public, max-age=3600")
    if "gzip" not in request.headers.get("Accept-Encoding", ""):
        response = send_from_directory(folder, name, mimetype=mimetype)
    else:
        path = os.path.join(folder, name)
        body, etag = _compressed(path, os.path.getmtime(path))
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(etag)
        response.make_conditional(request)
    response.headers["Cache-Control"] = cache
    response.vary.add("Accept-Encoding")
    return response


@bp.url_defaults
def _versioned(endpoint: str, values: dict) -> None:
    """url_for adds the package version, so a new version is a new URL (safe to cache forever)."""
    if endpoint == "vendor.plotly_js":
        values.setdefault("v", plotly_dir()[1])
    elif endpoint == "vendor.swagger_asset":
        values.setdefault("v", swagger_dir()[1])


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    folder, version = plotly_dir()
    return send_asset(folder, "plotly.min.js", "text/javascript", version)


@bp.get("/vendor/swagger-ui/<filename>")
def swagger_asset(filename: str):
    if filename not in SWAGGER_FILES:
        abort(404)
    folder, version = swagger_dir()
    return send_asset(folder, filename, SWAGGER_FILES[filename], version)
