"""The OpenAPI part of ingest: pushing mentions through the bus."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, REF, _json, _ref
from webapp.ingest.schemas import MentionIn


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add POST /monitors/{id}/mentions and the shape of a pushed mention."""
    _, defs = models_json_schema([(MentionIn, "validation")], ref_template=REF)
    spec_schemas.update(defs["$defs"])
    bad = BAD
    spec_paths.setdefault("/api/v1/monitors/{monitor_id}/mentions", {}).update({
        "post": {"summary": "Push up to 5,000 mentions through the bus", "parameters": [MONITOR_ID],
                 "requestBody": {"required": True, **_json({"type": "array", "maxItems": 5000,
                                                            "items": _ref("MentionIn")})},
                 "responses": {"202": {"description": "accepted", **_json({"type": "object", "properties": {
                     "accepted": {"type": "integer"}}})}, "404": ERROR, **bad}}
    })
