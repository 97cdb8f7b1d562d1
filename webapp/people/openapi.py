"""The OpenAPI part of API tokens (merged into build_spec's document)."""
from __future__ import annotations

from webapp.core.openapi import ERROR, _json, _ref


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /tokens and DELETE /tokens/{token_id}."""
    when = {"type": ["string", "null"], "format": "date-time"}
    spec_schemas["Token"] = {"type": "object", "description": "an API token; never its secret or hash",
                             "properties": {
                                 "id": {"type": "integer"}, "user_id": {"type": "integer"},
                                 "user": {"type": ["string", "null"]}, "name": {"type": "string"},
                                 "prefix": {"type": "string"}, "created_at": when,
                                 "last_used_at": when, "revoked_at": when}}
    token_id = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    spec_paths["/api/v1/tokens"] = {"get": {
        "summary": "Your API tokens (admins: all=1 for everyone's), newest first",
        "parameters": [{"name": "all", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}],
        "responses": {"200": {"description": "tokens", **_json({"type": "array", "items": _ref("Token")})},
                      "401": ERROR}}}
    spec_paths["/api/v1/tokens/{token_id}"] = {"delete": {
        "summary": "Revoke a token (yours; admins: anyone's); it stops working at once",
        "parameters": [token_id],
        "responses": {"200": {"description": "the revoked token", **_json(_ref("Token"))},
                      "401": ERROR, "404": ERROR}}}
