"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description's frame and shared pieces.

Each feature's `openapi.py` has an `extend(schemas, paths)` that adds its operations and request
shapes (built from its pydantic models); `create_app` lists them (webapp.api_parts)."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema


REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _params(*specs) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": s, "description": d} for n, s, d in specs]


ERROR = {"description": "error", **_json(_ref("Error"))}
BAD = {"400": ERROR, "401": ERROR, "422": ERROR}
MONITOR_ID = {"name": "monitor_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def build_spec(extenders=()) -> dict:
    """The document: the shared schemas (errors, the mention resource), then each feature's part."""
    schemas: dict = {}
    schemas["Error"] = {"type": "object", "required": ["error"],
                        "properties": {"error": {"type": "string"}, "detail": {}}}
    schemas["Mention"] = {"type": "object", "properties": {
        "external_id": {"type": "string"}, "text": {"type": "string"}, "author": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]}, "source": {"type": "string"},
        "published_at": {"type": "string", "format": "date-time"}, "compound": {"type": ["number", "null"]},
        "pos": {"type": ["number", "null"]}, "neu": {"type": ["number", "null"]}, "neg": {"type": ["number", "null"]},
        "label": {"type": ["string", "null"], "enum": ["positive", "neutral", "negative", None],
                  "description": "null when no scorer of the monitor reads the mention's language"},
        # insights (docs/insights-authors-languages.md)
        "lang": {"type": "string", "description": "ISO 639-1 code or und"},
        "scored": {"type": "boolean"}, "mixed": {"type": "boolean"},
        "reach": {"type": ["integer", "null"]}, "engagement": {"type": ["integer", "null"]},
        "influence": {"type": "number", "minimum": 0, "maximum": 10}}}
    paths = {
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    }
    for extend in extenders:
        extend(schemas, paths)
    _document_auth_errors(paths)
    _document_input_guard(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sentimon API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


def _document_auth_errors(paths: dict) -> None:
    """Every operation behind the bearer token can answer 401 (found by schemathesis): say so."""
    for item in paths.values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete") and operation.get("security") != []:
                operation.setdefault("responses", {}).setdefault("401", ERROR)


def _document_input_guard(paths: dict) -> None:
    """Every operation can answer 400 (a NUL byte in its path or query; a body that is not JSON
    or nests too deep) and every one with a body 422 (a NUL byte or an integer beyond 64 bits in
    it): core/web/input_guard.py checks each request before any view."""
    for item in paths.values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", ERROR)
                if "requestBody" in operation:
                    responses.setdefault("422", ERROR)
