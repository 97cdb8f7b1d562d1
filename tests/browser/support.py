"""Helpers of the real-browser suite: the page guard, sign-in through the form, pushing mentions
through the REST API over HTTP, reading Plotly figures from the DOM, the axe-core check, screenshots.
"""
from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "browser password"
BAD_IMPACTS = ("serious", "critical")
DEFAULT_TIMEOUT_MS = 15_000


def clear_screenshots() -> None:
    """The screenshots folder holds this run's pages only: called once per run, before any test."""
    for old in ARTIFACTS.glob("*.png"):
        old.unlink(missing_ok=True)


@dataclass
class PageGuard:
    """What a page did that a test did not ask for: console errors, page errors, dialogs, and
    requests that would have left the live server (aborted)."""

    base_url: str
    context: object
    page: object = None
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    blocked: list = field(default_factory=list)
    expected: list = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        """A console error matching `pattern` (regex) is expected, e.g. the browser's note that a
        form answered 400 because its input was refused."""
        self.expected.append(re.compile(pattern))

    def attach(self, page) -> None:
        self.page = page
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(
            f"{msg.text} @ {msg.location.get('url', '')}"))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def problems(self) -> dict:
        console = [line for line in self.console_errors
                   if not any(p.search(line) for p in self.expected)]
        return {name: items for name, items in (
            ("console errors", console), ("page errors", self.page_errors),
            ("dialogs", self.dialogs), ("requests off the live server", self.blocked)) if items}

    def check(self) -> None:
        problems = self.problems()
        assert not problems, f"the page misbehaved: {json.dumps(problems, indent=1)}"


def open_guarded(browser, base_url: str, **options) -> PageGuard:
    """A new context (viewport 1280x900 unless `options` say otherwise) with one guarded page:
    every request that would leave `base_url`'s host and port is aborted and recorded."""
    origin = urlsplit(base_url)
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "accept_downloads": True,
                                     "base_url": base_url, **options})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    guard = PageGuard(base_url=base_url, context=context)

    def leaves_live_server(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https", "ws", "wss") and \
            (parts.hostname, parts.port) != (origin.hostname, origin.port)

    def block(route):
        guard.blocked.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(leaves_live_server, block)
    guard.attach(context.new_page())
    return guard


def sign_in(page, email: str, password: str = PASSWORD, next_path: str = "/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def api(base_url: str, token: str, method: str, path: str, body=None) -> tuple[int, object]:
    """One REST call over real HTTP with the bearer token; returns (status, decoded JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base_url}/api/v1{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, (json.loads(raw) if raw.strip().startswith(b"{") else raw.decode(errors="replace"))


def push_mentions(base_url: str, token: str, monitor_id: int, items: list[dict], drain) -> None:
    """POST the mentions to the API, then consume the bus (as a worker would) so they are stored."""
    status, answer = api(base_url, token, "POST", f"/monitors/{monitor_id}/mentions", items)
    assert status == 202, answer
    drain()


def charts_drawn(page, min_count: int = 1) -> list[str]:
    """Wait until Plotly drew at least `min_count` charts; returns the ids of the drawn chart divs."""
    # A locator wait (the n-th drawn chart exists), not wait_for_function: that one's polling
    # evaluates a string, which the pages' CSP (no 'unsafe-eval') refuses.
    page.locator(".js-plotly-plot .main-svg").nth(min_count - 1).wait_for(state="attached")
    return page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")


def figure_traces(page, element_id: str) -> list[dict]:
    """The traces Plotly drew in one chart div, read back from the DOM (`gd.data`)."""
    return page.evaluate(
        """id => (document.getElementById(id).data || []).map(t => ({
              type: t.type || 'scatter', name: t.name || null,
              x: Array.from(t.x || t.labels || []), y: Array.from(t.y || t.values || [])}))""",
        element_id)


def click_first_bar(page) -> int:
    """Click (with the mouse) the first non-empty bucket of the first chart that opens a bucket's
    mentions (`data-click-url`); returns that bucket's count (bars may be stacked by label)."""
    x, y, count = page.evaluate("""() => {
      const gd = document.querySelector('.js-plotly-plot[data-click-url]');
      const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, rect = gd.getBoundingClientRect();
      const bars = gd.data.filter(t => t.type === 'bar');
      const total = i => bars.reduce((sum, t) => sum + (t.y[i] || 0), 0);
      const i = bars[0].y.findIndex((_, j) => total(j) > 0);
      return [rect.x + xa._offset + xa.d2p(bars[0].x[i]),
              rect.y + ya._offset + ya.d2p(total(i) / 2), total(i)];
    }""")
    page.mouse.click(x, y)
    return count


def chart_id(ids: list[str], word: str) -> str:
    """The id of the chart whose id contains `word` (e.g. 'volume')."""
    found = [i for i in ids if word in i]
    assert found, f"no chart with {word!r} in its id among {ids}"
    return found[0]


def accessibility_violations(page) -> list[dict]:
    """axe-core (bundled by axe-playwright-python, no download) on the current page; returns the
    serious and critical violations, each with the offending elements."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"],
                                       "runOnly": {"type": "tag", "values": [
                                           "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [f'{n["html"][:160]}: {n.get("failureSummary", "")[-160:]}' for n in v["nodes"][:5]]}
            for v in results.response["violations"] if v["impact"] in BAD_IMPACTS]


def screenshot(page, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/ (git-ignored), for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def alert_event(app, base_url: str, token: str, monitor_id: int, published_at,
                name: str = "Sentiment <b>dropped</b>") -> int:
    """A fired alert for the monitor (an average-sentiment rule evaluated for the 15-minute window
    that holds `published_at`); returns the event id, whose page lists sample mentions."""
    from datetime import timedelta

    from webapp.core.extensions import db
    from webapp.alerting import evaluation

    status, hook = api(base_url, token, "POST", "/notifiers", {   # never called: nothing delivers
        "kind": "webhook", "url": "http://127.0.0.1:9/hook", "name": "loopback hook"})
    assert status == 201, hook
    status, rule = api(base_url, token, "POST", f"/monitors/{monitor_id}/rules", {
        "kind": "avg_sentiment", "window": "15m", "threshold": 0.99, "op": "<", "min_mentions": 1,
        "notifiers": [hook["id"]], "name": name})
    assert status == 201, rule
    window = published_at.replace(minute=published_at.minute - published_at.minute % 15,
                                  second=0, microsecond=0)
    now = window + timedelta(minutes=15, seconds=150)
    with app.app_context():
        report = evaluation.evaluate_rule(db.session, rule["id"], evaluation.slot_for("avg_sentiment", now),
                                          now=now)
        db.session.remove()
    assert report.event_id, report
    return report.event_id
