"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description, built from the pydantic schemas."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.schemas import MentionIn, MonitorIn, ScoreIn, ScoreOut, SourceIn

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _params(*specs) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": s, "description": d} for n, s, d in specs]


ERROR = {"description": "error", **_json(_ref("Error"))}
MONITOR_ID = {"name": "monitor_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def build_spec(extenders=()) -> dict:
    """The document: the core paths here, then each feature's `extend(schemas, paths)`."""
    _, defs = models_json_schema(
        [(m, "validation") for m in (ScoreIn, ScoreOut, SourceIn, MonitorIn, MentionIn)],
        ref_template=REF,
    )
    schemas = defs["$defs"]
    schemas["Error"] = {"type": "object", "required": ["error"],
                        "properties": {"error": {"type": "string"}, "detail": {}}}
    schemas["Bucket"] = {"type": "object", "properties": {
        "start": {"type": "string", "format": "date-time"}, "count": {"type": "integer"},
        "avg_compound": {"type": ["number", "null"]}, "positive": {"type": "integer"},
        "neutral": {"type": "integer"}, "negative": {"type": "integer"}}}
    schemas["Mention"] = {"type": "object", "properties": {
        "external_id": {"type": "string"}, "text": {"type": "string"}, "author": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]}, "source": {"type": "string"},
        "published_at": {"type": "string", "format": "date-time"}, "compound": {"type": "number"},
        "pos": {"type": "number"}, "neu": {"type": "number"}, "neg": {"type": "number"},
        "label": {"type": "string", "enum": ["positive", "neutral", "negative"]}}}
    bad = {"400": ERROR, "401": ERROR, "422": ERROR}
    paths = {
        "/healthz": {"get": {"summary": "Health check (no auth)", "security": [],
                             "responses": {"200": {"description": "the database is reachable"},
                                           "503": {"description": "the database is unreachable"}}}},
        "/api/v1/score": {"post": {
            "summary": "Score one text or up to 1,000 texts with VADER",
            "requestBody": {"required": True, **_json(_ref("ScoreIn"))},
            "responses": {"200": {"description": "scores (or {results: [...]} in input order)",
                                  **_json({"oneOf": [_ref("ScoreOut"), {"type": "object", "required": ["results"],
                                      "properties": {"results": {"type": "array", "items": _ref("ScoreOut")}}}]})},
                          **bad}}},
        "/api/v1/monitors": {
            "get": {"summary": "List monitors", "responses": {"200": {"description": "monitors"}, "401": ERROR}},
            "post": {"summary": "Create a monitor", "requestBody": {"required": True, **_json(_ref("MonitorIn"))},
                     "responses": {"201": {"description": "the new monitor"}, **bad}}},
        "/api/v1/monitors/{monitor_id}": {"get": {
            "summary": "One monitor", "parameters": [MONITOR_ID],
            "responses": {"200": {"description": "the monitor"}, "404": ERROR}}},
        "/api/v1/monitors/{monitor_id}/mentions": {
            "post": {"summary": "Push up to 5,000 mentions through the bus", "parameters": [MONITOR_ID],
                     "requestBody": {"required": True, **_json({"type": "array", "maxItems": 5000,
                                                                "items": _ref("MentionIn")})},
                     "responses": {"202": {"description": "accepted", **_json({"type": "object", "properties": {
                         "accepted": {"type": "integer"}}})}, "404": ERROR, **bad}},
            "get": {"summary": "Scored mentions, newest first", "parameters": [MONITOR_ID, *_params(
                ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"),
                ("offset", {"type": "integer", "minimum": 0, "default": 0}, "rows to skip"),
                ("since", {"type": "string", "format": "date-time"}, "published at or after"),
                ("until", {"type": "string", "format": "date-time"}, "published before"),
                ("label", {"type": "string", "enum": ["positive", "neutral", "negative"]}, "label filter"))],
                "responses": {"200": {"description": "a page of mentions", **_json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Mention")}, "total": {"type": "integer"}}})},
                    "404": ERROR, **bad}}},
        "/api/v1/monitors/{monitor_id}/series": {"get": {
            "summary": "Mentions and sentiment per time bucket, read from rollups",
            "parameters": [MONITOR_ID, *_params(
                ("bucket", {"type": "string", "enum": ["15m", "1h", "1d"], "default": "1h"}, "bucket size"),
                ("start", {"type": "string", "format": "date-time"}, "default: end minus 1 day / 7 days / 90 days"),
                ("end", {"type": "string", "format": "date-time"}, "default: now"),
                ("source_id", {"type": "integer"}, "one source only"))],
            "responses": {"200": {"description": "buckets, oldest first", **_json({"type": "object", "properties": {
                "buckets": {"type": "array", "items": _ref("Bucket")}}})}, "404": ERROR, **bad}}},
        "/api/v1/scorers": {"get": {
            "summary": "Scorers a monitor can choose: vader, model:<name>, ensemble:<name>",
            "responses": {"200": {"description": "scorers, trained ones with version and hold-out metrics",
                                  **_json({"type": "object", "properties": {
                                      "items": {"type": "array", "items": {"type": "object"}},
                                      "default": {"type": "string"}}})}, "401": ERROR}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    }
    for extend in extenders:
        extend(schemas, paths)
    _document_auth_errors(paths)
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

