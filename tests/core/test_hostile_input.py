"""Issue 18's reproductions: hostile input never gets a 500, and a 202 push means stored.

Every JSON endpoint refuses a body nested 1,000 deep (400, before parsing); out-of-range dates
(year 1 east of UTC, year 9999 west of it) are a 4xx in every API parameter and a message on
pages; ids past 2**63 are a 404/4xx; NUL bytes are refused (400) in paths, query strings, form
fields and JSON bodies; every GET page route, walked signed in as an admin with hostile query
strings, answers below 500.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.people.auth import create_token
from webapp.people.models import User
from tests.helpers import make_user, mention, new_monitor

DEEP = "[" * 1000 + "]" * 1000
YEAR_ONE = "0001-01-01T00:00:00+14:00"
YEAR_9999 = "9999-12-31T23:59:59-12:00"
BAD_TIMES = (YEAR_ONE, YEAR_9999, "9999-12-31", "0001-01-01")
HUGE_ID = str(2**63)


@pytest.fixture
def admin(app, client):
    """An admin's bearer headers, signed in on `client` as well (pages), and a monitor id."""
    make_user(app, email="root@example.com", role="admin", password="root password")
    with app.app_context():
        token = create_token(db.session.execute(select(User).where(User.email == "root@example.com")).scalar_one())
    assert client.post("/login", data={"email": "root@example.com", "password": "root password"}).status_code == 302
    monitor_id, _ = new_monitor(app, "Hostile")
    return {"Authorization": f"Bearer {token}"}, monitor_id


def _json_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            if rule.rule.startswith("/api/"):
                yield method, rule


def _fill(rule, number) -> str:
    path = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        path = path.replace(f"<{'int:' if 'Int' in conv else 'path:' if 'Path' in conv else ''}{arg}>",
                            str(number) if "Int" in conv else "word")
    return path


def test_deep_json_is_a_400_on_every_json_endpoint(app, client, admin):
    headers, monitor_id = admin
    routes = list(_json_routes(app))
    assert any(rule.rule == "/api/v1/score" for _, rule in routes)
    for method, rule in routes:
        response = client.open(_fill(rule, monitor_id), method=method, data=DEEP, headers=headers,
                               content_type="application/json")
        assert response.status_code == 400, (method, rule.rule, response.status_code, response.data[:300])
        assert response.json["error"] == "too_deep" and "deeper" in response.json["detail"]


def test_deep_json_is_refused_before_authentication_too(client):
    response = client.post("/api/v1/score", data='{"text": ' + DEEP + "}", content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "too_deep"


def test_moderate_nesting_still_parses(client, auth):
    response = client.post("/api/v1/score", json={"text": "fine", "x": [[[[1]]]]}, headers=auth)
    assert response.status_code < 500


@pytest.mark.parametrize("value", BAD_TIMES)
def test_out_of_range_times_in_api_parameters_are_4xx(client, admin, value):
    headers, monitor_id = admin
    for path in (f"/api/v1/monitors/{monitor_id}/series?start={value}",
                 f"/api/v1/monitors/{monitor_id}/series?end={value}",
                 f"/api/v1/monitors/{monitor_id}/mentions?since={value}",
                 f"/api/v1/monitors/{monitor_id}/mentions?until={value}",
                 f"/api/v1/monitors/{monitor_id}/mentions/export?since={value}",
                 f"/api/v1/monitors/{monitor_id}/series/export?start={value}",
                 f"/api/v1/monitors/{monitor_id}/series/export?end={value}"):
        response = client.get(path.replace("+", "%2B"), headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.data[:300])
        assert response.json["error"]


@pytest.mark.parametrize("value", BAD_TIMES)
def test_out_of_range_times_on_pages_and_exports_are_never_a_500(client, admin, value):
    _, monitor_id = admin
    value = value.replace("+", "%2B")
    for path in (f"/monitors/{monitor_id}?range=custom&start={value[:10]}&end={value[:10]}",
                 f"/monitors/{monitor_id}?range=custom&start=2026-01-01&end=9999-12-31",
                 f"/monitors/{monitor_id}/mentions?since={value}&until={value}",
                 f"/monitors/{monitor_id}/mentions.csv?since={value}",
                 f"/monitors/{monitor_id}/mentions.json?until={value}",
                 f"/monitors/{monitor_id}/series.csv?start={value}",
                 f"/monitors/{monitor_id}/series.json?end={value}",
                 f"/compare?monitors={monitor_id}&range=custom&start={value[:10]}&end={value[:10]}",
                 f"/compare?monitors={monitor_id}&start={value}&end={value}"):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)


