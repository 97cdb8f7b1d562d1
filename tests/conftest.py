"""Fixtures: an app on a fresh SQLite instance folder (schema made by the migrations), clients, users."""
from __future__ import annotations

import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade

from webapp import create_app
from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.people.models import User
from webapp.ingest import pipeline
from webapp.core import runtime


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def service_urls() -> dict[str, str]:
    """Settings of the real servers (PostgreSQL, Redis, Kafka) that `make test` starts first."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "services.py"), "env"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"services are not available (run `make services`): {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@pytest.fixture
def pg_url(service_urls):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(service_urls["DATABASE_URL"])
    name = f"sentimon_t_{uuid.uuid4().hex[:12]}"
    admin = f"host={base.host} port={base.port} user={base.username} dbname={base.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    # The superuser may end every session (autovacuum's included) that still holds the database.
    superuser = f"host={base.host} port={base.port} user=postgres dbname=postgres"
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_kind(request) -> str:
    """`sqlite` unless a test module is marked `both_databases` (then also `postgresql`)."""
    return getattr(request, "param", "sqlite")


def pytest_generate_tests(metafunc):
    if "app" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)


def app_config(tmp_path) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path}/broker.sqlite",
        "CELERY_RESULT_BACKEND": f"db+sqlite:///{tmp_path}/results.sqlite",
        "BUS_URL": "sql://",
        "EGRESS_ALLOW": "127.0.0.1",
        "WTF_CSRF_ENABLED": False,
        "DASHBOARD_CACHE_SECONDS": 0,  # pages show what was just stored (tests/test_page_cache.py: on)
    }


@contextmanager
def migrated_app(config: dict):
    """An app on `config` whose database the migrations made; its connections closed after."""
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(tmp_path, db_kind, request):
    config = app_config(tmp_path)
    if db_kind == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_url")
    with migrated_app(config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(app, email="editor@example.com", role="editor", password="correct horse"):
    with app.app_context():
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


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
