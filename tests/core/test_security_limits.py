"""Limits on every input, each breach a clear 4xx: body size, batch sizes, field lengths, query
complexity (length, terms, nesting)."""
from __future__ import annotations

import json

import pytest

from webapp.core.extensions import db
from webapp.core import query as query_language

from tests.helpers import app_config, make_user, migrated_app
from tests.helpers import mention, new_monitor


def assert_error(response, status: int, *needles: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error", "detail"}, body
    text = json.dumps(body)
    for needle in needles:
        assert needle in text, (needle, body)
    return body


# -- body size --------------------------------------------------------------------------------

@pytest.fixture
def small_app(tmp_path):
    with migrated_app({**app_config(tmp_path), "MAX_CONTENT_LENGTH": 10_000}) as app:
        yield app


def test_a_body_over_max_content_length_is_413_json_for_the_api_and_a_page_for_forms(small_app):
    from webapp.people.auth import create_token
    from webapp.people.models import User

    make_user(small_app, email="e@example.com", password="e password")
    with small_app.app_context():
        auth = {"Authorization": f"Bearer {create_token(db.session.execute(db.select(User)).scalar_one())}"}
    client = small_app.test_client()
    big = json.dumps({"text": "x" * 20_000})
    assert_error(client.post("/api/v1/score", data=big, content_type="application/json", headers=auth),
                 413, "10000 bytes")
    monitor_id, _ = new_monitor(small_app)
    assert_error(client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth,
                             json=[mention(i) for i in range(500)]), 413)
    page = client.post("/login", data={"email": "e@example.com", "password": "p" * 20_000})
    assert page.status_code == 413 and b"too large" in page.data and b"MAX_CONTENT_LENGTH" in page.data
    assert page.headers["Content-Type"].startswith("text/html")
    # Under the limit all is as usual.
    assert client.post("/api/v1/score", json={"text": "fine"}, headers=auth).status_code == 200


# -- batch sizes ------------------------------------------------------------------------------

def test_batch_sizes_are_capped(app, client, auth):
    assert client.post("/api/v1/score", headers=auth, json={"texts": ["ok"] * 1000}).status_code == 200
    assert_error(client.post("/api/v1/score", headers=auth, json={"texts": ["ok"] * 1001}), 422,
                 "texts", "1000")
    monitor_id, _ = new_monitor(app)
    items = [{"external_id": f"m{i}", "text": "t"} for i in range(5001)]
    assert_error(client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=items), 422, "5000")
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth,
                       json=items[:5000]).status_code == 202
    assert_error(client.post("/api/v1/score", headers=auth, json={"texts": []}), 422)


# -- field lengths ----------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, where", [
    ("text", "x" * 20_001, "text"),
    ("author", "a" * 256, "author"),
    ("url", "https://example.com/" + "p" * 2030, "url"),
    ("external_id", "e" * 513, "external_id"),
])
def test_pushed_mention_fields_are_capped(app, client, auth, field, value, where):
    monitor_id, _ = new_monitor(app)
    item = {"external_id": "m1", "text": "fine", field: value}
    assert_error(client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[item]), 422, where)


def test_single_score_text_and_monitor_fields_are_capped(app, client, auth):
    assert_error(client.post("/api/v1/score", headers=auth, json={"text": "x" * 20_001}), 422, "text")
    assert_error(client.post("/api/v1/monitors", headers=auth, json={"name": "n" * 121, "query": ""}), 422, "name")
    assert_error(client.post("/api/v1/monitors", headers=auth,
                             json={"name": "n", "query": "a " * 1001}), 422, "query")
    assert_error(client.post("/api/v1/monitors", headers=auth,
                             json={"name": "n", "sources": [{"kind": "demo"}] * 51}), 422, "sources")


def test_monitor_form_fields_are_capped(app, logged_in):
    answer = logged_in.post("/monitors/new", data={"name": "n" * 121, "query": "acme", "demo": "y", "every": "300"})
    assert answer.status_code == 400 and b"120" in answer.data
    answer = logged_in.post("/monitors/new", data={"name": "ok", "query": "q " * 1001, "demo": "y", "every": "300"})
    assert answer.status_code == 400 and b"2000" in answer.data


# -- query complexity -------------------------------------------------------------------------

def test_query_complexity_limits_in_the_compiler():
    many = " OR ".join(f"w{i}" for i in range(query_language.MAX_TERMS + 1))
    deep = "(" * (query_language.MAX_DEPTH + 1) + "acme" + ")" * (query_language.MAX_DEPTH + 1)
    for bad, message in ((many, "too many terms"), (deep, "nested more than"),
                         ("a" * (query_language.MAX_QUERY_LENGTH + 1), "longer than")):
        with pytest.raises(query_language.QueryError, match=message):
            query_language.compile_query(bad)
    ok_deep = "(" * query_language.MAX_DEPTH + "acme" + ")" * query_language.MAX_DEPTH
    assert query_language.compile_query(ok_deep).matches("ACME rocks")
    assert query_language.compile_query("NOT " * 400 + "acme") is not None   # flattened, no recursion blow-up


def test_query_complexity_breaches_are_clear_4xx_in_the_api(app, client, auth):
    many = " OR ".join(f"w{i}" for i in range(query_language.MAX_TERMS + 1))
    deep = "(" * (query_language.MAX_DEPTH + 1) + "acme" + ")" * (query_language.MAX_DEPTH + 1)
    for bad, needle in ((many, "too many terms"), (deep, "nested more than")):
        answer = client.post("/api/v1/monitors", headers=auth, json={"name": "n", "query": bad})
        assert answer.status_code in (400, 422) and needle in answer.get_data(as_text=True), answer.get_json()
    monitor_id, _ = new_monitor(app)
    answer = client.post(f"/api/v1/monitors/{monitor_id}/preview", headers=auth, json={"query": deep})
    assert answer.status_code in (400, 422) and "nested more than" in answer.get_data(as_text=True)


def test_ids_too_large_for_a_column_are_404_on_pages_and_api(logged_in, auth):
    huge = "9" * 25
    for path in (f"/monitors/{huge}", f"/monitors/{huge}/mentions", f"/monitors/{huge}/rules"):
        assert logged_in.get(path).status_code == 404, path
    assert logged_in.get(f"/api/v1/monitors/{huge}/series", headers=auth).status_code == 404


def test_a_post_to_a_huge_id_is_404_not_405(client, auth):
    response = client.post(f"/api/v1/monitors/{'9' * 30}/rules", headers=auth, json={"kind": "volume_spike"})
    assert response.status_code == 404 and response.get_json()["error"]
