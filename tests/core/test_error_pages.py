"""Styled error pages (404, 403, 405, 500) that extend base.html; JSON stays JSON under /api/."""
from __future__ import annotations

from flask import abort

from tests.helpers import make_user


def test_pages_are_styled_and_the_api_stays_json(app, client):
    outside = client.get("/no/such/page")
    assert outside.status_code == 404 and outside.mimetype == "text/html"
    body = outside.get_data(as_text=True)
    assert "Page not found" in body and "css/app.css" in body and 'data-status="404"' in body

    make_user(app, email="v@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "v@example.com", "password": "viewer password"})
    missing = client.get("/monitors/424242")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    assert "Sign out" in missing.get_data(as_text=True)   # the site's own frame, signed in
    forbidden = client.get("/monitors/new")
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.get_data(as_text=True)
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405 and "Not allowed here" in wrong_method.get_data(as_text=True)

    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json and api.get_json()["error"] == "not_found"
    api_method = client.put("/api/v1/monitors")
    assert api_method.status_code == 405 and api_method.is_json


def test_a_crash_is_a_styled_500_page_and_json_under_the_api(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-page")
    def _boom_page():
        raise RuntimeError("secret internals")

    @app.get("/api/v1-boom")
    def _boom_api():
        raise RuntimeError("secret internals")

    @app.get("/gone")
    def _gone():
        abort(404)

    client = app.test_client()
    page = client.get("/boom-page")
    assert page.status_code == 500 and "Something went wrong on our side" in page.get_data(as_text=True)
    assert "secret internals" not in page.get_data(as_text=True)
    api = client.get("/api/v1-boom")
    assert api.status_code == 500 and api.get_json()["error"] == "internal_server_error"
    assert "secret internals" not in api.get_data(as_text=True)
    assert "Page not found" in client.get("/gone").get_data(as_text=True)
