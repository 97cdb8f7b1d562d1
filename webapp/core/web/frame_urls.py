"""The URLs of the page frame (templates/base.html: its stylesheets and scripts, the top bar's
links), built by url_for once per app and script root instead of a dozen times on every page.
They hold no value of the request: only the endpoint, a static file's name and where the app is
mounted (`request.script_root`); url_defaults (the vendored scripts' `?v=`) are fixed per process.
"""
from __future__ import annotations

from flask import current_app, request, url_for

_KEY = "sentimon.frame_urls"
_MOST = 256    # script roots are few (the server's); bounded anyway


def frame_url(endpoint: str, filename: str | None = None) -> str:
    """`url_for(endpoint)` (with `filename` for static files), remembered per app and script root."""
    found = current_app.extensions.setdefault(_KEY, {})
    key = (request.script_root, endpoint, filename)
    url = found.get(key)
    if url is None:
        if len(found) >= _MOST:
            found.clear()
        url = found[key] = url_for(endpoint, filename=filename) if filename is not None else url_for(endpoint)
    return url
