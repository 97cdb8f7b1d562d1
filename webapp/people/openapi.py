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
    _teams(spec_schemas, spec_paths)


def _teams(spec_schemas: dict, spec_paths: dict) -> None:
    """GET/POST /teams, POST /teams/{team_id}/members, DELETE /teams/{team_id}/members/{user_id}."""
    spec_schemas["Team"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "time_zone": {"type": "string"},
        "role": {"type": "string", "enum": ["viewer", "editor", "owner"]}}}
    spec_schemas["TeamIn"] = {"type": "object", "required": ["name"], "additionalProperties": False,
                              "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 120}}}
    spec_schemas["MemberIn"] = {"type": "object", "required": ["email"], "additionalProperties": False,
                                "properties": {"email": {"type": "string", "maxLength": 254},
                                               "role": {"type": "string", "enum": ["viewer", "editor", "owner"],
                                                        "default": "editor"}}}
    team_id = {"name": "team_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    user_id = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    spec_paths["/api/v1/teams"] = {
        "get": {"summary": "Your teams with your role (every team for installation admins)",
                "responses": {"200": {"description": "teams", **_json({"type": "array", "items": _ref("Team")})},
                              "401": ERROR}},
        "post": {"summary": "Create a team; you become its owner",
                 "requestBody": {"required": True, **_json(_ref("TeamIn"))},
                 "responses": {"201": {"description": "the team", **_json(_ref("Team"))},
                               "401": ERROR, "422": ERROR}}}
    spec_paths["/api/v1/teams/{team_id}/members"] = {"post": {
        "summary": "Add an existing user to the team (or change their role); owners and admins",
        "parameters": [team_id], "requestBody": {"required": True, **_json(_ref("MemberIn"))},
        "responses": {"201": {"description": "the membership"}, "401": ERROR, "403": ERROR, "404": ERROR,
                      "409": ERROR, "422": ERROR}}}
    spec_paths["/api/v1/teams/{team_id}/members/{user_id}"] = {"delete": {
        "summary": "Remove a member (never the last owner); owners and admins",
        "parameters": [team_id, user_id],
        "responses": {"204": {"description": "removed"}, "401": ERROR, "403": ERROR, "404": ERROR,
                      "409": ERROR}}}
