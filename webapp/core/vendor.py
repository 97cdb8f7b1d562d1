"""plotly.js served from the installed plotly package: no CDN, works offline."""
from __future__ import annotations

import os

import plotly
from flask import Blueprint, send_from_directory

bp = Blueprint("vendor", __name__)
PLOTLY_DIR = os.path.join(os.path.dirname(plotly.__file__), "package_data")


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    return send_from_directory(PLOTLY_DIR, "plotly.min.js", mimetype="text/javascript", max_age=86400)
