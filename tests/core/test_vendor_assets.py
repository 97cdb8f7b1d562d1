"""Large browser assets: plotly.js and Swagger UI from installed packages, gzip-compressed for
browsers that accept it, cached for a year under their versioned URL; the /api/docs page."""
from __future__ import annotations

import gzip
import re

from webapp.core import vendor


def test_plotly_is_gzip_compressed_and_immutable_under_its_versioned_url(app, client):
    with app.test_request_context():
        from flask import url_for
        url = url_for("vendor.plotly_js")
    version = vendor.plotly_dir()[1]
    assert url == f"/vendor/plotly.min.js?v={version}"
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers and len(plain.data) > 3_000_000
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and len(packed.data) < len(plain.data) / 2.5
    assert gzip.decompress(packed.data) == plain.data
    assert "immutable" in packed.headers["Cache-Control"] and "max-age=31536000" in packed.headers["Cache-Control"]
    assert "Accept-Encoding" in packed.headers["Vary"] and packed.headers["Content-Type"].startswith("text/javascript")
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    old = client.get("/vendor/plotly.min.js?v=0.0.1", headers={"Accept-Encoding": "gzip"})
    assert old.status_code == 200 and "immutable" not in old.headers["Cache-Control"]


def test_swagger_assets_and_only_those(client):
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/vendor/swagger-ui/{name}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    for bad in ("index.html", "..%2F..%2Fsecret_key", "swagger-initializer.js", "x" * 500):
        assert client.get(f"/vendor/swagger-ui/{bad}").status_code == 404


def test_api_docs_page_uses_local_assets_and_the_spec(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(s.startswith("/") for s in sources), sources          # nothing from another host
    assert "<script>" not in html and "/vendor/swagger-ui/swagger-ui-bundle.js?v=" in html
    assert client.get("/api/v1/openapi.json").status_code == 200
