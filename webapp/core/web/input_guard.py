"""The request edge's checks on raw input, made once for every route before any view runs.

- JSON nesting: a JSON body is scanned (strings skipped) and refused with 400 when it nests
  deeper than MAX_JSON_DEPTH, *before* it is parsed: a 2 KB body nested 1,000 deep would
  otherwise raise RecursionError inside the parser (or later, in code walking it).
- NUL bytes: refused, one way everywhere (400), in the path, the query string, form fields and
  every string (and key) of a JSON body. PostgreSQL cannot store them in text columns and no
  real monitor name, query, date or mention text holds one. (Fetched text is cleaned by the
  adapters instead: a feed is not a request we can answer.)
- Integers in JSON bodies must fit 64 bits (every id column, every count): a larger one is a
  400 naming where it is, never an overflow inside the database driver.

Under /api/ the answer is the API's JSON error: 400 for the body's depth and for NUL bytes in
the path or query, 422 `validation_failed` for a value of the body (a NUL byte in a string, an
integer beyond 64 bits) with `[{"loc", "msg"}]` as every 422 has, plus `index` and `field`
when the body is a list (a push's items). Elsewhere a plain 400 page says what and where.
"""
from __future__ import annotations

import re
from itertools import accumulate

from flask import Flask, request
from werkzeug.exceptions import BadRequest

MAX_JSON_DEPTH = 64
MAX_INT = 2**63 - 1

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class InputRefused(ValueError):
    """The request holds input that no view should see (the message says what and where)."""

    def __init__(self, error: str, detail: str, status: int = 400, where: str | None = None):
        super().__init__(detail)
        self.error, self.detail, self.status, self.where = error, detail, status, where

    def api_detail(self):
        """The JSON answer's detail: the message, or for a body value a 422's list of one."""
        if self.where is None:
            return self.detail
        first, _, rest = self.where.partition(".")
        entry = {"loc": self.where, "msg": self.detail}
        if first.isdigit():
            entry.update(index=int(first), field=rest.split(".")[0], reason=self.detail)
        return [entry]


def json_depth(body: bytes) -> int:
    """How deep `body` nests arrays and objects (brackets inside strings do not count)."""
    brackets = _STRINGS.sub(b"", body).translate(None, delete=bytes(
        c for c in range(256) if c not in _DEPTH_STEP))
    return max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def find_refused(value, where: str = "body") -> InputRefused | None:
    """The first NUL byte or out-of-range integer in a parsed JSON value, or None."""
    if isinstance(value, str):
        return _bad_value(where, "contains a NUL byte") if "\x00" in value else None
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if -MAX_INT <= value <= MAX_INT:
            return None
        return _bad_value(where, "is an integer beyond 64 bits")
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in pairs:
        if isinstance(key, str) and "\x00" in key:
            return _bad_value(where, "has a key that contains a NUL byte")
        found = find_refused(item, f"{key}" if where == "body" else f"{where}.{key}")
        if found:
            return found
    return None


def _bad_value(where: str, what: str) -> InputRefused:
    return InputRefused("validation_failed", f"{where} {what}", 422, where)


def check_request() -> None:
    """Raise InputRefused for a request that holds what no view should see."""
    if "\x00" in request.path:
        raise InputRefused("nul_byte", "the path contains a NUL byte")
    for name, values in request.args.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            raise InputRefused("nul_byte", f"the query parameter {name!r} contains a NUL byte")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.form.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                raise InputRefused("nul_byte", f"the form field {name!r} contains a NUL byte")
    if request.is_json:
        body = request.get_data(cache=True)
        if json_depth(body) > MAX_JSON_DEPTH:
            raise InputRefused("too_deep", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        parsed = request.get_json(silent=True)   # cached: views read this same value
        found = find_refused(parsed) if parsed is not None else None
        if found:
            raise found


def register(app: Flask) -> None:
    """Run `check_request` before every view (and before authentication: it reads no data)."""
    from flask import render_template

    @app.before_request
    def _guard():
        try:
            check_request()
        except InputRefused as exc:
            if request.path.startswith("/api/"):
                from webapp.core.api_errors import error_response

                return error_response(exc.status, exc.error, exc.api_detail())
            return render_template("bad_request.html", detail=exc.detail), 400
        except BadRequest:
            return None   # an unreadable body: the view answers it as it always has
        return None

