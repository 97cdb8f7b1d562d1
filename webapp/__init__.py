"""Sentimon's Flask application factory.

Every feature package is listed here, once: its models, page blueprints, API blueprint, OpenAPI
part and `flask` commands (cookiecutter-flask's `register_*` sequence). Nothing registers itself
by being imported.
"""
from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event

from webapp.core import config as settings
from webapp.core import lazy_migrate
from webapp.core.extensions import csrf, db, login_manager


def create_app(test_config: dict | None = None, *, web: bool = True) -> Flask:
    """Build the app; `test_config` overrides settings read from the environment. `web=False`
    (Celery workers and beat, tasks/celery.py) leaves out what only serves requests: pages, the
    API and its OpenAPI parts, forms, the `flask` commands and the request hooks."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("SENTIMON_INSTANCE")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None,
                instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
        if "DATABASE_URL" in test_config:
            app.config["SQLALCHEMY_DATABASE_URI"] = test_config["DATABASE_URL"]
    register_json(app)
    register_proxy(app)
    register_models()
    register_extensions(app)
    register_bus(app)
    if web:
        register_converters(app)
        register_blueprints(app)
        register_commands(app)
        register_security_headers(app)
        register_limits(app)
        register_input_guard(app)
    register_frame(app)
    register_scoring(app)
    register_metrics(app)
    register_celery(app)
    return app


def register_json(app: Flask) -> None:
    """JSON answers and the pages' embedded figures written by orjson (core/web/json_provider.py);
    set before anything builds the Jinja environment, whose `tojson` takes `app.json.dumps`."""
    from webapp.core.web.json_provider import FastJSONProvider

    app.json = FastJSONProvider(app)


def register_proxy(app: Flask) -> None:
    """Behind PROXY_FIX_HOPS reverse proxies, trust their X-Forwarded-For/-Proto/-Host (client
    address for the login throttle, https for Secure cookies); never trusted when it is 0."""
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    else:  # a server that restarts leaves dead pooled connections behind: test them first
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    db.init_app(app)
    lazy_migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                          render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web, the worker and beat read while one writes; foreign keys cascade deletes;
    reads map the file (mmap, up to 256 MB) instead of copying each page (exports, searches)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def register_converters(app: Flask) -> None:
    """`<int:...>` in every route stops at the largest id a database column holds (2**63 - 1):
    a larger number is a 404, never an integer overflow inside the database driver."""
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import IntegerConverter

    class BoundedInt(IntegerConverter):
        def to_python(self, value: str) -> int:
            number = super().to_python(value)
            if number > 2**63 - 1:  # no such row can exist: answer 404 at once (a 405 would mislead)
                raise NotFound()
            return number

    app.url_map.converters["int"] = BoundedInt


def register_models() -> None:
    """Every feature's tables on the one metadata (relationships name each other by class)."""
    from webapp.alerting import models as _alerting  # noqa: F401
    from webapp.core import models as _core  # noqa: F401
    from webapp.ingest import models as _ingest  # noqa: F401
    from webapp.ingest.bus import models as _bus  # noqa: F401
    from webapp.insights import models as _insights  # noqa: F401
    from webapp.mentions.inbox import models as _mentions  # noqa: F401
    from webapp.monitors import models as _monitors  # noqa: F401
    from webapp.monitors.backfill import models as _backfill  # noqa: F401
    from webapp.people import models as _people  # noqa: F401
    from webapp.reports import models as _reports  # noqa: F401
    from webapp.scoring import models as _scoring  # noqa: F401


def register_blueprints(app: Flask) -> None:
    """Pages of every feature, then the `/api/v1` frame with every feature's API nested in it."""
    from webapp.admin import health, views as admin_views
    from webapp.alerting import views as alerting_views
    from webapp.core import vendor
    from webapp.core.web import api_docs
    from webapp.core.api import make_api_blueprint, register_app_errors
    from webapp.insights import views as insights_views
    from webapp.mentions import views as mentions_views
    from webapp.mentions.inbox import views as inbox_views
    from webapp.mentions.noise import views as noise_views
    from webapp.monitors import edit_views, views as monitors_views
    from webapp.monitors.backfill import views as backfill_views
    from webapp.people import views as people_views
    from webapp.people.teams import views as team_views
    from webapp.reports import views as reports_views
    from webapp.scoring import views as scoring_views

    pages = (
        health.bp, vendor.bp, api_docs.bp,
        people_views.bp, people_views.admin_bp, people_views.account_bp, team_views.bp,
        monitors_views.bp, edit_views.bp, backfill_views.bp,
        insights_views.bp, mentions_views.bp, inbox_views.bp, noise_views.bp,
        scoring_views.bp, scoring_views.classify_bp, alerting_views.bp,
        admin_views.bp, admin_views.metrics_bp,
        reports_views.bp,
    )
    for bp in pages:
        app.register_blueprint(bp)
    blueprints, openapi = api_parts()
    app.register_blueprint(make_api_blueprint(blueprints, openapi))
    register_app_errors(app)


