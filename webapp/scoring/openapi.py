"""The OpenAPI part of scoring: score any text, list the scorers a monitor can choose."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, REF, _json, _ref
from webapp.scoring.schemas import ScoreIn, ScoreOut


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add POST /score, GET /scorers and their shapes."""
    _, defs = models_json_schema([(m, "validation") for m in (ScoreIn, ScoreOut)], ref_template=REF)
    spec_schemas.update(defs["$defs"])
    bad = BAD
    spec_paths.update({
        "/api/v1/score": {"post": {
            "summary": "Score one text or up to 1,000 texts with VADER",
            "requestBody": {"required": True, **_json(_ref("ScoreIn"))},
            "responses": {"200": {"description": "scores (or {results: [...]} in input order)",
                                  **_json({"oneOf": [_ref("ScoreOut"), {"type": "object", "required": ["results"],
                                      "properties": {"results": {"type": "array", "items": _ref("ScoreOut")}}}]})},
                          **bad}}},
        "/api/v1/scorers": {"get": {
            "summary": "Scorers a monitor can choose: vader, model:<name>, ensemble:<name>",
            "responses": {"200": {"description": "scorers, trained ones with version and hold-out metrics",
                                  **_json({"type": "object", "properties": {
                                      "items": {"type": "array", "items": {"type": "object"}},
                                      "default": {"type": "string"}}})}, "401": ERROR}}},
        "/api/v1/monitors/{monitor_id}/language-scorers": {"put": {
            "summary": "Trained scorers for other languages ({\"fr\": \"model:<name>\"}); mentions in a "
                       "language no scorer reads are stored unscored",
            "parameters": [MONITOR_ID],
            "requestBody": {"required": True, **_json({"type": "object", "maxProperties": 50,
                                                        "additionalProperties": {"type": "string"}})},
            "responses": {"200": {"description": "the monitor's language scorers", **_json({
                "type": "object", "properties": {"language_scorers": {"type": "object"}}})},
                "404": ERROR, **bad}}},
    })
