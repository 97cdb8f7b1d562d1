"""Sentimon's Flask application factory."""
from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event

from . import config as settings
from .extensions import csrf, db, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; `test_config` overrides settings read from the environment."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("SENTIMON_INSTANCE")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None,
                instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
        if "DATABASE_URL" in test_config:
            app.config["SQLALCHEMY_DATABASE_URI"] = test_config["DATABASE_URL"]
    register_proxy(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_commands(app)
    register_security_headers(app)
    register_limits(app)
    register_scoring(app)
    register_metrics(app)
    from .celery_app import celery_init_app

    celery_init_app(app)
    return app


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
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web, the worker and beat read while one writes; foreign keys cascade deletes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
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


def register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp, health_bp, register_app_errors
    from .views import register as register_views

    csrf.exempt(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(api_bp)
    register_app_errors(app)
    register_views(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)


def register_scoring(app: Flask) -> None:
    from .services import sentiment

    sentiment.configure([app.config.get("NLTK_DATA", "")])


def register_limits(app: Flask) -> None:
    """A body over MAX_CONTENT_LENGTH: 413 JSON under /api/, a page elsewhere (never a bare error)."""
    from flask import render_template, request
    from werkzeug.exceptions import RequestEntityTooLarge

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        if request.path.startswith("/api/"):
            from .api.errors import error_response

            return error_response(413, "request_entity_too_large",
                                  f"the request body is larger than {limit} bytes")
        return render_template("too_large.html", limit=limit), 413


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


def register_metrics(app: Flask) -> None:
    """Prometheus samples of this process go to the installation's multiprocess folder."""
    from .services import metrics

    chosen = app.config.get("PROMETHEUS_MULTIPROC_DIR") or ""
    app.config["PROMETHEUS_MULTIPROC_DIR"] = metrics.configure(
        chosen or metrics.default_directory(app.instance_path), defaulted=not chosen)
