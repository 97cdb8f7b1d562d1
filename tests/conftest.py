"""Shared fixtures: an app on a fresh SQLite instance folder (a copy of one database migrated per
session), PostgreSQL databases (copies of one migrated template), clients, users, the bus.

Each feature's tests live in tests/<feature>/ with a conftest of their own for what only they use.
Markers: `system` (real servers, worker processes or a browser) and `slow` are added here, so
`pytest -m "not slow and not system"` is the quick loop; `make test` runs everything."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flask
import pytest

from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.people.models import User
from tests import routing_cache
from tests.browser.support import clear_screenshots
from tests.helpers import (ROOT, SQLITE_TEMPLATE, PgCopies, app_config, build_sqlite_template, make_user, migrated_app,
                           pg_database, pg_migrated_template)
from webapp.ingest import pipeline
from webapp.core import runtime




def pytest_configure(config):
    routing_cache.install()  # the apps of this process share their URL builders (see the module)
    if not hasattr(config, "workerinput"):
        # Once per run, in the process that starts the xdist workers (or the only one): each
        # worker's browser fixture doing it raced the other's unlink and deleted its screenshots.
        clear_screenshots()


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


@pytest.fixture
def pg_url(service_urls):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with pg_database(service_urls) as (_name, url):
        yield url


@pytest.fixture(scope="session")
def pg_template(service_urls, tmp_path_factory):
    """A PostgreSQL database migrated to every head once per session, copied by `pg_migrated_url`."""
    with pg_migrated_template(service_urls, tmp_path_factory.mktemp("pg-template")) as name:
        yield name


@pytest.fixture(scope="session")
def pg_copies(service_urls, pg_template):
    """The session's copies of its migrated template, each made while the test before runs."""
    copies = PgCopies(service_urls, pg_template)
    yield copies
    copies.close()


@pytest.fixture
def pg_migrated_url(pg_copies):
    """A PostgreSQL database for one test, made by copying the session's migrated template."""
    with pg_copies.copy() as (_name, url):
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


@pytest.fixture(autouse=True)
def no_context_left_pushed():
    """Fails a test that leaves a Flask context pushed. A streamed answer (an export) that a test
    never reads or closes holds its request and app contexts until it is collected, and every
    later `runner.invoke` of that process would then run in the old app, against a database
    already dropped: the failure would land on another test, by the order of the run."""
    yield
    assert not flask.has_app_context(), "a Flask context is still pushed: close streamed answers (`with client.get(...)`)"


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
# None today: the fault tests (tests/ingest/test_distributed.py) start servers of their own.
DISRUPTIVE_MODULES: set[str] = set()
# The modules of the longest tests (pytest --durations, 2-core reference machine), longest first.
# They are collected first, and `make test` hands tests out two at a time (--maxschedchunk 2), so
# they start at once on different workers and none is still running alone at the end.
LONG_FIRST = [
    "tests/ingest/test_kafka_cluster.py", "tests/ingest/test_distributed.py", "tests/core/test_end_to_end.py",
    "tests/browser/test_accessibility.py", "tests/core/test_run_supervisor.py", "tests/ingest/test_worker.py",
    "tests/browser/test_walkthrough.py", "tests/browser/test_xss.py",
]
SERVER_FIXTURES = {"service_urls", "pg_url", "pg_migrated_url", "pg_template", "pg_copies"}
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
    rank = {path: i for i, path in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.path)).resolve().relative_to(ROOT).as_posix(), len(rank)))



# The modules whose tests share one `xdist_group` (one set of the fault tests' own servers, one `make run`).
XDIST_GROUPED = ("tests/ingest/test_distributed.py", "tests/core/test_end_to_end.py")


def pytest_xdist_node_collection_finished(node, ids):
    """`make test` keeps each `xdist_group` on one worker (`--dist loadgroup`), which pytest-xdist
    does by a suffix on each grouped test's id. pytest 9.2 stopped honouring that suffix (its node ids
    are kept elsewhere), and then every grouped test silently ran anywhere, each worker starting its
    own servers: stop the run instead."""
    lost = [i for i in ids if i.partition("::")[0] in XDIST_GROUPED and "@" not in i.rpartition("]")[2]]
    if lost and node.config.getvalue("dist") == "loadgroup":
        raise pytest.UsageError(f"--dist loadgroup lost the xdist_group of {len(lost)} tests (e.g. {lost[0]}): "
                                "this pytest and pytest-xdist do not work together (pyproject.toml pins pytest)")
