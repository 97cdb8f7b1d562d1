"""Per-app runtime objects (bus, egress policy) built lazily from settings, used by views, CLI and tasks.

The bus implementations live in the ingest feature; `create_app` hands its opener over
(`BUS_OPENER`), so the core imports no feature package."""
from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app

from webapp.core.extensions import db
from webapp.core.egress import EgressPolicy

BUS_OPENER = "sentimon.bus_opener"   # app.extensions key: open_bus(url, engine) -> Bus


def bus(app: Flask | None = None):
    """The app's bus (webapp.ingest.bus.Bus), opened on first use from BUS_URL."""
    app = app or current_app
    found = app.extensions.get("sentimon.bus")
    if found is None:
        found = app.extensions["sentimon.bus"] = app.extensions[BUS_OPENER](app.config["BUS_URL"], db.engine)
    return found


def egress_policy(app: Flask | None = None) -> EgressPolicy:
    app = app or current_app
    found = app.extensions.get("sentimon.egress")
    if found is None:
        found = app.extensions["sentimon.egress"] = EgressPolicy.from_setting(app.config["EGRESS_ALLOW"])
    return found


@contextmanager
def session_scope():
    """A session for one unit of work outside a request; removed afterwards."""
    try:
        yield db.session
    finally:
        db.session.remove()
