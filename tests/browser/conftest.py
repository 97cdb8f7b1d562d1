"""Fixtures of the real-browser suite: the app served over HTTP on loopback, Debian's Chromium
driven by Playwright, and a page that fails its test on any console error, page error, dialog or
request that leaves the live server.

One browser per session, a new context (cookies, storage) per test. Playwright's own browser
download is never used: `executable_path` points at the system Chromium (`make test` installs it).
"""
from __future__ import annotations

import logging
import os
import threading

import pytest
from werkzeug.serving import make_server


from tests.helpers import app_config, migrated_app
from tests.browser.support import ARTIFACTS, CHROMIUM, open_guarded

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions",
                 "--disable-component-update", "--no-first-run", "--mute-audio"]


def pytest_terminal_summary(terminalreporter):
    shots = sorted(ARTIFACTS.glob("*.png")) if ARTIFACTS.is_dir() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots: {ARTIFACTS} ({len(shots)} pages)")


def pytest_configure(config):
    config.addinivalue_line("markers", "bypass_csp: the test's browser context ignores the "
                            "Content-Security-Policy (to prove escaping on its own)")


@pytest.fixture
def app(tmp_path):
    """The `app` of tests/conftest.py, but with CSRF on: the browser submits real forms."""
    with migrated_app({**app_config(tmp_path), "WTF_CSRF_ENABLED": True}) as app:
        yield app


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server (werkzeug, threaded) on 127.0.0.1; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)      # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium, headless, for the tests of this folder (closed after them). A missing
    Playwright or Chromium fails them with the fix: `make test` installs both."""
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("Playwright is not installed: `make install` (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` (apt-get install chromium) or set CHROMIUM")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True, timeout=60_000)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def guard(browser, live_server, request):
    """A fresh context and page (see `support.open_guarded`): requests off the live server are
    aborted, and any of them, a console error, an uncaught page error or a dialog fails the test
    at its end, unless the test told `guard` to expect it."""
    page_guard = open_guarded(browser, live_server,
                              bypass_csp=request.node.get_closest_marker("bypass_csp") is not None)
    yield page_guard
    try:
        page_guard.check()
    finally:
        page_guard.context.close()


@pytest.fixture
def page(guard):
    return guard.page