def test_silence_ending_in_year_9999_is_a_422(client, admin):
    headers, monitor_id = admin
    response = client.post(f"/api/v1/monitors/{monitor_id}/silences", json={"ends_at": YEAR_9999}, headers=headers)
    assert response.status_code == 422 and response.json["detail"][0]["loc"] == "ends_at"


@pytest.mark.parametrize("path", [
    "/api/v1/monitors/{m}/series?source_id=" + HUGE_ID,
    "/api/v1/monitors/{m}/series/export?source_id=" + HUGE_ID,
    "/api/v1/monitors/" + HUGE_ID,
    "/api/v1/monitors/" + "9" * 40 + "/series",
    "/api/v1/rules/" + HUGE_ID,
    "/monitors/{m}/series.csv?source_id=" + HUGE_ID,
    "/monitors/{m}/mentions?source=" + HUGE_ID,
    "/monitors/" + HUGE_ID,
    "/admin/dead-letters/" + HUGE_ID,
])
def test_ids_beyond_64_bits_are_4xx(client, admin, path):
    headers, monitor_id = admin
    response = client.get(path.format(m=monitor_id), headers=headers)
    assert 400 <= response.status_code < 500, (path, response.status_code)


def test_integers_beyond_64_bits_in_bodies_are_400(client, admin):
    headers, monitor_id = admin
    response = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=headers, data=json.dumps(
        {"kind": "avg_sentiment", "window": "1h", "op": "<", "threshold": 0, "notifiers": [2**63]}),
        content_type="application/json")
    assert response.status_code == 422 and response.json["error"] == "validation_failed"
    assert response.json["detail"] == [{"loc": "notifiers.0", "msg": "notifiers.0 is an integer beyond 64 bits"}]


def test_nul_bytes_are_refused_everywhere(client, admin):
    headers, monitor_id = admin
    pushed = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=headers,
                         json=[mention(1), mention(2, "bad \x00 text")])
    assert pushed.status_code == 422 and pushed.json == {"error": "validation_failed", "detail": [
        {"loc": "1.text", "msg": "1.text contains a NUL byte", "index": 1, "field": "text",
         "reason": "1.text contains a NUL byte"}]}
    named = client.post("/api/v1/monitors", headers=headers, json={"name": "a\x00b", "query": "", "sources": []})
    assert named.status_code == 422 and named.json["detail"][0]["loc"] == "name"
    query = client.get(f"/api/v1/monitors/{monitor_id}/mentions?label=neg%00", headers=headers)
    assert query.status_code == 400 and query.json["error"] == "nul_byte" and "label" in query.json["detail"]
    page = client.get(f"/monitors/{monitor_id}/mentions?q=caf%00e")
    assert page.status_code == 400 and b"NUL byte" in page.data
    form = client.post("/monitors/new", data={"name": "x\x00", "query": ""})
    assert form.status_code == 400 and b"form field" in form.data


# --- every page route, hostile query strings ------------------------------------------------

HOSTILE_QUERIES = (
    {"start": YEAR_ONE, "end": YEAR_9999, "since": YEAR_ONE, "until": YEAR_9999, "range": "custom"},
    {"start": "9999-12-31", "end": "9999-12-31", "range": "custom", "bucket": "15m"},
    {"source_id": HUGE_ID, "source": HUGE_ID, "page": HUGE_ID, "limit": HUGE_ID, "offset": "-" + HUGE_ID,
     "monitors": HUGE_ID, "monitor": HUGE_ID, "rule_id": HUGE_ID, "id": HUGE_ID},
    {"q": "x" * 20_000, "page": "9" * 400, "min": "1e999", "max": "-1e999", "sort": "\u202e", "label": "x" * 5000},
    [("monitors", "1"), ("monitors", "2"), ("range", "7d"), ("range", "24h"), ("start", "a"), ("start", "b"),
     ("page", "1"), ("page", "x"), ("show", "replayed"), ("status", "sent"), ("status", "failed")],
    {"q": "(((((((((((( a", "since": "2026-02-30", "until": "nan", "min": "nan", "max": "inf", "page": "-1"},
)


