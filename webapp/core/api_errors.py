"""JSON errors for the API: `{"error": code, "detail": ...}` with a fitting 4xx, never a 500 for bad input."""
from __future__ import annotations

from datetime import timezone
from typing import Annotated

from flask import jsonify, request
from pydantic import Field, ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail=None):
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


MAX_ID = 2**63 - 1   # the largest BIGINT (SQLite and PostgreSQL alike)

DbId = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
"""An id in an API shape (query parameter or body field): beyond 64 bits is a 422 naming the
field, never an integer the database driver refuses to bind (a 500)."""


def get_or_404(model, object_id: int, what: str):
    """The row of `model` with this id, or a JSON 404 naming what was not found."""
    from webapp.core.extensions import db

    # ids beyond a 64-bit integer cannot exist, and the drivers refuse to bind them (a 500)
    found = db.session.get(model, object_id) if -MAX_ID <= object_id <= MAX_ID else None
    if found is None:
        raise ApiError(404, "not_found", f"no {what} with id {object_id}")
    return found


def error_response(status: int, error: str, detail=None):
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


def validation_detail(exc: ValidationError) -> list[dict]:
    return [
        {"loc": ".".join(str(p) for p in err["loc"]), "msg": err["msg"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def json_body():
    """The request's JSON body, or an ApiError 400/415 explaining what is wrong with it."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    try:   # the input guard (core/web/input_guard.py) bounded the depth already; never a 500 here
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    if body is None:
        raise ApiError(400, "invalid_json", "the body is not valid JSON")
    return body


def query_params(model):
    """The request's query string read by the pydantic `model`; a 400 `invalid_parameters`
    naming each bad parameter (a body's bad field is a 422, see `register`)."""
    from flask import request

    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(400, "invalid_parameters", validation_detail(exc)) from None


def aware(ts):
    """Query times without a zone are taken as UTC."""
    if ts is not None and ts.tzinfo is None:
        return ts.replace(tzinfo=timezone.utc)
    return ts


def register(bp) -> None:
    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.error, exc.detail)

    @bp.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        return error_response(422, "validation_failed", validation_detail(exc))

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error_response(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description)