def api_parts() -> tuple[tuple, tuple]:
    """Every feature's API blueprint, and the OpenAPI parts (`extend(schemas, paths)`) that
    describe them; `GET /api/v1/openapi.json` is built from these."""
    from webapp.admin import openapi as admin_openapi
    from webapp.alerting import api as alerting_api, openapi as alerting_openapi
    from webapp.ingest import api as ingest_api, openapi as ingest_openapi
    from webapp.insights import api as insights_api, openapi as insights_openapi
    from webapp.insights.attribution import api as attribution_api, openapi as attribution_openapi
    from webapp.insights.terms import api as terms_api, openapi as terms_openapi
    from webapp.mentions import api as mentions_api, openapi as mentions_openapi
    from webapp.mentions.inbox import api as inbox_api, openapi as inbox_openapi
    from webapp.mentions.noise import api as noise_api, openapi as noise_openapi
    from webapp.monitors import api as monitors_api, openapi as monitors_openapi
    from webapp.people import api as people_api, openapi as people_openapi
    from webapp.people.teams import api as team_api
    from webapp.reports import api as reports_api, openapi as reports_openapi
    from webapp.scoring import api as scoring_api, openapi as scoring_openapi

    blueprints = (scoring_api.bp, monitors_api.bp, ingest_api.bp, mentions_api.bp, noise_api.bp,
                  inbox_api.bp, insights_api.bp, alerting_api.bp, people_api.bp, team_api.bp,
                  reports_api.bp, terms_api.bp, attribution_api.bp)
    openapi = (admin_openapi.extend, scoring_openapi.extend, monitors_openapi.extend,
               ingest_openapi.extend, mentions_openapi.extend, insights_openapi.extend,
               alerting_openapi.extend, people_openapi.extend, noise_openapi.extend, inbox_openapi.extend,
               reports_openapi.extend, terms_openapi.extend, attribution_openapi.extend)
    return blueprints, openapi


def register_commands(app: Flask) -> None:
    """The `flask` commands of every feature (CONTRACT.md names them)."""
    from webapp.admin import cli as admin_cli
    from webapp.ingest import cli as ingest_cli
    from webapp.insights import cli as insights_cli
    from webapp.mentions import cli as mentions_cli
    from webapp.monitors import cli as monitors_cli
    from webapp.monitors.backfill import cli as backfill_cli
    from webapp.people import cli as people_cli
    from webapp.scoring import cli as scoring_cli

    for feature in (people_cli, ingest_cli, monitors_cli, backfill_cli, scoring_cli, admin_cli,
                    mentions_cli, insights_cli):
        for command in feature.COMMANDS:
            app.cli.add_command(command)


def register_scoring(app: Flask) -> None:
    from webapp.scoring import sentiment

    sentiment.configure([app.config.get("NLTK_DATA", "")])


def register_limits(app: Flask) -> None:
    """A body over MAX_CONTENT_LENGTH: 413 JSON under /api/, a page elsewhere (never a bare error)."""
    from flask import render_template, request
    from werkzeug.exceptions import RequestEntityTooLarge

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        if request.path.startswith("/api/"):
            from webapp.core.api_errors import error_response

            return error_response(413, "request_entity_too_large",
                                  f"the request body is larger than {limit} bytes")
        return render_template("too_large.html", limit=limit), 413


def register_frame(app: Flask) -> None:
    """`frame_url` for base.html: the frame's URLs built once per app (core/web/frame_urls.py)."""
    from webapp.core.web.frame_urls import frame_url

    app.add_template_global(frame_url, "frame_url")


def register_input_guard(app: Flask) -> None:
    """JSON depth, NUL bytes and 64-bit integers checked before any view (core/web/input_guard.py)."""
    from webapp.core.web import input_guard

    input_guard.register(app)


def register_security_headers(app: Flask) -> None:
    csp = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
           "form-action 'self'")

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def register_bus(app: Flask) -> None:
    """The bus opener (SQL log or Kafka, from BUS_URL) that `core.runtime.bus()` uses."""
    from webapp.core.runtime import BUS_OPENER
    from webapp.ingest.bus import open_bus

    app.extensions[BUS_OPENER] = open_bus


def register_celery(app: Flask) -> None:
    """Celery bound to this app; every worker also runs a bus consumer unless told not to."""
    from webapp.core.celery_app import celery_init_app
    from webapp.ingest.consumer import BusConsumerStep

    steps = (BusConsumerStep,) if app.config.get("BUS_CONSUMER_IN_WORKER", True) else ()
    celery_init_app(app, worker_steps=steps)


def register_metrics(app: Flask) -> None:
    """Prometheus samples of this process go to the installation's multiprocess folder."""
    from webapp.core import metrics

    chosen = app.config.get("PROMETHEUS_MULTIPROC_DIR") or ""
    app.config["PROMETHEUS_MULTIPROC_DIR"] = metrics.configure(
        chosen or metrics.default_directory(app.instance_path), defaulted=not chosen)
