"""Pages through the Flask test client: login, monitor form, dashboard, mentions, classify."""
from __future__ import annotations

import json
import re

import pytest


from tests.helpers import app_config, make_user, migrated_app
from tests.helpers import mention, new_monitor


def test_pages_need_login(client):
    for path in ("/", "/monitors/new", "/classify", "/monitors/1", "/monitors/1/mentions"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_errors_and_success(app, client):
    make_user(app, email="a@example.com", password="right password")
    bad = client.post("/login", data={"email": "a@example.com", "password": "wrong"})
    assert bad.status_code == 400 and b"Wrong email or password" in bad.data
    missing = client.post("/login", data={"email": "not-an-email", "password": ""})
    assert missing.status_code == 400 and b"error" in missing.data
    good = client.post("/login?next=//evil.example/x", data={"email": "A@example.com", "password": "right password"})
    assert good.status_code == 302 and good.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_new_monitor_form_shows_errors(logged_in):
    response = logged_in.post("/monitors/new", data={"name": "", "query": "acme AND (", "every": "300"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "This field is required" in text
    assert "position" in text  # the query error points at the problem
    response = logged_in.post("/monitors/new", data={"name": "x", "rss_urls": "ftp://example.com/feed",
                                                      "every": "300"})
    assert response.status_code == 400 and "ftp://example.com/feed" in response.get_data(as_text=True)
    response = logged_in.post("/monitors/new", data={"name": "x", "every": "5"})
    assert response.status_code == 400


def test_create_monitor_through_the_form(logged_in):
    response = logged_in.post("/monitors/new", data={
        "name": "Acme", "query": '"acme rocket" OR acme', "demo": "y", "every": "600",
        "rss_urls": "https://example.com/a.xml\nhttps://example.org/b.xml\n"})
    assert response.status_code == 302
    page = logged_in.get(response.headers["Location"])
    assert page.status_code == 200
    listing = logged_in.get("/").get_data(as_text=True)
    assert "Acme" in listing and listing.count('class="tag">rss') == 2


def test_dashboard_renders_charts_from_rollups(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app, name="Charts")
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions",
                   json=[mention(i) for i in range(12)], headers=auth)
    drain()
    for query in ("", "?range=24h&bucket=15m", "?range=90d&bucket=1d", "?range=bogus&bucket=bogus",
                  "?range=90d&bucket=15m"):
        page = logged_in.get(f"/monitors/{monitor_id}{query}")
        assert page.status_code == 200
    html = logged_in.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    assert 'id="total-count">12<' in html
    figures = re.findall(r'<script type="application/json" id="figure-(\w+)">(.*?)</script>', html, re.S)
    assert {name for name, _ in figures} >= {"volume", "sentiment"}
    volume = json.loads(dict(figures)["volume"])
    assert sum(sum(t["y"]) for t in volume["data"]) == 12
    assert "/vendor/plotly.min.js" in html
    assert logged_in.get("/monitors/999").status_code == 404


def test_mentions_page_filters_and_escapes(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app)
    items = [mention(1, "I love it <script>alert(1)</script>"), mention(2, "I hate it"),
             mention(3, "bad link", url="javascript:alert(1)")]
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    drain()
    html = logged_in.get(f"/monitors/{monitor_id}/mentions").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'href="javascript:' not in html
    negative = logged_in.get(f"/monitors/{monitor_id}/mentions?label=negative").get_data(as_text=True)
    # the words that drove the score are highlighted: "I <mark ...>hate</mark> it"
    assert ">hate</mark> it" in negative and ">love</mark> it" not in negative


def test_classify_page(logged_in):
    response = logged_in.post("/classify", data={"text": "I love this place! The food is amazing."})
    assert response.status_code == 200 and 'id="compound">0.8516<' in response.get_data(as_text=True)
    assert logged_in.post("/classify", data={"text": ""}).status_code == 400


def test_plotly_is_served_locally_and_headers_are_set(client):
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and len(response.data) > 1_000_000
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_viewer_cannot_open_the_new_monitor_form(app, client):
    make_user(app, email="v@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "v@example.com", "password": "viewer password"})
    assert client.get("/").status_code == 200
    assert client.get("/monitors/new").status_code == 403


def test_forms_are_csrf_protected(tmp_path):
    with migrated_app({**app_config(tmp_path), "WTF_CSRF_ENABLED": True}) as app:
        forms_are_csrf_protected(app)


def forms_are_csrf_protected(app):
    make_user(app, email="c@example.com", password="csrf password")
    client = app.test_client()
    response = client.post("/login", data={"email": "c@example.com", "password": "csrf password"})
    assert response.status_code == 400  # no token: refused
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "c@example.com", "password": "csrf password",
                                           "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/monitors/abc", "/nothing-here"])
def test_page_404s(logged_in, path):
    assert logged_in.get(path).status_code == 404
