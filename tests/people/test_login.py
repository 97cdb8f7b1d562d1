"""Login throttling per account and per client address, shared by every web process (Redis or SQL)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from webapp import create_app
from webapp.core.extensions import db
from webapp.people.models import LoginThrottle
from webapp.people.services import login_throttle
from webapp.people.services.login_throttle import Counter, Decision, Limits, Throttle, decide

from tests.helpers import app_config, make_user
from tests.helpers import free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
LIMITS = Limits(per_account=20, per_ip=20, window=900)


# -- the decision (pure) ------------------------------------------------------------------------

def test_decide_refuses_at_the_limit_inside_the_window():
    none = Counter(0, 0.0)
    assert decide(Counter(19, 100.0), Counter(19, 100.0), LIMITS) == Decision(True)
    assert decide(Counter(20, 99.2), none, LIMITS) == Decision(False, retry_after=100, scope="account")
    assert decide(none, Counter(25, 10.0), LIMITS) == Decision(False, retry_after=10, scope="ip")
    assert decide(Counter(20, 0.0), none, LIMITS).allowed          # the window is over
    # Both over: the later one tells when to come back.
    assert decide(Counter(20, 5.0), Counter(20, 50.0), LIMITS).retry_after == 50
    assert decide(Counter(99, 5.0), none, Limits(per_account=0)).allowed   # 0 turns a limit off


def test_keys_hash_the_email_and_ignore_its_case():
    account, ip = login_throttle.keys(" Alice@Example.com ", "192.0.2.1")
    assert account == login_throttle.keys("alice@example.com", "")[0]
    assert "alice" not in account and ip == "ip:192.0.2.1"


def test_storage_follows_the_settings():
    assert login_throttle.storage_url({"CELERY_BROKER_URL": "redis://h:1/0"}) == "redis://h:1/0"
    assert login_throttle.storage_url({"CELERY_BROKER_URL": "sqla+sqlite:///x"}) == ""
    assert login_throttle.storage_url({"RATELIMIT_STORAGE_URL": "redis://r/3",
                                       "CELERY_BROKER_URL": "redis://h:1/0"}) == "redis://r/3"
    with pytest.raises(ValueError):
        login_throttle.store_for({"RATELIMIT_STORAGE_URL": "memcached://x"}, None)


# -- the SQL store (embedded mode) ---------------------------------------------------------------

@pytest.mark.both_databases
def test_sql_store_counts_windows_and_clears_on_success(app):
    clock = [1_000_000.0]
    with app.app_context():
        store = login_throttle.store_for(app.config, db.session)
        assert isinstance(store, login_throttle.SqlStore)
        throttle = Throttle(store, LIMITS, clock=lambda: clock[0])
        for i in range(20):
            assert throttle.check("alice@example.com", f"198.51.100.{i}").allowed
            throttle.failed("alice@example.com", f"198.51.100.{i}")
        refused = throttle.check("alice@example.com", "203.0.113.9")
        assert (refused.allowed, refused.scope, refused.retry_after) == (False, "account", 900)
        assert throttle.check("bob@example.com", "203.0.113.9").allowed
        clock[0] += 600
        assert throttle.check("alice@example.com", "203.0.113.9").retry_after == 300
        clock[0] += 301                                           # the window is over
        assert throttle.check("alice@example.com", "203.0.113.9").allowed
        throttle.failed("alice@example.com", "203.0.113.9")      # a new window starts at 1
        assert store.get(login_throttle.keys("alice@example.com", "")[0], 900, clock[0]).failures == 1
        throttle.succeeded("alice@example.com")
        assert store.get(login_throttle.keys("alice@example.com", "")[0], 900, clock[0]).failures == 0
        # One address guessing many accounts is stopped by the per-address limit.
        for i in range(20):
            throttle.failed(f"user{i}@example.com", "192.0.2.50")
        assert throttle.check("someone@example.com", "192.0.2.50").scope == "ip"
        # Old rows are swept when new windows open.
        clock[0] += 3 * 900
        throttle.failed("carol@example.com", "192.0.2.51")
        assert db.session.execute(select(func.count()).select_from(LoginThrottle)).scalar() == 2
        db.session.remove()


def test_the_21st_bad_login_on_the_page_is_refused_with_retry_after(app, client):
    make_user(app, email="alice@example.com", password="alice password")
    make_user(app, email="bob@example.com", password="bob password")
    for i in range(20):
        bad = client.post("/login", data={"email": "alice@example.com", "password": f"guess {i}"},
                          environ_base={"REMOTE_ADDR": f"198.51.100.{i}"})
        assert bad.status_code == 400 and b"Wrong email or password" in bad.data
    refused = client.post("/login", data={"email": "Alice@example.com", "password": "alice password"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 900
    assert b"Too many failed sign-ins" in refused.data and b"15 minutes" in refused.data
    good = client.post("/login", data={"email": "bob@example.com", "password": "bob password"},
                       environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert good.status_code == 302


# -- two web processes sharing Redis -------------------------------------------------------------

class Browser:
    """A cookie-keeping client that reads the CSRF token of the login page and does not follow redirects."""

    class _NoRedirect(HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self):
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), self._NoRedirect)

    def open(self, request: Request):
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, dict(response.headers), response.read().decode()
        except HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def login(self, base: str, email: str, password: str, ip: str):
        _, _, page = self.open(Request(f"{base}/login", headers={"X-Forwarded-For": ip}))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        return self.open(Request(f"{base}/login", data=data, headers={"X-Forwarded-For": ip}))


def _serve(tmp_path: Path, env: dict, name: str):
    port = free_port()
    log = tmp_path / f"{name}.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "2", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log, f"http://127.0.0.1:{port}"


def test_the_limit_holds_across_two_web_processes(tmp_path, pg_url, service_urls):
    import redis

    prefix = f"sentimon-test:{uuid.uuid4().hex[:10]}:"
    config = {**app_config(tmp_path), "DATABASE_URL": pg_url,
              "CELERY_BROKER_URL": service_urls["CELERY_BROKER_URL"]}
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    make_user(app, email="alice@example.com", password="alice password")
    make_user(app, email="bob@example.com", password="bob password")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT_", "LOGIN_"))}
    env.update(DATABASE_URL=pg_url, SECRET_KEY="two-process-secret", BUS_URL="sql://",
               CELERY_BROKER_URL=service_urls["CELERY_BROKER_URL"],   # redis://: the throttle uses it
               CELERY_RESULT_BACKEND=service_urls["CELERY_RESULT_BACKEND"],
               SENTIMON_INSTANCE=str(tmp_path / "instance"), RATELIMIT_KEY_PREFIX=prefix,
               PROXY_FIX_HOPS="1", PYTHONUNBUFFERED="1")
    servers = [_serve(tmp_path, env, "web-a"), _serve(tmp_path, env, "web-b")]
    client = redis.Redis.from_url(service_urls["CELERY_BROKER_URL"])
    try:
        for proc, _, base in servers:
            wait_for(lambda: _healthy(base) or proc.poll() is not None, timeout=90, message=f"{base} up")
            assert proc.poll() is None
        bases = [base for _, _, base in servers]
        browser = Browser()
        # Per account: 20 bad guesses from 20 addresses, alternating between the processes.
        for i in range(20):
            status, _, page = browser.login(bases[i % 2], "alice@example.com", f"guess {i}", f"198.51.100.{i}")
            assert status == 400 and "Wrong email or password" in page, (i, status)
        status, headers, page = browser.login(bases[0], "alice@example.com", "alice password", "203.0.113.1")
        assert status == 429 and "Too many failed sign-ins" in page
        assert 0 < int(headers["Retry-After"]) <= 900
        status, _, _ = browser.login(bases[1], "alice@example.com", "alice password", "203.0.113.2")
        assert status == 429                                   # the other process refuses it too
        status, headers, _ = Browser().login(bases[1], "bob@example.com", "bob password", "203.0.113.3")
        assert status == 302 and headers["Location"].endswith("/")
        # Per address: one address guessing 20 different accounts.
        for i in range(20):
            status, _, _ = browser.login(bases[i % 2], f"nobody{i}@example.com", "guess", "192.0.2.77")
            assert status == 400, (i, status)
        status, _, _ = Browser().login(bases[1], "bob@example.com", "bob password", "192.0.2.77")
        assert status == 429
        # The counts were in Redis (not the SQL table).
        assert len(client.keys(prefix + "*")) >= 20
        with app.app_context():
            assert db.session.execute(select(func.count()).select_from(LoginThrottle)).scalar() == 0
            db.session.remove()
            db.engine.dispose()
    finally:
        for proc, log, _ in servers:
            stop_process(proc, log)
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()


def _healthy(base: str) -> bool:
    try:
        status, _, _ = Browser().open(Request(f"{base}/healthz"))
        return status == 200
    except OSError:
        return False
