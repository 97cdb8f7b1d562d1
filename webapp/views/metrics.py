"""GET /metrics: Prometheus text exposition of every web and worker process of the installation.

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>`; without it, only
requests made on this machine (loopback) that did not pass through a proxy (no Forwarded /
X-Forwarded-For header), so a reverse proxy on the same host does not open it to the world.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, request

from .. import runtime
from ..extensions import db
from ..services import metrics, pipeline_health

bp = Blueprint("metrics", __name__)


def allowed(remote_addr: str | None, headers, token: str) -> bool:
    """May this request read the metrics? (pure; see the module docstring)"""
    if token:
        scheme, _, given = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if headers.get("Forwarded") or headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address((remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


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
