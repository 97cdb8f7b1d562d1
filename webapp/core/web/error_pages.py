"""Error answers outside the views: JSON under /api/, a page of the site (base.html) elsewhere.

Routing errors (404/405) never reach a blueprint's handlers, and `abort(403)` / `abort(404)` in
a page view would otherwise show Werkzeug's bare HTML; a crash (500) shows a page that says
nothing was lost and how to go on. If the page itself cannot be drawn (the database is down,
so base.html cannot ask who is signed in) a plain one is sent instead.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PAGES = {
    400: ("That request was refused", "Nothing was changed: go back and correct it."),
    403: ("Not allowed", "Your role does not allow this. Ask an owner of the team or an admin."),
    404: ("Page not found", "There is nothing here, or it is not yours to see. It may have been deleted."),
    405: ("Not allowed here", "This address does not accept that kind of request."),
    500: ("Something went wrong on our side", "The error is logged. Nothing you sent was lost: "
                                              "try again in a moment, or go back to your monitors."),
}


def _status(exc) -> int:
    return exc.code if isinstance(exc, HTTPException) and exc.code in PAGES else 500


def error_answer(exc):
    """The answer to `exc` for this request: the API's JSON error, else a styled page."""
    status = _status(exc)
    if request.path.startswith("/api/"):
        from webapp.core.api_errors import error_response

        name = exc.name if isinstance(exc, HTTPException) else "Internal Server Error"
        detail = exc.description if isinstance(exc, HTTPException) and status != 500 else "internal error"
        return error_response(status, name.lower().replace(" ", "_"), detail)
    title, advice = PAGES[status]
    try:
        return render_template("error.html", status=status, title=title, advice=advice), status
    except Exception:  # noqa: BLE001 - the page of last resort must not fail in turn
        log.exception("the error page could not be rendered")
        return (f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
                f"<p>{escape(advice)}</p><p><a href='/'>Back to the monitors</a></p>"), status


def register(app: Flask) -> None:
    for code in (403, 404, 405):
        app.register_error_handler(code, error_answer)
    app.register_error_handler(InternalServerError, error_answer)