def _page_paths(app, monitor_id):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static", "/vendor", "/metrics")):
            continue
        if "any(" in str(rule._trace) or any("Any" in c.__class__.__name__ for c in rule._converters.values()):
            for ext in ("csv", "json"):
                yield _fill(rule, monitor_id).replace(f"<any(csv, json):ext>", ext)
            continue
        yield _fill(rule, monitor_id)
        if rule.arguments:
            yield _fill(rule, HUGE_ID)


def test_every_page_route_survives_hostile_query_strings(app, client, admin):
    from urllib.parse import urlencode

    _, monitor_id = admin
    failures = []
    paths = sorted(set(_page_paths(app, monitor_id)))
    assert f"/monitors/{monitor_id}" in paths and "/compare" in paths and "/admin/pipeline" in paths
    for path in paths:
        for query in HOSTILE_QUERIES:
            try:
                status = client.get(f"{path}?{urlencode(query)}").status_code
            except Exception as exc:   # TESTING propagates what would be a 500
                status = f"{type(exc).__name__}: {str(exc)[:120]}"
            if not isinstance(status, int) or status >= 500:
                failures.append((path, HOSTILE_QUERIES.index(query), status))
    assert not failures, "\n".join(map(str, failures))


def test_a_fetched_items_time_out_of_range_becomes_the_fetch_time():
    from datetime import datetime, timezone

    from webapp.monitors.sources.items import make_item

    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    for odd in (datetime(1850, 1, 1, tzinfo=timezone.utc), datetime(1, 1, 1, 23, tzinfo=timezone.utc)):
        assert make_item("x", "text", published_at=odd, now=now).published_at is None
    assert make_item("x", "text", published_at=datetime(2026, 4, 1), now=now).published_at == \
        datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_backfill_days_out_of_range_are_a_message_and_the_cli_refuses_them(app, client, admin, runner):
    _, monitor_id = admin
    page = client.post(f"/monitors/{monitor_id}/backfill", data={"since": "2026-01-01", "until": "9999-12-31"})
    assert page.status_code < 500
    for bad in (YEAR_ONE, YEAR_9999, ""):
        result = runner.invoke(args=["backfill", str(monitor_id), "--since", bad])
        assert result.exit_code == 2 and "in range" in result.output and result.exception is None or \
            isinstance(result.exception, SystemExit), result.output


def test_every_api_get_route_survives_hostile_query_strings(app, client, admin):
    from urllib.parse import urlencode

    headers, monitor_id = admin
    failures = []
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and "GET" in r.methods]
    assert len(rules) > 10
    for rule in rules:
        for path in {_fill(rule, monitor_id), _fill(rule, HUGE_ID)}:
            for query in HOSTILE_QUERIES:
                try:
                    response = client.get(f"{path}?{urlencode(query)}", headers=headers)
                    status = response.status_code
                    if status >= 400:
                        assert response.json["error"], path   # the API's JSON error, always
                except Exception as exc:   # TESTING propagates what would be a 500
                    status = f"{type(exc).__name__}: {str(exc)[:120]}"
                if not isinstance(status, int) or status >= 500:
                    failures.append((path, HOSTILE_QUERIES.index(query), status))
    assert not failures, "\n".join(map(str, failures))


def test_pages_say_which_date_is_out_of_range(client, admin):
    _, monitor_id = admin
    page = client.get(f"/monitors/{monitor_id}/mentions?since=9999-12-31T23:59:59-12:00".replace("+", "%2B"))
    assert page.status_code == 400 and "since must be an ISO 8601 date or time" in page.get_data(as_text=True)
    dashboard = client.get(f"/monitors/{monitor_id}?range=custom&start=0001-01-01&end=0001-01-02")
    assert dashboard.status_code == 200 and "Dates must be from 1900 to 2199." in dashboard.get_data(as_text=True)
    export = client.get(f"/monitors/{monitor_id}/series.csv?start=0001-01-01T00:00:00%2B14:00")
    assert 400 <= export.status_code < 500
