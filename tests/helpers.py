"""Small helpers shared by tests: app settings, migrated apps (copies of one migrated template
database per test session), users, monitors, mentions, waiting on conditions."""
from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade

from webapp import create_app
from webapp.core.extensions import db
from webapp.monitors.services.manage import create_monitor, system_source
from webapp.people.models import User
from webapp.people.services import teams

ROOT = Path(__file__).resolve().parents[1]
# Still scrypt (the stored format and the checks are the same), at N=2**10 instead of Werkzeug's 2**15:
# about 4 ms a hash instead of 130 ms of CPU.
TEST_PASSWORD_HASH = "scrypt:1024:8:1"
# The migrated SQLite database that every test's database is copied from (set once per session
# by tests/conftest.py); None means every app migrates its own database.
SQLITE_TEMPLATE: dict[str, str | None] = {"path": None}


def new_monitor(app, name="Test", query="", sources=None) -> tuple[int, int]:
    """Create a monitor; returns (monitor id, its push source id)."""
    with app.app_context():
        monitor = create_monitor(db.session, name, query, sources or [])
        return monitor.id, system_source(monitor, "push").id


def mention(i: int, text: str | None = None, **extra) -> dict:
    return {"external_id": f"m{i}", "text": text or f"mention number {i} is great", **extra}


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value (returned) or `timeout` passes (AssertionError)."""
    import time

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {last!r})")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, log_path, sig=None, timeout: float = 30) -> None:
    """Stop a process group started with start_new_session=True, then print its log's tail."""
    import os
    import signal
    import subprocess

    os.killpg(proc.pid, sig or signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(log_path.read_text(errors="replace")[-6000:])


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
        "DASHBOARD_CACHE_SECONDS": 0,  # pages show what was just stored (tests/insights/test_page_cache.py: on)
        "SOURCE_CHECK_ON_SAVE": False,  # forms save made-up feeds (tests/monitors/test_source_test.py: on)
        "TERMS_CACHE_SECONDS": 0,      # the terms API too (tests/insights/test_terms_cache.py: on)
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,  # cheap scrypt: thousands of users are made
    }


def build_sqlite_template(directory: Path) -> str:
    """Migrate one SQLite database to every head, checkpointed into a single file to copy."""
    config = app_config(directory)
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        db.engine.dispose()
    path = config["DATABASE_URL"][len("sqlite:///"):]
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


def _copy_template(url: str) -> bool:
    """Copy the session's migrated template to a SQLite `url` that has no file yet."""
    template = SQLITE_TEMPLATE["path"]
    if not template or not url.startswith("sqlite:///"):
        return False
    path = url[len("sqlite:///"):]
    if os.path.exists(path):
        return False
    shutil.copyfile(template, path)
    return True


@contextmanager
def migrated_app(config: dict):
    """An app on `config` whose database the migrations made (a copy of the session's migrated
    template for a new SQLite file); its connections closed after."""
    copied = _copy_template(config["DATABASE_URL"])
    app = create_app(config)
    if not copied:
        with app.app_context():
            upgrade(revision="heads")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        # Flask-SQLAlchemy keys its sessions by the id of the app context: a session left by a
        # context that ended without its teardown (a thread the test abandoned) would be handed to
        # a later test's context at the same address, bound to this app's dropped database.
        sessions = db.session.registry.registry
        for session in list(sessions.values()):
            session.close()
        sessions.clear()


def _copy_strategy(conn) -> str:
    """How CREATE DATABASE copies a template: by its files on PostgreSQL 15 and later. The default
    there (WAL_LOG) writes every page of the template through the WAL, about 10 MB a copy, which
    cost the server twice the time of copying the files (and the suite makes a copy per test)."""
    return " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""


