"""GET /metrics: Prometheus text exposition of every web and worker process of the installation.

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>`; without it, only
requests made on this machine (loopback) that did not pass through a proxy (no Forwarded /
X-Forwarded-For header), so a reverse proxy on the same host does not open it to the world.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.core import metrics
from webapp.admin import pipeline_health
from webapp.core.metrics import allowed

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics_page():
    app = current_app
    if not allowed(request.remote_addr, request.headers, app.config.get("METRICS_TOKEN", "")):
        return Response("metrics are open on loopback, or with the METRICS_TOKEN bearer token\n",
                        status=403, mimetype="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST

    health = pipeline_health.snapshot(runtime.bus(), db.engine, app.extensions.get("celery"))
    body = metrics.render(app.config["PROMETHEUS_MULTIPROC_DIR"], metrics.pipeline_families(health))
    return Response(body, status=200, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                               "Cache-Control": "no-store"})
