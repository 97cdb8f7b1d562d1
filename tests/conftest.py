"""Shared fixtures: an app on a fresh SQLite instance folder (a copy of one database migrated per
session), PostgreSQL databases (copies of one migrated template), clients, users, the bus.

Each feature's tests live in tests/<feature>/ with a conftest of their own for what only they use.
Markers: `system` (real servers, worker processes or a browser) and `slow` are added here, so
`pytest -m "not slow and not system"` is the quick loop; `make test` runs everything."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from contextlib import contextmanager

import pytest

from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.people.models import User
from tests.helpers import ROOT, SQLITE_TEMPLATE, app_config, build_sqlite_template, make_user, migrated_app
from webapp.ingest import pipeline
from webapp.core import runtime




@pytest.fixture(scope="session", autouse=True)
def sqlite_template(tmp_path_factory):
    """One SQLite database migrated to every head; each test's database starts as a copy."""
    SQLITE_TEMPLATE["path"] = build_sqlite_template(tmp_path_factory.mktemp("template"))
    yield SQLITE_TEMPLATE["path"]
    SQLITE_TEMPLATE["path"] = None


@pytest.fixture(scope="session")
def service_urls() -> dict[str, str]:
    """Settings of the real servers (PostgreSQL, Redis, Kafka) that `make test` starts first."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "services.py"), "env"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"services are not available (run `make services`): {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@contextmanager
def _pg_database(service_urls, template: str | None = None):
    """A new PostgreSQL database (empty, or a copy of `template`), dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(service_urls["DATABASE_URL"])
    name = f"sentimon_t_{uuid.uuid4().hex[:12]}"
    admin = f"host={base.host} port={base.port} user={base.username} dbname={base.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name, base.set(database=name).render_as_string(hide_password=False)
    finally:
        # The superuser may end every session (autovacuum's included) that still holds the database.
        superuser = f"host={base.host} port={base.port} user=postgres dbname=postgres"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(service_urls):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with _pg_database(service_urls) as (_name, url):
        yield url


@pytest.fixture(scope="session")
def pg_template(service_urls, tmp_path_factory):
    """A PostgreSQL database migrated to every head once per session, copied by `pg_migrated_url`."""
    with _pg_database(service_urls) as (name, url):
        config = {**app_config(tmp_path_factory.mktemp("pg-template")), "DATABASE_URL": url}
        with migrated_app(config):
            pass
        yield name


@pytest.fixture
def pg_migrated_url(service_urls, pg_template):
    """A PostgreSQL database for one test, made by copying the session's migrated template."""
    with _pg_database(service_urls, template=pg_template) as (_name, url):
        yield url


@pytest.fixture
def db_kind(request) -> str:
    """`sqlite` unless a test module is marked `both_databases` (then also `postgresql`)."""
    return getattr(request, "param", "sqlite")


def pytest_generate_tests(metafunc):
    if "app" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)






@pytest.fixture
def app(tmp_path, db_kind, request):
    config = app_config(tmp_path)
    if db_kind == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_migrated_url")
    with migrated_app(config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()




@pytest.fixture
def token(app):
    """A bearer token of an editor."""
    make_user(app, email="token@example.com")
    with app.app_context():
        return create_token(db.session.execute(
            db.select(User).where(User.email == "token@example.com")).scalar_one())


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def drain(app):
    """Consume everything on the bus now, as a worker would."""
    def run():
        with app.app_context():
            outcome = pipeline.drain(runtime.bus(), db.session)
            db.session.remove()
            return outcome
    return run


@pytest.fixture
def logged_in(app, client):
    make_user(app, email="page@example.com", role="editor", password="page password")
    response = client.post("/login", data={"email": "page@example.com", "password": "page password"})
    assert response.status_code == 302
    return client


# Tests that start processes of their own (workers, beats, gunicorn, `make run`) or drive the browser.
SYSTEM_MODULES = {
    "tests/browser", "tests/core/test_end_to_end.py", "tests/core/test_beat.py", "tests/core/test_services.py",
    "tests/ingest/test_worker.py", "tests/ingest/test_distributed.py", "tests/alerting/test_alerts_worker.py",
    "tests/monitors/test_backfill_worker.py", "tests/admin/test_metrics.py",
    "tests/core/test_run_supervisor.py", "tests/ingest/test_kafka_cluster.py",
}
# Tests that stop, kill or restart the shared one-node servers: nothing else may run beside them.
DISRUPTIVE_MODULES = {"tests/ingest/test_distributed.py"}
SERVER_FIXTURES = {"service_urls", "pg_url", "pg_migrated_url", "pg_template"}
# Tests measured at over ~1.5 s each on the 2-core reference machine (pytest --durations).
SLOW_MODULES = {
    "tests/core/test_api_fuzz.py", "tests/core/test_attack_ssrf.py", "tests/core/test_properties.py",
    "tests/scoring/test_vader_fast.py", "tests/scoring/test_scorers_training.py",
}


def pytest_collection_modifyitems(config, items):
    """`system`: the test needs the real servers, processes of its own or a browser; `slow`: long."""
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (any(path == m or path.startswith(m + "/") for m in SYSTEM_MODULES)
                or SERVER_FIXTURES & set(item.fixturenames) or item.get_closest_marker("services")
                or {"postgresql", "kafka"} & {v for v in params.values() if isinstance(v, str)}
                or item.get_closest_marker("system")):
            item.add_marker(pytest.mark.system)
        if path in DISRUPTIVE_MODULES:
            item.add_marker(pytest.mark.system)
            item.add_marker(pytest.mark.disruptive)
        if path in SLOW_MODULES or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