@contextmanager
def pg_database(service_urls, template: str | None = None):
    """A new PostgreSQL database (empty, or a copy of `template`), dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(service_urls["DATABASE_URL"])
    name = f"sentimon_t_{uuid.uuid4().hex[:12]}"
    admin = f"host={base.host} port={base.port} user={base.username} dbname={base.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        copy = f' TEMPLATE "{template}"{_copy_strategy(conn)}' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield name, base.set(database=name).render_as_string(hide_password=False)
    finally:
        # The superuser may end every session (autovacuum's included) that still holds the database.
        superuser = f"host={base.host} port={base.port} user=postgres dbname=postgres"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgCopies:
    """Copies of one migrated template, each made one test ahead by a thread and dropped by it after
    its test: a test waits for its database only when the copy before it has not finished, and never
    for a drop. Every test still gets a fresh copy of the template, which nothing else connects to."""

    def __init__(self, service_urls: dict, template: str, ahead: int = 1):
        from concurrent.futures import ThreadPoolExecutor

        from sqlalchemy.engine import make_url

        self.base = make_url(service_urls["DATABASE_URL"])
        self.template, self.ahead = template, ahead
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-copies")  # in order
        self.ready: list = []
        self._top_up()

    def _connect(self, user: str | None = None, dbname: str | None = None):
        import psycopg

        base = self.base
        return psycopg.connect(f"host={base.host} port={base.port} user={user or base.username} "
                               f"dbname={dbname or base.database}", autocommit=True)

    def _create(self) -> str:
        name = f"sentimon_t_{uuid.uuid4().hex[:12]}"
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{_copy_strategy(conn)}')
        return name

    def _drop(self, name: str) -> None:
        with self._connect("postgres", "postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _top_up(self) -> None:
        while len(self.ready) < self.ahead:
            self.ready.append(self.thread.submit(self._create))

    @contextmanager
    def copy(self):
        """(name, URL) of a fresh copy of the template, dropped after the block."""
        name = self.ready.pop(0).result()
        self._top_up()
        try:
            yield name, self.base.set(database=name).render_as_string(hide_password=False)
        finally:
            self.thread.submit(self._drop, name)

    def close(self) -> None:
        """Drop the copies made ahead, and wait for every drop."""
        for future in self.ready:
            try:
                self.thread.submit(self._drop, future.result())
            except Exception:  # noqa: BLE001  (a copy that failed to be made: nothing to drop)
                pass
        self.ready = []
        self.thread.shutdown(wait=True)


@contextmanager
def pg_migrated_template(service_urls: dict, directory: Path):
    """A PostgreSQL database migrated to every head (its name), to copy with pg_database(template=...)."""
    with pg_database(service_urls) as (name, url):
        with migrated_app({**app_config(directory), "DATABASE_URL": url}):
            pass
        yield name


def make_user(app, email="editor@example.com", role="editor", password="correct horse",
              team: str | None = "Default", team_role: str | None = None):
    with app.app_context():
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        if team is not None:  # like migration 0011: everybody in Default, admins as owners
            team_role = team_role or {"admin": "owner"}.get(role, role)
            teams.join(db.session, teams.ensure_team(db.session, team), user, team_role)
        db.session.commit()
        return user.id


def signed_in_with_monitor(app, email: str, password: str, name: str):
    """An editor signed in through the login form, a new monitor, and `push(items)`: the items sent
    to the monitor's push API with a bearer token, then the bus drained into the database.
    Returns (client, monitor id, bearer headers, push)."""
    from webapp.core import runtime
    from webapp.core.extensions import db
    from webapp.ingest import pipeline
    from webapp.people.auth import create_token
    from webapp.people.models import User

    make_user(app, email=email, role="editor", password=password)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302
    monitor_id, _ = new_monitor(app, name, "")
    with app.app_context():
        token = create_token(db.session.execute(db.select(User).where(User.email == email)).scalar_one())
    auth = {"Authorization": f"Bearer {token}"}

    def push(items):
        assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
        with app.app_context():
            pipeline.drain(runtime.bus(), db.session)
            db.session.remove()

    return client, monitor_id, auth, push


def seed_alert_history(session, monitor_id: int, rule_id: int, notifier_id: int) -> tuple[int, int, int]:
    """An alert event of the rule with one failed delivery, and a finished backfill of the
    monitor (objects the access tests name in URLs); returns (event id, delivery id, backfill id)."""
    from datetime import datetime, timedelta, timezone

    from webapp.alerting.models import AlertEvent, Delivery
    from webapp.monitors.backfill.models import Backfill

    now = datetime.now(timezone.utc)
    event = AlertEvent(rule_id=rule_id, monitor_id=monitor_id, from_state="normal", to_state="firing", at=now,
                       details={})
    session.add(event)
    session.flush()
    delivery = Delivery(event_id=event.id, notifier_id=notifier_id, type="alert.firing",
                        payload={"type": "alert.firing"}, webhook_id=f"msg_seed_{event.id}", status="failed",
                        next_attempt_at=now)
    backfill = Backfill(monitor_id=monitor_id, since=now - timedelta(days=2), until=now - timedelta(days=1),
                        status="done", skipped=[])
    session.add_all([delivery, backfill])
    session.commit()
    return event.id, delivery.id, backfill.id
