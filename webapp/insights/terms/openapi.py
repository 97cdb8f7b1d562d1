"""The OpenAPI part of the terms API (terms/api.py)."""
from __future__ import annotations

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, _json, _params, _ref

RANGE = ("range", {"type": "string", "enum": ["24h", "7d", "30d", "90d"], "default": "7d"},
         "the period, compared with the period of the same length before it")


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/terms and its Term."""
    spec_schemas["Term"] = {"type": "object", "properties": {
        "term": {"type": "string", "description": "a word, #hashtag or 2-3-word phrase, lower-case"},
        "count": {"type": "integer", "description": "mentions holding it in the period"},
        "previous": {"type": "integer", "description": "mentions holding it in the period before"},
        "rising": {"type": "number", "description": "z-score of the weighted log-odds of its share, "
                                                     "period against the period before (higher = more unusual)"},
        "avg_compound": {"type": ["number", "null"], "description": "average sentiment of those mentions"}}}
    spec_paths["/api/v1/monitors/{monitor_id}/terms"] = {"get": {
        "summary": "Words and short phrases of a period, top or rising, read from term rollups",
        "parameters": [MONITOR_ID, *_params(
            RANGE,
            ("sort", {"type": "string", "enum": ["rising", "count"], "default": "rising"},
             "rising: grew unusually against the period before (z > 0); count: most mentioned"),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "how many terms"))],
        "responses": {"200": {"description": "the terms", **_json({"type": "object", "properties": {
            "complete": {"type": "boolean", "description": "false: more of the monitor's term deltas were pending "
                                                           "than a reader folds (the fold job catches up); the "
                                                           "counts leave those mentions out"},
            "terms": {"type": "array", "items": _ref("Term")}}})}, "404": ERROR, **BAD}}}
