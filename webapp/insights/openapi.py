"""The OpenAPI part of insights: the series of a monitor, read from rollups."""
from __future__ import annotations

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, _json, _params, _ref


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/series and its Bucket."""
    spec_schemas["Bucket"] = {"type": "object", "properties": {
        "start": {"type": "string", "format": "date-time"}, "count": {"type": "integer"},
        "avg_compound": {"type": ["number", "null"]}, "positive": {"type": "integer"},
        "neutral": {"type": "integer"}, "negative": {"type": "integer"}}}
    bad = BAD
    spec_paths.update({
        "/api/v1/monitors/{monitor_id}/series": {"get": {
            "summary": "Mentions and sentiment per time bucket, read from rollups",
            "parameters": [MONITOR_ID, *_params(
                ("bucket", {"type": "string", "enum": ["15m", "1h", "1d"], "default": "1h"}, "bucket size"),
                ("start", {"type": "string", "format": "date-time"}, "default: end minus 1 day / 7 days / 90 days"),
                ("end", {"type": "string", "format": "date-time"}, "default: now"),
                ("source_id", {"type": "integer"}, "one source only"))],
            "responses": {"200": {"description": "buckets, oldest first", **_json({"type": "object", "properties": {
                "buckets": {"type": "array", "items": _ref("Bucket")}}})}, "404": ERROR, **bad}}},
    })
