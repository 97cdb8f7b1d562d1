"""The OpenAPI part of spike attribution (attribution/api.py)."""
from __future__ import annotations

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, _json, _params

_GROUP = {"type": "array", "items": {"type": "object", "properties": {
    "value": {"type": "string"}, "count": {"type": "integer"},
    "share": {"type": "number", "description": "share of the excess (of the mentions when there is none), 0-1"}}}}


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/attribution and its Attribution."""
    spec_schemas["Attribution"] = {"type": "object", "properties": {
        "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
        "count": {"type": "integer"}, "baseline": {"type": ["number", "null"]},
        "baseline_method": {"type": ["string", "null"], "enum": ["hour_of_week", "trailing_7d", None]},
        "excess": {"type": "number", "description": "max(count - baseline, 0)"},
        "sampled": {"type": "boolean", "description": "more mentions than were read; counts are scaled"},
        "summary": {"type": "string", "description": "e.g. '61 % of the excess is one story repeated on 40 sites'"},
        "sources": _GROUP, "authors": _GROUP, "domains": _GROUP,
        "clusters": {"type": "array", "items": {"type": "object", "properties": {
            "count": {"type": "integer"}, "sites": {"type": "integer"}, "example": {"type": "string"},
            "share": {"type": "number"}}}},
        "terms": {"type": "array", "items": {"type": "object", "properties": {
            "term": {"type": "string"}, "count": {"type": "integer"}, "previous": {"type": "integer"},
            "rising": {"type": "number"}}}}}}
    spec_paths["/api/v1/monitors/{monitor_id}/attribution"] = {"get": {
        "summary": "What a time bucket's volume over its baseline is made of (spike attribution)",
        "parameters": [MONITOR_ID, *_params(
            ("bucket", {"type": "string", "enum": ["15m", "1h", "1d"], "default": "1h"}, "bucket size")),
            {**_params(("start", {"type": "string", "format": "date-time"}, "a time in the bucket"))[0],
             "required": True}],
        "responses": {"200": {"description": "the attribution", **_json({"$ref": "#/components/schemas/Attribution"})},
                      "404": ERROR, **BAD}}}
