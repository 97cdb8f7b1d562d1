"""The page frame's URLs (base.html) are url_for's, built once per app and script root: the same
links under the app's root and under a prefix it is mounted at, the vendored script's version."""
from __future__ import annotations

import re

from flask import url_for

from tests.helpers import make_user
from webapp.core.web.frame_urls import frame_url

FRAME = [("static", "css/app.css"), ("static", "js/localtime.js"), ("monitors.index", None),
         ("auth.logout", None), ("vendor.plotly_js", None), ("teams.account", None)]


def test_frame_urls_are_url_for_per_script_root(app):
    for root in ("", "/sentimon", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            for endpoint, filename in FRAME:
                wanted = url_for(endpoint, filename=filename) if filename else url_for(endpoint)
                assert frame_url(endpoint, filename) == wanted
                assert wanted.startswith(root + "/")
            assert "?v=" in frame_url("vendor.plotly_js")


def test_pages_link_under_their_script_root(app):
    make_user(app, email="frame@example.com", password="frame password")
    client = app.test_client()
    assert client.post("/login", data={"email": "frame@example.com", "password": "frame password"}).status_code == 302
    for root in ("/mounted", ""):
        page = client.get("/", base_url=f"http://localhost{root}").get_data(as_text=True)
        links = re.findall(r'(?:href|src|action)="([^"]+)"', page)
        assert f'href="{root}/static/css/app.css"' in page and f'action="{root}/logout"' in page
        assert all(link.startswith(root + "/") for link in links if link.startswith("/")), links
